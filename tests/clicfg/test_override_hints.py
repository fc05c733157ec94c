"""What naga adds to Hydra's parser errors: the override as the user most likely meant it."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from naga.config.compose import likely_fix, parse_overrides
from naga.errors import ConfigError


@pytest.mark.parametrize(
    ("override", "hint"),
    [
        ("lr=[0.1", "; did you mean lr=[0.1]? (a closing ']' is missing)"),
        ("lr=[0.1,0.2", "; did you mean lr=[0.1,0.2]? (a closing ']' is missing)"),
        ("d={a:[1", "; did you mean d={a:[1]}? (a closing ']}' is missing)"),
        ("x=range(1,3", "; did you mean x=range(1,3)? (a closing ')' is missing)"),
        ("name='abc", "; did you mean name='abc'? (the ' quote is not closed)"),
        ('name="a b', '; did you mean name="a b"? (the " quote is not closed)'),
        ("lr=0.1]", "; the ']' closes nothing: open it with '[' or quote the value"),
        ("lr=[0.1)", "; the ')' does not close the open bracket: write ']'"),
        ("name='[x'", ""),  # brackets inside quotes are text
        ("lr=[0.1]", ""),
        ("~lr", ""),
    ],
)
def test_likely_fix(override: str, hint: str) -> None:
    assert likely_fix(override) == hint


def test_the_hint_follows_hydras_message() -> None:
    base = OmegaConf.create({"lr": 0.1})
    with pytest.raises(
        ConfigError, match=r"^invalid override: no viable alternative at input '\[0.1'"
    ):
        parse_overrides(base, ["lr=[0.1"], sweep_allowed=False)
    with pytest.raises(
        ConfigError, match=r"; did you mean lr=\[0.1\]\? \(a closing '\]' is missing\)$"
    ):
        parse_overrides(base, ["lr=[0.1"], sweep_allowed=False)
