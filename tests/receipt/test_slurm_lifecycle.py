"""The run lifecycle on the real one-node Slurm cluster: scancel, --skip-completed, rerun."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from receipt_project import Project, load, wait_for

pytestmark = [
    pytest.mark.slurm,
    pytest.mark.slow,
    # The venv layouts are the conformance suite's business; once is enough here.
    pytest.mark.parametrize("project", ["venv-outside"], indirect=True),
]


def _status(path: Path) -> str | None:
    try:
        return load(path)["status"]
    except (OSError, TypeError, KeyError):
        return None


def test_scancel_leaves_the_job_interrupted_and_the_sweep_says_so(
    project: Project, slurm_cluster: dict[str, str]
) -> None:
    proc = project.start(
        "job.py",
        "-m",
        "sleep=0,60",
        "--slurm_config",
        "slurm.yaml",
        "save_dir=results/sc",
        env=slurm_cluster,
    )
    root = project.root / "results" / "sc"
    lock_path = root / "sleep=60" / "run.lock"
    wait_for((root / "sleep=60" / "started").exists, timeout=180, what="the long Slurm job")
    running = load(lock_path)
    assert running["status"] == "running" and running["slurm_job_id"]
    cancelled = time.monotonic()
    done = subprocess.run(
        ["scancel", str(running["slurm_job_id"])],
        env=project.env(slurm_cluster),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # Slurm sends SIGTERM, then SIGKILL after KillWait (2 s on the test cluster).
    wait_for(lambda: _status(lock_path) == "interrupted", timeout=10, what="interrupted")
    assert time.monotonic() - cancelled < 10
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 1, stderr
    lock = load(lock_path)
    assert lock["error"]["signal"] == "SIGTERM"
    assert lock["run_id"] == running["run_id"]
    summary = load(root / "sweep.lock")
    assert {job["name"]: job["status"] for job in summary["jobs"]} == {
        "sleep=0": "completed",
        "sleep=60": "interrupted",
    }
    assert summary["status"] == "failed"
    assert "1 interrupted" in stderr


def test_skip_completed_and_rerun_of_a_slurm_job(
    project: Project, slurm_cluster: dict[str, str], tmp_path: Path
) -> None:
    argv = (
        "job.py",
        "-m",
        "param=1,2",
        "--slurm_config",
        "slurm.yaml",
        "save_dir=results/sk",
        "--skip-completed",
    )
    first = project.run(*argv, env=slurm_cluster, timeout=300)
    assert first.returncode == 0, first.stderr
    root = project.root / "results" / "sk"
    ids = {p: load(root / f"param={p}" / "run.lock")["slurm_job_id"] for p in (1, 2)}
    assert all(ids.values())
    second = project.run(*argv, env=slurm_cluster, timeout=300)
    assert second.returncode == 0, second.stderr
    summary = load(root / "sweep.lock")
    assert [job["status"] for job in summary["jobs"]] == ["skipped", "skipped"]
    assert {p: load(root / f"param={p}" / "run.lock")["slurm_job_id"] for p in (1, 2)} == ids
    rerun = project.run(
        "-m", "naga", "rerun", "results/sk/param=2", "--workdir", str(tmp_path / "w")
    )
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "reproduced" in rerun.stdout
