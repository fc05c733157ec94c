"""How ``naga diff`` and ``naga rerun`` compare metrics: exact, or within a tolerance."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from naga.commands._compare import Tolerance, compare_metrics, metric_lines

numbers = st.one_of(st.integers(-(10**6), 10**6), st.floats(allow_nan=True, allow_infinity=True))


def statuses(old: dict, new: dict, tolerance: Tolerance | None = None) -> dict[str, str]:
    return {row.name: row.status for row in compare_metrics(old, new, tolerance)}


def test_each_metric_is_identical_within_different_or_on_one_side():
    old = {"loss": 0.25, "acc": 0.9, "n": 10, "gone": 1.0, "nan": math.nan}
    new = {"loss": 0.25 * (1 + 1e-9), "acc": 0.8, "n": 10.0, "nan": math.nan, "new": 2}
    assert statuses(old, new, Tolerance(rtol=1e-6)) == {
        "loss": "within",
        "acc": "different",
        "n": "identical",  # one number, whether written 10 or 10.0
        "gone": "only in original",
        "nan": "identical",  # a nan reproduces a nan
        "new": "only in rerun",
    }
    assert statuses(old, new)["loss"] == "different"  # no tolerance: identical or not


@pytest.mark.parametrize(
    ("a", "b", "tolerance", "close"),
    [
        (1.0, 1.0 + 1e-7, Tolerance(rtol=1e-6), True),
        (1.0, 1.0 + 1e-5, Tolerance(rtol=1e-6), False),
        (0.0, 1e-9, Tolerance(rtol=1e-6), False),  # relative to zero is nothing
        (0.0, 1e-9, Tolerance(atol=1e-8), True),
        (100.0, 100.5, Tolerance(rtol=1e-3, atol=1.0), True),  # the larger bound counts
        (math.inf, math.inf, Tolerance(rtol=1.0), True),
        (math.nan, 1.0, Tolerance(atol=math.inf), False),
    ],
)
def test_tolerance_is_symmetric_max_of_relative_and_absolute(a, b, tolerance, close):
    assert tolerance.close(a, b) is close
    assert tolerance.close(b, a) is close


def test_tolerance_label_says_what_was_given():
    assert Tolerance(rtol=1e-6).label() == "rtol=1e-06"
    assert Tolerance(rtol=1e-6, atol=0.001).label() == "rtol=1e-06, atol=0.001"
    assert not Tolerance()


@given(st.dictionaries(st.text(min_size=1, max_size=5), numbers, max_size=6))
def test_a_run_reproduces_its_own_metrics(metrics):
    assert set(statuses(metrics, dict(metrics)).values()) <= {"identical"}
    assert metric_lines(metrics, dict(metrics)) == []


def test_metric_lines_show_full_precision():
    assert metric_lines({"loss": 0.1 + 0.2}, {"loss": 0.3}) == ["loss: 0.30000000000000004 → 0.3"]


# -- naga rerun's verdict, in-process on two real run directories ------------------------


def _receipt(directory, status: str, **fields) -> None:
    from naga.lock.format import dumps

    directory.mkdir(parents=True, exist_ok=True)
    lock = {"naga_lock": 1, "run_id": "r" * 32, "status": status, **fields}
    (directory / "run.lock").write_text(dumps(lock))


def test_rerun_verdict_needs_a_completed_original_and_a_readable_rerun(tmp_path, capsys):
    from naga.commands._reproduce import judge
    from naga.results.locks import load_run

    config = {"lr": 0.1, "save_dir": str(tmp_path / "a")}
    _receipt(tmp_path / "a", "failed", config=config, metrics={"loss": 0.5})
    _receipt(tmp_path / "b", "completed", config={**config, "save_dir": "b"}, metrics={"loss": 0.5})
    for run in ("a", "b"):
        (tmp_path / run / "model.txt").write_text("w\n")
    original = load_run(tmp_path / "a")

    def verdict(out, tolerance=None):
        status = judge(
            original,
            expected_config=config,
            out=out,
            inputs_drifted=0,
            exclude=[],
            tolerance=tolerance or Tolerance(),
        )
        return status, capsys.readouterr().out.splitlines()[-1]

    assert verdict(tmp_path / "b") == (
        1,
        "not reproduced: the original run did not complete (failed)",
    )
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "model.txt").write_text("w\n")
    status, line = verdict(tmp_path / "c")
    assert status == 1
    assert line.startswith("not reproduced: the original run did not complete (failed); the rerun")
    assert "run.lock cannot be read" in line
