"""In-process tests of the pieces: rendering, config flattening, diff properties."""

from __future__ import annotations

import copy
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from naga.commands import _render as r
from naga.commands.diff import compare
from naga.lock.metrics import flatten
from naga.results.locks import Run, comparable_config


def test_duration_forms():
    assert [r.duration(s) for s in (0.421, 12.34, 245, 7380, None)] == [
        "0.42s",
        "12.3s",
        "4m05s",
        "2h03m",
        "-",
    ]


def test_value_quotes_only_ambiguous_strings():
    assert [r.value(v) for v in (None, True, 0.1, "abc", "true", "", [1, "a"])] == [
        "null",
        "true",
        "0.1",
        "abc",
        '"true"',
        '""',
        '[1, "a"]',
    ]


def test_table_aligns_columns():
    assert r.table(["A", "BB"], [["xyz", "1"], ["q", "22"]]).splitlines() == [
        "A    BB",
        "xyz  1",
        "q    22",
    ]


def test_timestamp_is_shown_in_utc():
    assert r.timestamp("2026-11-21T08:30:00.5+02:00") == "2026-11-21 06:30:00 UTC"
    assert r.timestamp(None) == "-"


keys = st.text(alphabet="abcdefghij_", min_size=1, max_size=6)
leaves = st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans(), st.text(max_size=5))
configs = st.recursive(
    st.dictionaries(keys, leaves, max_size=4),
    lambda inner: st.dictionaries(keys, st.one_of(leaves, inner), max_size=4),
    max_leaves=12,
)


def _run(config: dict) -> Run:
    return Run(
        path=Path("/r/run.lock"), lock={"naga_lock": 1, "status": "completed", "config": config}
    )


@given(configs)
def test_a_run_is_equivalent_to_itself(config):
    assert compare(_run(config), _run(copy.deepcopy(config))) == {}


@given(configs, st.data())
def test_every_changed_leaf_is_reported_under_its_dotted_key(config, data):
    flat = comparable_config(_run(config))
    leaf_keys = [k for k, v in flat.items() if not isinstance(v, dict)]
    if not leaf_keys:
        return
    key = data.draw(st.sampled_from(leaf_keys))
    changed = copy.deepcopy(config)
    target = changed
    parts = key.split(".")
    for part in parts[:-1]:
        target = target[part]
    target[parts[-1]] = ["a value no strategy draws"]
    lines = compare(_run(config), _run(changed))["config"]
    assert lines == [f"{key}: {r.value(flat[key])} → {r.value(['a value no strategy draws'])}"]


@given(configs)
def test_flatten_keeps_every_leaf(config):
    flat = flatten(config)

    def count(tree):
        if not isinstance(tree, dict) or not tree:
            return 1
        return sum(count(v) for v in tree.values())

    assert len(flat) == (count(config) if config else 0)
