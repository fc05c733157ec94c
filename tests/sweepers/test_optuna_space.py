"""Hydra's sweep grammar as Optuna distributions, and suggested values back as overrides."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

optuna = pytest.importorskip("optuna")

from naga.errors import ConfigError  # noqa: E402
from naga.launch.sweepers.optuna_space import override_value, parse_space  # noqa: E402


def _parsed_value(text: str) -> object:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    (override,) = OverridesParser.create().parse_overrides([f"key={text}"])
    return override.value()


@given(
    st.one_of(
        st.booleans(),
        st.integers(min_value=-(2**62), max_value=2**62),
        st.floats(allow_nan=False),
        st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=20),
    )
)
def test_an_override_value_reads_back_equal(value: object) -> None:
    parsed = _parsed_value(override_value(value))  # type: ignore[arg-type]
    assert type(parsed) is type(value)
    assert parsed == value or (isinstance(value, float) and math.isnan(value))


def test_the_grammar_maps_to_distributions() -> None:
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    space = parse_space(
        [
            "lr=tag(log, interval(1e-4, 0.1))",
            "dropout=interval(0, 0.5)",
            "width=int(interval(8, 64))",
            "layers=range(1, 5)",
            "scale=range(0.1, 1.0, 0.2)",
            "act=choice(relu, tanh)",
            "seed=0,1,2",
            "epochs=10",
        ]
    )
    d = space.distributions
    assert d["lr"] == FloatDistribution(1e-4, 0.1, log=True)
    assert d["dropout"] == FloatDistribution(0.0, 0.5)
    assert d["width"] == IntDistribution(8, 64)
    assert d["layers"] == IntDistribution(1, 4)  # Hydra's range excludes its stop
    assert d["scale"].low == pytest.approx(0.1) and d["scale"].high == pytest.approx(0.9)
    assert d["act"] == CategoricalDistribution(["relu", "tanh"])
    assert d["seed"] == CategoricalDistribution([0, 1, 2])
    assert space.fixed == ("epochs=10",)
    assert space.overrides(
        {
            "lr": 0.01,
            "dropout": 0.25,
            "width": 9,
            "layers": 2,
            "scale": 0.3,
            "act": "tanh",
            "seed": 1,
        }
    ) == [
        "epochs=10",
        "lr=0.01",
        "dropout=0.25",
        "width=9",
        "layers=2",
        "scale=0.3",
        "act=tanh",
        "seed=1",
    ]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("lr=interval(0.1, 0.01)", "start < end"),
        ("lr=tag(log, interval(0, 1))", "start above 0"),
        ("n=range(5, 1)", "holds no value"),
        ("n=tag(log, range(1, 9, 2))", "takes no step"),
        ("files=glob(*)", "cannot search a Glob"),
        ("arch=choice([1,2],[3])", "plain values"),
        ("lr=interval(0.1", "not a search-space expression"),
    ],
)
def test_a_bad_expression_is_one_line(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        parse_space([override])
    assert "\n" not in str(info.value)
    assert str(info.value).startswith(override.split("=", maxsplit=1)[0])
