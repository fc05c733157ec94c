"""Slurm ids a user can paste, on the real one-node Slurm cluster (Slurm 22.05).

An array task has two ids: ``33_0``, which ``scancel``, ``sacct`` and ``squeue -j`` take,
and its own ``SLURM_JOB_ID`` (``34``), which ``scancel`` of Slurm 22.05 accepts with exit
status 0 and then ignores. run.lock keeps Slurm's variables as they are and adds
``slurm_id``; ``naga show`` and ``naga status`` print that one, and ``scancel`` of what
they print cancels the job. The same sweep, still running, refuses a second sweep into
its folder and says which ``scancel`` would end it.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import one_line_error
from slurm_jobs import load, status_of, wait_for

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def tmp_path(tmp_path: Path) -> Path:
    """pytest's own tmp dir: submitit writes job paths into line-based #SBATCH directives,
    where a newline or a space would split them (a limit of sbatch scripts, not of naga)."""
    return tmp_path.parent


def squeue_ids(env: dict[str, str]) -> str:
    done = subprocess.run(
        ["squeue", "-h", "-o", "%i %A %T"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_scancel_of_the_printed_id_cancels_the_array_task(
    detach_project: Path, run_py: Run, run_naga: Run, slurm_cluster: dict[str, str]
) -> None:
    # param=1 is task 0 of the array: its own SLURM_JOB_ID is not the array's id, so
    # `scancel <SLURM_JOB_ID>` would do nothing (the last task's would cancel the array).
    argv = ("-m", "param=1,2", "sleep=120", "sleep_param=1", "--slurm_config", "slurm.yaml")
    submitted = run_py("job.py", *argv, "--detach", cwd=detach_project, env=slurm_cluster)
    assert submitted.returncode == 0, submitted.stderr
    root = detach_project / "results" / "sweep"
    lock_path = root / "param=1" / "run.lock"
    wait_for((root / "param=1" / "started").exists, timeout=180, what="param=1 running")
    lock = load(lock_path)
    array, task = lock["slurm_array_job_id"], lock["slurm_array_task_id"]
    assert (array, task) != (None, None), lock
    assert lock["slurm_id"] == f"{array}_{task}"
    assert task == "0" and lock["slurm_job_id"] != array  # Slurm's own variables, as they are

    shown = run_naga("show", "results/sweep/param=1", cwd=detach_project, env=slurm_cluster)
    assert shown.returncode == 0, shown.stderr
    printed = re.search(r"^slurm job\s+(\S+)$", shown.stdout, re.MULTILINE)
    assert printed is not None, shown.stdout
    assert printed.group(1) == f"{array}_{task}"
    status = run_naga("status", "results/sweep", cwd=detach_project, env=slurm_cluster)
    row = next(line for line in status.stdout.splitlines() if "param=1 " in line)
    assert row.split()[2] == printed.group(1), status.stdout

    # While it runs, the folder is not handed to another sweep; the line says what ends it.
    second = run_py("job.py", "-m", "param=3,4", cwd=detach_project, env=slurm_cluster)
    assert second.returncode == 2, second.stdout + second.stderr
    line = one_line_error(second.stderr)
    assert "save_dir results/sweep: sweep " in line and "queued or running" in line
    assert f"cancel it (scancel {array})" in line
    assert load(root / "sweep.lock")["overrides"][0] == "param=1,2"

    cancelled = subprocess.run(
        ["scancel", printed.group(1)],
        env={**os.environ, **slurm_cluster},
        capture_output=True,
        text=True,
        check=False,
    )
    assert cancelled.returncode == 0, cancelled.stderr
    wait_for(lambda: status_of(lock_path) == "interrupted", timeout=30, what="interrupted")
    assert load(lock_path)["error"]["signal"] == "SIGTERM"
    wait_for(
        lambda: f"{array}_{task} " not in squeue_ids(slurm_cluster),
        timeout=30,
        what="the task to leave the queue",
    )
