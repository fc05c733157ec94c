"""The receipt's integrity digest (naga.lock.format): sealed at every write, checked on read."""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from naga.lock.format import DIGEST_KEY, check_digest, dumps, loads, read_lock, receipt_digest
from naga.lock.writer import update_lock

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False)
    | st.text()
)
trees = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8) | st.integers(), children, max_size=4)
    ),
    max_leaves=20,
)
configs = st.dictionaries(st.text(max_size=10), trees, max_size=5)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(config=configs)
def test_a_written_receipt_reads_back_intact(tmp_path: Path, config: dict) -> None:
    path = tmp_path / "run.lock"
    update_lock(path, {"naga_lock": 1, "run_id": "r", "config": config})
    update_lock(path, {"naga_lock": 1, "run_id": "r", "metrics": {"loss": 0.5}})  # a merge
    lock = read_lock(path)
    assert check_digest(lock) is True
    assert path.read_text().splitlines()[-1].startswith(f"{DIGEST_KEY}: sha256:")
    # Layout alone is not content: the same data written by plain PyYAML still matches.
    path.write_text(yaml.safe_dump(lock, default_flow_style=True, width=40))
    assert check_digest(read_lock(path)) is True


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(config=configs, value=scalars)
def test_any_edit_of_a_value_breaks_the_seal(config: dict, value: object) -> None:
    record = {"naga_lock": 1, "run_id": "r", "config": config, "metrics": {"acc": 0.91}}
    record[DIGEST_KEY] = receipt_digest(record)
    sealed = loads(dumps(record))
    assert check_digest(sealed) is True
    edited = {**sealed, "metrics": {"acc": value}}
    assert check_digest(edited) is (value == 0.91 and type(value) is float)


def test_one_and_the_string_one_are_different_content() -> None:
    assert receipt_digest({"config": {"a": 1}}) != receipt_digest({"config": {"a": "1"}})
    assert receipt_digest({"config": {1: "a"}}) != receipt_digest({"config": {"1": "a"}})
    assert receipt_digest({"config": {"a": 1}}) == receipt_digest(
        {"config": {"a": 1}, DIGEST_KEY: "sha256:whatever"}
    )


def test_a_receipt_without_a_digest_still_reads() -> None:
    assert check_digest({"naga_lock": 1, "run_id": "old"}) is None
