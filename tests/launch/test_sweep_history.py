"""One sweep per folder at a time; the records of the earlier ones kept (naga.launch.record.claim).

The reproduction of issue 20, through real processes: a detached submitit_local sweep
still running in ``results/busy``, then at once a second sweep into the same folder. The
second is refused with one line before it writes anything; the first's sweep.lock, its
jobs and ``naga status`` carry on untouched to the end; a third sweep, after both, moves
the first's record to the folder's history, where it stays readable.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from helpers import one_line_error

from naga.errors import UsageError
from naga.launch.record.files import HISTORY_DIR, history
from naga.launch.record.sweeplock import JobRecord, SweepState
from naga.launch.record.sync import update_jobs
from naga.lock.format import dumps
from naga.lock.liveness import pid_start
from naga.lock.record import host

Run = Callable[..., subprocess.CompletedProcess[str]]


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def detached(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a ``--detach`` command to its own exit, its output in files as on a terminal.

    Its submitit_local jobs inherit its stdout and stderr: ``run_py``, which reads pipes to
    their end, would wait for the jobs too.
    """
    out, err = cwd.parent / "detach.out", cwd.parent / "detach.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, *args], cwd=cwd, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL
        )
        code = proc.wait(timeout=120)
    return subprocess.CompletedProcess(proc.args, code, out.read_text(), err.read_text())


@pytest.mark.slow
def test_a_busy_folder_refuses_a_second_sweep_and_a_third_keeps_the_first_record(
    detach_project: Path, run_py: Run, run_naga: Run
) -> None:
    first = detached(
        detach_project,
        "train.py",
        "-m",
        "lr=0.1,0.2",
        "sleep=6",
        "save_dir=results/busy",
        "hydra/launcher=submitit_local",
        "--detach",
    )
    assert first.returncode == 0, first.stderr
    root = detach_project / "results" / "busy"
    queued = load(root / "sweep.lock")
    sweep_id = queued["sweep_id"]

    second = run_py("train.py", "-m", "lr=0.1,0.2", "save_dir=results/busy", cwd=detach_project)
    assert second.returncode == 2, second.stdout + second.stderr
    line = one_line_error(second.stderr)
    assert line.startswith(
        f"train.py: error: save_dir results/busy: sweep {sweep_id[:8]} there still has 2 jobs "
        "queued or running; wait for it to end (naga status results/busy --watch), stop it (kill "
    ), line
    assert line.endswith("or give this sweep another save_dir")
    # Nothing of the second sweep was written: the record, the jobs' receipts are the first's.
    now = load(root / "sweep.lock")
    assert now["sweep_id"] == sweep_id
    assert now["launch"] == queued["launch"] and now["command"] == queued["command"]
    assert not (root / HISTORY_DIR).exists()
    for job in ("lr=0.1", "lr=0.2"):  # not started yet on a busy machine, or the first's
        path = root / job / "run.lock"
        assert not path.exists() or load(path)["extra"]["sweep"]["sweep_id"] == sweep_id

    watched = run_naga("status", "results/busy", "--watch", "--interval", "0.3", cwd=detach_project)
    assert watched.returncode == 0, watched.stdout + watched.stderr
    assert watched.stdout.rstrip().splitlines()[-1] == (
        "done: 2 jobs: 0 queued, 0 running, 2 completed, 0 failed, 0 interrupted, 0 lost"
    )
    final = load(root / "sweep.lock")
    assert final["sweep_id"] == sweep_id and final["status"] == "completed"
    assert [job["status"] for job in final["jobs"]] == ["completed", "completed"]
    for job in final["jobs"]:
        lock = load(root / job["name"] / "run.lock")
        assert lock["run_id"] == job["run_id"]
        assert lock["extra"]["sweep"]["sweep_id"] == sweep_id
    first_record = (root / "sweep.lock").read_bytes()

    third = run_py("train.py", "-m", "lr=0.1,0.2", "save_dir=results/busy", cwd=detach_project)
    assert third.returncode == 0, third.stderr
    newest = load(root / "sweep.lock")
    assert newest["sweep_id"] != sweep_id and newest["launcher"] == "basic"
    [kept] = history(root)
    assert kept.parent == root / HISTORY_DIR
    assert kept.name.endswith(f"_{sweep_id}.lock")
    assert kept.read_bytes() == first_record  # moved as it was, readable as before

    shown = run_naga("status", "results/busy", cwd=detach_project)
    assert shown.returncode == 0, shown.stderr
    assert f"id {newest['sweep_id'][:8]})" in shown.stdout.splitlines()[0]
    assert shown.stdout.splitlines()[1] == (
        f"  earlier sweeps here: 1, the last one in {HISTORY_DIR / kept.name}"
    )
    as_json = json.loads(run_naga("status", "results/busy", "--json", cwd=detach_project).stdout)
    assert as_json["sweep_id"] == newest["sweep_id"]
    assert as_json["history"] == [str(kept)]
    old = run_naga("status", str(kept), cwd=detach_project)
    assert old.returncode == 0, old.stderr
    assert f"id {sweep_id[:8]}, an earlier sweep, started" in old.stdout.splitlines()[0]
    assert old.stdout.splitlines()[-1] == (
        "2 jobs: 0 queued, 0 running, 2 completed, 0 failed, 0 interrupted, 0 lost"
    )
    refused = run_naga("resume", str(kept), cwd=detach_project)
    assert refused.returncode == 2
    assert "this is the record of an earlier sweep of" in one_line_error(refused.stderr)
    nothing = run_naga("resume", "results/busy", cwd=detach_project)  # the newest: done
    assert nothing.returncode == 0 and nothing.stdout.startswith("nothing to resume")


# -- the pieces ---------------------------------------------------------------------------


def _record(root: Path, sweep_id: str, **fields: object) -> Path:
    data = {
        "naga_sweep": 1,
        "sweep_id": sweep_id,
        "status": "running",
        "started_at": "2026-11-21T06:30:00+00:00",
        "launcher": "basic",
        "jobs": [{"num": 0, "name": "a", "overrides": [], "save_dir": "a", "status": "queued"}],
        **fields,
    }
    root.mkdir(parents=True, exist_ok=True)
    (root / "sweep.lock").write_text(dumps(data))
    return root / "sweep.lock"


def _state(root: Path) -> SweepState:
    job = JobRecord(num=0, name="a", overrides=[], save_dir=root / "a")
    return SweepState(root=root, jobs=[job], launcher="basic", app="x", command=[], overrides=[])


def test_a_job_writes_only_into_its_own_sweeps_record(tmp_path: Path) -> None:
    path = _record(tmp_path, "newer")
    before = path.read_bytes()
    assert update_jobs(tmp_path, {"a": {"status": "completed"}}, sweep_id="older") is False
    assert path.read_bytes() == before
    assert update_jobs(tmp_path, {"a": {"status": "running"}}, sweep_id="newer") is True
    assert load(path)["jobs"][0]["status"] == "running"


def test_the_first_write_refuses_a_sweep_that_started_meanwhile(tmp_path: Path) -> None:
    # The sweep that won the race: waiting in a live process (this one) on this host.
    live = {"pid": os.getpid(), "pid_start": pid_start(), "host": host(), "detached": False}
    path = _record(tmp_path, "winner", launch=live)
    before = path.read_bytes()
    with pytest.raises(UsageError, match=r"sweep winner there still has 1 job queued or running"):
        _state(tmp_path).write()
    assert path.read_bytes() == before
    assert history(tmp_path) == []


def test_the_first_write_moves_a_finished_record_and_later_writes_do_not(tmp_path: Path) -> None:
    path = _record(tmp_path, "old", status="completed")
    path.write_text(path.read_text().replace("status: queued", "status: completed"))
    before = path.read_bytes()
    state = _state(tmp_path)
    state.write()
    state.write()
    [kept] = history(tmp_path)
    assert kept.name == "20261121T063000Z_old.lock"
    assert kept.read_bytes() == before
    assert load(path)["sweep_id"] == state.sweep_id
    # A resumed sweep writes its own record again: nothing moves.
    again = _state(tmp_path)
    again.sweep_id = state.sweep_id
    again.write()
    assert history(tmp_path) == [kept]
