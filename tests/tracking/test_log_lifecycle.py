"""``naga log`` maps a run's life to MLflow, checked with the MLflow client (issue 20).

Four runs made for real in one results folder -- one completes, one raises, one gets a
SIGTERM, one a SIGKILL -- then ``naga log results`` (the folder, which is no run itself):

| run.lock        | MLflow status | naga.status |
| completed       | FINISHED      | active      |
| failed          | FAILED        | failed      |
| interrupted     | KILLED        | interrupted |
| lost (SIGKILL)  | KILLED        | lost        |

and no MLflow run for ``results`` itself. The README's one-clean-row filter
(``tags."naga.status" = "active"``) shows the completed run only; a failed rerun of the
good directory never deprecates its active run.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import APPS

pytestmark = pytest.mark.slow


@pytest.fixture
def project(weird_tmp_path: Path, make_git_repo, template_db: Path) -> Path:
    """tests/apps/detach's job.py in a git repo with an awkward path, and a ./mlflow.db."""
    files = {name: (APPS / "detach" / name).read_text() for name in ("job.py", "helper.py")}
    root = make_git_repo(weird_tmp_path / "proj", {**files, ".gitignore": "results/\nmlruns/\n"})
    shutil.copyfile(template_db, root / "mlflow.db")
    return root


def _start(project: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "job.py", *args],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def _signalled(project: Path, name: str, sig: signal.Signals) -> None:
    """Run a job that sleeps, and send it ``sig`` once the user's function runs."""
    proc = _start(project, "param=3", "sleep=60", "sleep_param=3", f"save_dir=results/{name}")
    started = project / "results" / name / "started"
    deadline = time.monotonic() + 60
    while not started.exists():
        assert time.monotonic() < deadline, f"{name} never started"
        assert proc.poll() is None, f"{name} ended early"
        time.sleep(0.05)
    proc.send_signal(sig)
    proc.wait(timeout=60)


def _status(project: Path, name: str) -> str:
    return yaml.safe_load((project / "results" / name / "run.lock").read_text())["status"]


def _by_dir(client: Any) -> dict[str, Any]:
    runs = client.search_runs(["0"])
    return {Path(run.data.tags["naga.logical_run_id"]).name: run for run in runs}


def test_naga_log_maps_completed_failed_interrupted_and_lost(
    project: Path, run_py, run_naga
) -> None:
    from mlflow import MlflowClient

    assert run_py("job.py", "param=1", "save_dir=results/ok", cwd=project).returncode == 0
    failed = run_py("job.py", "param=2", "fail_param=2", "save_dir=results/bad", cwd=project)
    assert failed.returncode == 1
    _signalled(project, "term", signal.SIGTERM)
    _signalled(project, "kill", signal.SIGKILL)
    assert [_status(project, name) for name in ("ok", "bad", "term", "kill")] == [
        "completed",
        "failed",
        "interrupted",
        "running",  # SIGKILL leaves no time to write: readers call it lost
    ]

    logged = run_naga("log", "results", cwd=project)
    assert logged.returncode == 0, logged.stdout + logged.stderr
    lines = logged.stdout.splitlines()
    assert lines[0] == "naga log: results holds no run.lock of its own; logging the 4 runs below it"
    assert "logged results/bad -> run " in logged.stdout
    assert "(failed: MLflow FAILED, never active)" in logged.stdout
    assert "(lost: MLflow KILLED, never active)" in logged.stdout
    assert "\nnaga log: 4 logged, 0 skipped, 0 failed (experiment 'Default'" in logged.stdout

    client = MlflowClient("sqlite:///" + (project / "mlflow.db").resolve().as_posix())
    runs = _by_dir(client)
    assert sorted(runs) == ["bad", "kill", "ok", "term"]  # nothing for `results` itself
    outcome = {
        name: (run.info.status, run.data.tags["naga.status"], run.data.tags["naga.lock_status"])
        for name, run in runs.items()
    }
    assert outcome == {
        "ok": ("FINISHED", "active", "completed"),
        "bad": ("FAILED", "failed", "failed"),
        "term": ("KILLED", "interrupted", "interrupted"),
        "kill": ("KILLED", "lost", "running"),
    }
    assert all("naga.log_error" not in run.data.tags for run in runs.values())
    clean = client.search_runs(["0"], filter_string="tags.`naga.status` = 'active'")
    assert [run.info.run_id for run in clean] == [runs["ok"].info.run_id]

    again = run_naga("log", "results", cwd=project)
    assert again.returncode == 0, again.stderr
    assert "\nnaga log: 0 logged, 4 skipped, 0 failed (experiment" in again.stdout
    assert f"already logged as run {runs['bad'].info.run_id} (failed)" in again.stdout

    # The good directory is run again and fails: logged as failed, its good run stays active.
    broken = run_py("job.py", "param=2", "fail_param=2", "save_dir=results/ok", cwd=project)
    assert broken.returncode == 1
    assert run_naga("log", "results/ok", cwd=project).returncode == 0
    ok_runs = [
        run
        for run in client.search_runs(["0"])
        if run.data.tags["naga.logical_run_id"].endswith("/results/ok")
    ]
    assert sorted(run.data.tags["naga.status"] for run in ok_runs) == ["active", "failed"]
    active = next(run for run in ok_runs if run.data.tags["naga.status"] == "active")
    assert active.info.run_id == runs["ok"].info.run_id
    assert "naga.superseded_by" not in active.data.tags


def test_a_folder_without_runs_is_not_logged(project: Path, run_naga) -> None:
    # A sweep's copy of the code its jobs imported may hold a committed run.lock: no run.
    code = project / "results" / "empty" / ".naga-sweep" / "code" / "c0ffee" / "old"
    code.mkdir(parents=True)
    (code / "run.lock").write_text("naga_lock: 1\nrun_id: r\nstatus: completed\n")
    result = run_naga("log", "results/empty", cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        "[1/1] skipped results/empty: no run.lock here or below; not a run"
    )
    from mlflow import MlflowClient

    client = MlflowClient("sqlite:///" + (project / "mlflow.db").resolve().as_posix())
    assert client.search_runs(["0"]) == []
    assert os.listdir(project / "results" / "empty") == [".naga-sweep"]
