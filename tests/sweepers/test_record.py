"""How a study reads its trials' run.locks (naga.launch.sweepers.record, .slots.Watch).

The receipts here are written with naga's own YAML writer, field by field, to pin what
each state of a receipt means for the study: the full receipts come from the subprocess
tests in test_optuna_cli.py.
"""

from __future__ import annotations

import os
from pathlib import Path

from naga.launch.sweepers.record import finished_outcome, outcome_of, trial_name
from naga.launch.sweepers.slots import Watch
from naga.lock.format import dumps
from naga.lock.liveness import pid_start


def _receipt(folder: Path, *, sweep_id: str = "s1", **fields: object) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lock = {
        "naga_lock": 1,
        "run_id": "r",
        "host": os.uname().nodename,
        "extra": {"sweep": {"sweep_id": sweep_id, "trial": 3}},
        **fields,
    }
    (folder / "run.lock").write_text(dumps(lock))


def test_trial_folders_sort_by_number() -> None:
    assert [trial_name(n) for n in (0, 7, 123, 12345)] == [
        "trial_0000", "trial_0007", "trial_0123", "trial_12345",
    ]  # fmt: skip


def test_a_completed_receipt_gives_its_metrics(tmp_path: Path) -> None:
    _receipt(tmp_path / "t", status="completed", metrics={"loss": 0.5, "acc": 0.9})
    outcome = outcome_of(3, tmp_path / "t", sweep_id="s1")
    assert (outcome.status, dict(outcome.metrics), outcome.error) == (
        "completed", {"loss": 0.5, "acc": 0.9}, None,
    )  # fmt: skip
    assert finished_outcome(3, tmp_path / "t", sweep_id="s1") == outcome


def test_a_failed_receipt_gives_its_error_line(tmp_path: Path) -> None:
    error = {"type": "RuntimeError", "message": "layers=3 diverged\nmore"}
    _receipt(tmp_path / "t", status="failed", error=error)
    outcome = outcome_of(3, tmp_path / "t", sweep_id="s1")
    assert (outcome.status, outcome.error) == ("failed", "RuntimeError: layers=3 diverged")


def test_no_receipt_or_another_sweeps_is_lost(tmp_path: Path) -> None:
    assert outcome_of(3, tmp_path / "none", sweep_id="s1").status == "lost"
    _receipt(tmp_path / "old", sweep_id="other", status="completed", metrics={"loss": 1})
    assert outcome_of(3, tmp_path / "old", sweep_id="s1").status == "lost"
    assert finished_outcome(3, tmp_path / "old", sweep_id="s1") is None


def test_a_running_receipt_is_not_finished_until_its_process_is_gone(tmp_path: Path) -> None:
    alive = {"pid": os.getpid(), "pid_start": pid_start()}
    _receipt(tmp_path / "t", status="running", **alive)
    assert finished_outcome(3, tmp_path / "t", sweep_id="s1") is None
    watch = Watch(tmp_path, "s1")
    folder = tmp_path / trial_name(3)
    _receipt(folder, status="running", **alive)
    watch.add(3, None)
    assert watch.poll() == []  # this very process: still running
    _receipt(folder, status="running", pid=2**22 + 12345, pid_start="gone")
    (ended,) = watch.poll()  # its process is gone: lost, and no longer watched
    assert (ended.number, ended.status) == (3, "lost")
    assert watch.watched == {}


def test_watch_returns_a_trial_once_its_receipt_is_final(tmp_path: Path) -> None:
    watch = Watch(tmp_path, "s1")
    watch.add(4, None)
    assert watch.poll() == []  # no receipt yet, no Slurm job to ask: still waiting
    _receipt(tmp_path / trial_name(4), status="completed", metrics={"loss": 2.0})
    (ended,) = watch.poll()
    assert (ended.number, ended.status, dict(ended.metrics)) == (4, "completed", {"loss": 2.0})
