"""One run across the attempts of a requeued Slurm job.

Slurm runs a requeued job's batch script again from the start under the same job id; the
new attempt continues the run the earlier one left unfinished: same ``run_id``, and
``attempts`` counts up (docs/run-lock.md, "Requeued runs").
"""

from __future__ import annotations

import os
from pathlib import Path

from naga.lock.status import COMPLETED

__all__ = ["continued_attempt"]


def continued_attempt(lock_path: Path) -> tuple[str, int] | None:
    """``(run_id, attempt)`` when this process is a new attempt of the run at ``lock_path``.

    Only inside a Slurm job that Slurm has restarted (``SLURM_RESTART_COUNT`` > 0: running
    a script twice within one allocation is two runs), and only when ``lock_path`` holds a
    receipt written by an earlier attempt of this very job that did not complete.

    Returns:
        The earlier attempt's ``run_id`` and this attempt's number, or ``None``.
    """
    job = os.environ.get("SLURM_JOB_ID")
    restarts = os.environ.get("SLURM_RESTART_COUNT", "0")
    if not job or not restarts.isdigit() or int(restarts) < 1:
        return None
    from naga.lock.format import loads

    try:
        old = loads(lock_path.read_bytes())
    except Exception:  # no receipt, or one that is not YAML: a fresh run
        return None
    if not isinstance(old, dict) or old.get("status") == COMPLETED:
        return None
    run_id = old.get("run_id")
    if str(old.get("slurm_job_id")) != job or not isinstance(run_id, str):
        return None
    attempts = old.get("attempts")
    return run_id, (attempts if isinstance(attempts, int) and attempts > 0 else 1) + 1
