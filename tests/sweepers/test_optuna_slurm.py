"""A study on the real one-node Slurm cluster: detached controller, ``scancel``, resume.

The controller is submitted as its own small Slurm job (``--detach``); the test cancels it
while a trial runs, checks that ``naga status`` says so, and resumes it detached
(``naga resume --detach`` submits a new controller). The trial that outlived its
controller is waited for and told, not failed; exactly ``n_trials`` trials complete; the
receipts written before the cancel are left byte for byte.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

pytest.importorskip("optuna")
pytestmark = [pytest.mark.slurm, pytest.mark.slow]

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def tmp_path(tmp_path: Path) -> Path:
    """pytest's own tmp dir, not the hostile one: submitit writes job paths into line-based
    #SBATCH directives, where a newline would split them (a limit of sbatch scripts)."""
    return tmp_path.parent


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def wait_for(predicate: Callable[[], object], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def statuses(root: Path) -> dict[str, str]:
    found = {}
    for lock in root.glob("trial_*/run.lock"):
        try:
            found[lock.parent.name] = str(load(lock)["status"])
        except (OSError, TypeError, KeyError, yaml.YAMLError):
            continue  # being replaced right now
    return found


def digests(root: Path) -> dict[str, str]:
    return {
        lock.parent.name: hashlib.sha256(lock.read_bytes()).hexdigest()
        for lock in root.glob("trial_*/run.lock")
        if statuses(root).get(lock.parent.name) == "completed"
    }


def test_a_detached_study_survives_scancel_of_its_controller(
    search_project: Path, run_py: Run, run_naga: Run, slurm_cluster: dict[str, str]
) -> None:
    # mem_gb: the one-node cluster has no default memory per CPU; without it each job would
    # take the whole node's memory and run alone.
    (search_project / "slurm.yaml").write_text(
        "partition: debug\ntimeout_min: 5\ncpus_per_task: 1\nmem_gb: 1\n"
    )
    env = slurm_cluster
    started = time.monotonic()
    submitted = run_py(
        "train.py", "-m", "hydra/sweeper=naga_optuna", "hydra.sweeper.objective=loss",
        "hydra.sweeper.n_trials=5", "hydra.sweeper.n_jobs=2",
        "lr=tag(log, interval(1e-4, 1))", "long=12", "short=1",
        "--slurm_config", "slurm.yaml", "--detach", cwd=search_project, env=env,
    )  # fmt: skip
    assert submitted.returncode == 0, submitted.stderr
    assert time.monotonic() - started < 30  # the shell is back at once
    assert submitted.stdout.startswith("submitted the study controller (Slurm job ")
    root = search_project / "results" / "study"
    controller = str(load(root / "sweep.lock")["controller"]["slurm_job_id"])

    # Cancel the controller once a trial completed while another (12 s) still runs.
    wait_for(
        lambda: {"completed", "running"} <= set(statuses(root).values()),
        timeout=180,
        what="a completed trial beside a running one",
    )
    subprocess.run(["scancel", controller], env={**os.environ, **env}, check=True)
    before = digests(root)
    wait_for(
        lambda: (
            "stopped" in run_naga("status", "results/study", cwd=search_project, env=env).stdout
        ),
        timeout=60,
        what="naga status to see the controller stopped",
    )
    shown = run_naga("status", "results/study", cwd=search_project, env=env)
    assert f"controller: Slurm job {controller}, stopped; continue it with naga resume" in (
        shown.stdout
    )

    resumed = run_naga("resume", "results/study", "--detach", cwd=search_project, env=env)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "resuming study study in results/study" in resumed.stdout
    assert "submitted the study controller (Slurm job " in resumed.stdout
    wait_for(
        lambda: load(root / "sweep.lock").get("status") in ("completed", "failed"),
        timeout=300,
        what="the resumed study to end",
    )
    summary = load(root / "sweep.lock")
    assert summary["status"] == "completed", summary
    assert str(summary["controller"]["slurm_job_id"]) != controller
    final = statuses(root)
    assert sorted(name for name, status in final.items() if status == "completed") == [
        f"trial_{n:04d}" for n in range(5)
    ]  # the trial that outlived its controller was waited for, not lost and asked again
    assert not [e for e in summary["jobs"] if e["status"] == "lost"]
    after = digests(root)
    for name, digest in before.items():
        assert after[name] == digest, f"{name}/run.lock was rewritten"
    locks = {name: load(root / name / "run.lock") for name in final}
    assert len({lock["run_id"] for lock in locks.values()}) == 5
    assert all(lock["launcher"] == "submitit_slurm" for lock in locks.values())
    assert summary["best"]["values"]["loss"] == min(
        lock["metrics"]["loss"] for lock in locks.values()
    )
