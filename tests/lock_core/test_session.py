"""The current run: start_run/finish_run and their merge with explicit runlock() calls.

In-process tests use track_code=False: the test functions live in the naga checkout
itself, whose repository must not receive snapshot refs. Code tracking is tested through
subprocess scripts in fresh repositories (test_scripts.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from naga.errors import LockError
from naga.lock import api
from naga.lock.api import runlock
from naga.lock.format import read_lock
from naga.lock.resolvers import register_resolvers, reset_declared
from naga.lock.session import current_run, finish_run, lock_path_for, start_run


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    api._reset_process_runs()
    reset_declared()
    monkeypatch.chdir(tmp_path)
    yield
    reset_declared()


def user_main(cfg: object) -> None:
    """Stands for the user's decorated function."""


def test_completed_run_record(tmp_path: Path) -> None:
    cfg = OmegaConf.create({"param": 10, "save_dir": "results/process", "token": "t0p"})
    ctx = start_run(lock_path=lock_path_for(cfg), function=user_main, extra={"slurm_job_id": 77})
    assert current_run() is ctx
    path = finish_run(ctx, config=cfg, status="completed", track_code=False)
    assert current_run() is None
    assert path == tmp_path / "results/process/run.lock"
    lock = read_lock(path)
    assert lock["run_id"] == ctx.run_id
    assert lock["status"] == "completed"
    started = datetime.fromisoformat(lock["started_at"])
    finished = datetime.fromisoformat(lock["finished_at"])
    assert started.utcoffset().total_seconds() == 0
    assert finished >= started
    assert lock["duration_s"] == pytest.approx((finished - started).total_seconds(), abs=1e-5)
    assert lock["config"] == {"param": 10, "save_dir": "results/process", "token": "***"}
    assert lock["redacted"] == ["token"]
    assert lock["script"]["function"] == "user_main"
    assert lock["script"]["path"] == "tests/lock_core/test_session.py"
    assert lock["slurm_job_id"] == "77"
    assert lock["slurm_id"] == "77"  # the id scancel takes, for a job outside an array
    assert lock["error"] is None
    assert lock["repos"] == {}


def test_explicit_runlock_and_final_record_merge(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text("x")
    cfg = {"save_dir": "out", "secret_sauce": "ketchup"}
    ctx = start_run(lock_path=lock_path_for(cfg), function=user_main, launcher="basic")
    runlock(cfg, data=["in.csv"], redact=["sauce"])
    mid = read_lock(tmp_path / "out/run.lock")
    assert mid["status"] == "running"
    assert mid["run_id"] == ctx.run_id
    assert "finished_at" not in mid
    finish_run(ctx, config=cfg, status="completed", track_code=False)
    lock = read_lock(tmp_path / "out/run.lock")
    assert lock["status"] == "completed"
    assert lock["launcher"] == "basic"
    assert set(lock["data"]) == {"in.csv"}  # kept from the explicit call
    assert lock["config"]["secret_sauce"] == "***"  # redaction stays in force


def test_failed_run_records_error() -> None:
    cfg = {"save_dir": "out"}
    ctx = start_run(lock_path=lock_path_for(cfg), function=user_main)
    try:
        1 / 0  # noqa: B018 - the user's bug
    except ZeroDivisionError as exc:
        error = exc
    finish_run(ctx, config=cfg, status="failed", error=error, track_code=False)
    lock = read_lock(Path("out/run.lock"))
    assert lock["status"] == "failed"
    assert lock["error"]["type"] == "ZeroDivisionError"
    assert lock["error"]["message"] == "division by zero"
    assert "1 / 0" in lock["error"]["traceback"]


def _break_dir(path: Path) -> None:
    """Something replaces the run's directory with a file while the run is going."""
    import shutil

    shutil.rmtree(path)
    path.write_text("a file where save_dir should be")


def test_lock_problem_after_user_error_only_warns(tmp_path: Path) -> None:
    ctx = start_run(lock_path=tmp_path / "out" / "run.lock", function=user_main)
    _break_dir(tmp_path / "out")
    with pytest.warns(RuntimeWarning, match="could not write run.lock after the run failed"):
        result = finish_run(ctx, config={}, status="failed", error=KeyError("k"), track_code=False)
    assert result is None
    assert current_run() is None


def test_lock_problem_at_start_raises_before_the_run(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("not a dir")
    with pytest.raises(LockError, match="cannot create"):
        start_run(lock_path=tmp_path / "out" / "run.lock", function=user_main)
    assert current_run() is None


def test_lock_problem_after_success_raises(tmp_path: Path) -> None:
    ctx = start_run(lock_path=tmp_path / "out" / "run.lock", function=user_main)
    _break_dir(tmp_path / "out")
    with pytest.raises(LockError, match="cannot create"):
        finish_run(ctx, config={}, status="completed", track_code=False)
    assert current_run() is None


def test_bad_status_is_refused() -> None:
    ctx = start_run(lock_path=None)
    with pytest.raises(LockError, match="not a valid status; use one of completed, failed"):
        finish_run(ctx, config={}, status="done")
    assert current_run() is None


def test_no_lock_path_but_explicit_runlock_path(tmp_path: Path) -> None:
    ctx = start_run(lock_path=None, function=user_main)
    assert finish_run(start_run(lock_path=None), config={}, status="completed") is None
    runlock({"a": 1}, runlock_path="elsewhere/run.lock")
    assert finish_run(ctx, config={"a": 1}, status="completed", track_code=False) == (
        tmp_path / "elsewhere/run.lock"
    )
    assert read_lock(tmp_path / "elsewhere/run.lock")["status"] == "completed"


def test_runlock_inside_run_defaults_to_run_lock_path(tmp_path: Path) -> None:
    ctx = start_run(lock_path=tmp_path / "r" / "run.lock", function=user_main)
    assert runlock() == tmp_path / "r" / "run.lock"
    assert runlock({"no_save_dir": 1}) == tmp_path / "r" / "run.lock"
    finish_run(
        ctx, config={"x": 1}, status="interrupted", error=KeyboardInterrupt(), track_code=False
    )
    assert read_lock(tmp_path / "r/run.lock")["status"] == "interrupted"


def test_declared_data_recorded_by_finish(tmp_path: Path) -> None:
    register_resolvers()
    (tmp_path / "in.csv").write_text("abc")
    reset_declared()
    cfg = OmegaConf.create({"input_path": "${runlock_data:in.csv}", "save_dir": "o"})
    ctx = start_run(lock_path=lock_path_for(cfg), function=user_main)
    finish_run(ctx, config=cfg, status="completed", track_code=False)
    assert read_lock(tmp_path / "o/run.lock")["data"]["in.csv"]["size"] == 3


def test_runs_in_threads_are_separate(tmp_path: Path) -> None:
    ids: dict[int, str] = {}

    def job(i: int) -> None:
        ctx = start_run(lock_path=tmp_path / f"job{i}" / "run.lock", function=user_main)
        runlock({"i": i})
        assert current_run() is ctx
        finish_run(ctx, config={"i": i}, status="completed", track_code=False)
        ids[i] = ctx.run_id

    threads = [threading.Thread(target=job, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for i in range(4):
        lock = read_lock(tmp_path / f"job{i}/run.lock")
        assert lock["run_id"] == ids[i]
        assert lock["config"] == {"i": i}
    assert current_run() is None


def test_nested_runs_restore_outer() -> None:
    outer = start_run(lock_path=None)
    inner = start_run(lock_path=None)
    assert current_run() is inner
    finish_run(inner, config={}, status="completed")
    assert current_run() is outer
    finish_run(outer, config={}, status="completed")
    assert current_run() is None


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"SLURM_JOB_ID": "34", "SLURM_ARRAY_JOB_ID": "33", "SLURM_ARRAY_TASK_ID": "0"}, "33_0"),
        ({"SLURM_JOB_ID": "35"}, "35"),
        ({}, None),
    ],
    ids=["array task", "plain job", "no Slurm"],
)
def test_slurm_ids_keep_slurms_variables_and_add_the_one_scancel_takes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str | None
) -> None:
    for name in ("SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    cfg = OmegaConf.create({"save_dir": "results/s"})
    ctx = start_run(lock_path=lock_path_for(cfg), function=user_main)
    lock = read_lock(finish_run(ctx, config=cfg, status="completed", track_code=False))
    assert lock["slurm_job_id"] == env.get("SLURM_JOB_ID")
    assert lock["slurm_array_job_id"] == env.get("SLURM_ARRAY_JOB_ID")
    assert lock["slurm_array_task_id"] == env.get("SLURM_ARRAY_TASK_ID")
    assert lock["slurm_id"] == expected


@pytest.mark.parametrize(
    ("spec", "argv", "expected"),
    [
        (None, ["train.py", "lr=1"], ["train.py", "lr=1"]),
        ("pkg.train", ["/abs/pkg/train.py", "lr=1"], ["-m", "pkg.train", "lr=1"]),
        ("pkg.__main__", ["/abs/pkg/__main__.py"], ["-m", "pkg"]),
    ],
    ids=["script", "python -m pkg.mod", "python -m pkg"],
)
def test_user_command_gives_back_what_was_typed(
    monkeypatch: pytest.MonkeyPatch, spec: str | None, argv: list[str], expected: list[str]
) -> None:
    """Python puts the module's file into sys.argv for `-m`; the receipt says `-m` again."""
    import sys
    import types
    from importlib.machinery import ModuleSpec

    from naga.lock.origin import user_command

    main = types.ModuleType("__main__")
    main.__spec__ = ModuleSpec(spec, None) if spec else None
    monkeypatch.setitem(sys.modules, "__main__", main)
    monkeypatch.setattr(sys, "argv", argv)
    assert user_command() == expected
