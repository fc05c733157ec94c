"""Helpers of the tests that run sweeps on the real Slurm cluster (tests/launch).

Read a receipt, wait for a condition, run a Slurm command, release a requeued job.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import yaml

__all__ = ["load", "release", "slurm", "status_of", "wait_for"]


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def status_of(path: Path) -> str | None:
    try:
        return load(path)["status"]
    except (OSError, TypeError, KeyError, yaml.YAMLError):
        return None


def wait_for(predicate: Callable[[], object], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def slurm(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        list(args), env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"{' '.join(args)}: {done.stderr}"
    return done.stdout


def release(job_id: str, env: dict[str, str]) -> None:
    """Let a requeued job start now rather than after the cluster's cred_expire (120 s).

    Only once it is pending again, and a couple of seconds after its requeue: slurmd
    refuses a credential made in the same second as the requeue revoked the old one
    ("Job credential revoked"), which would kill the job -- Slurm's own reason for the wait.
    """
    wait_for(
        lambda: "PENDING" in slurm("squeue", "-h", "-j", job_id, "-o", "%T", env=env),
        timeout=30,
        what=f"job {job_id} pending again",
    )
    time.sleep(2)
    slurm("scontrol", "update", f"JobId={job_id}", "StartTime=now", env=env)
