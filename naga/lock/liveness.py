"""Is the run a run.lock says is ``running`` still alive? If not, it is ``lost``.

A run.lock is written ``running`` when its run starts and completed when it ends; a run
killed with SIGKILL, by the OOM killer or with its node leaves ``running`` behind. Readers
(``naga show/ls/verify/diff/log/status``, ``--skip-completed``, a sweep's progress) call
:func:`effective_status`, which turns such a receipt into ``lost`` (and a ``requeued`` one
whose Slurm job is gone from the queue):

- on the host that wrote it, the process is checked by pid *and* by its start time and
  the machine's boot id (``pid_start``), so a reused pid or a reboot cannot look alive;
- elsewhere, a run with a Slurm job id is asked about through ``scontrol``/``squeue``
  (whichever the cluster has): a job that is no longer pending or running is lost;
- otherwise nothing can be known from here, and the run stays ``running``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["FINAL", "effective_status", "is_alive", "pid_start", "slurm_ids"]

#: Statuses a run ends with; ``running`` and ``lost`` are not final.
FINAL = ("completed", "failed", "interrupted")
#: Slurm job states in which the job can still write its run.lock.
_SLURM_LIVE = frozenset(
    {"PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "RESIZING"}
)
_SLURM_CACHE_S = 2.0
_slurm_cache: dict[str, tuple[float, bool | None]] = {}


def effective_status(lock: Mapping[str, Any]) -> str:
    """The status of a run.lock as a reader should show it (``lost`` derived here)."""
    status = str(lock.get("status") or "unknown")
    if status == "running" and is_alive(lock) is False:
        return "lost"
    # A requeued run waits in the Slurm queue (its process is gone on purpose): it is lost
    # only when Slurm no longer has the job.
    job = lock.get("slurm_job_id")
    if status == "requeued" and job and _slurm_job_alive(str(job)) is False:
        return "lost"
    return status


def is_alive(lock: Mapping[str, Any]) -> bool | None:
    """Whether the process or Slurm job that wrote a ``running`` receipt still runs.

    Returns:
        True or False when it can be told from here, ``None`` when it cannot (another
        host and no Slurm job id, or a cluster that does not answer). A receipt that
        records no pid at all (written by an older naga) is not alive.
    """
    pid = lock.get("pid")
    if isinstance(pid, int) and lock.get("host") == os.uname().nodename:
        return _process_alive(pid, lock.get("pid_start"))
    job = lock.get("slurm_job_id")
    if job:
        return _slurm_job_alive(str(job))
    # A receipt that names no process (another host, or one written before naga recorded
    # pids) cannot be checked from here.
    return None if isinstance(pid, int) else False


def pid_start(pid: int | None = None) -> str | None:
    """``<boot id>/<start ticks>`` of a process: unique per process on a machine, or None."""
    own = os.getpid()
    if pid is None or pid == own:
        # Fixed for the life of a process, and every run.lock write records it.
        if _OWN_START[0] != own:
            _OWN_START[:] = [own, _read_pid_start(own)]
        return _OWN_START[1]
    return _read_pid_start(pid)


#: [pid, pid_start] of this process, read once (a forked child reads its own).
_OWN_START: list[Any] = [None, None]


def _read_pid_start(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    # The command name (field 2) may hold spaces and parentheses; fields after the last ')'
    # are plain. starttime is field 22, i.e. the 20th after the name.
    fields = stat.rsplit(")", 1)[-1].split()
    return f"{boot}/{fields[19]}" if len(fields) > 19 else None


def slurm_ids() -> dict[str, str | None]:
    """The Slurm ids of this process's job (all ``None`` outside Slurm).

    Slurm's own variables as they are, and ``slurm_id``: the one to paste into
    ``scancel``/``sacct``/``squeue -j`` (see :func:`slurm_id`).
    """
    env = os.environ
    return {
        "slurm_job_id": env.get("SLURM_JOB_ID"),
        "slurm_array_job_id": env.get("SLURM_ARRAY_JOB_ID"),
        "slurm_array_task_id": env.get("SLURM_ARRAY_TASK_ID"),
        "slurm_id": slurm_id(),
    }


def slurm_id() -> str | None:
    """The id of this process's Slurm job as ``scancel`` and ``sacct`` take it, or ``None``.

    An array task is ``<SLURM_ARRAY_JOB_ID>_<SLURM_ARRAY_TASK_ID>`` (``33_0``): its own
    ``SLURM_JOB_ID`` (``34``) is an internal number that ``scancel`` of Slurm 22.05 accepts
    with exit 0 and then ignores. Any other job is its ``SLURM_JOB_ID``.
    """
    env = os.environ
    array, task = env.get("SLURM_ARRAY_JOB_ID"), env.get("SLURM_ARRAY_TASK_ID")
    if array and task:
        return f"{array}_{task}"
    return env.get("SLURM_JOB_ID") or None


def recorded_slurm_id(lock: Mapping[str, Any]) -> str | None:
    """The id to give ``scancel``/``sacct`` for the Slurm job a run.lock names, or ``None``.

    run.lock's ``slurm_id``; for a receipt written before naga recorded it, made from the
    array's ids the same way (``ARRAYID_TASKID``), else ``slurm_job_id``.
    """
    if lock.get("slurm_id") not in (None, ""):
        return str(lock["slurm_id"])
    array, task = lock.get("slurm_array_job_id"), lock.get("slurm_array_task_id")
    if array not in (None, "") and task not in (None, ""):
        return f"{array}_{task}"
    job = lock.get("slurm_job_id")
    return None if job in (None, "") else str(job)


def _process_alive(pid: int, recorded_start: object) -> bool:
    if isinstance(recorded_start, str) and Path("/proc/self/stat").exists():
        return pid_start(pid) == recorded_start
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def _slurm_job_alive(job: str) -> bool | None:
    now = time.monotonic()
    cached = _slurm_cache.get(job)
    if cached is not None and now - cached[0] < _SLURM_CACHE_S:
        return cached[1]
    answer = _ask_slurm(job)
    _slurm_cache[job] = (now, answer)
    return answer


def _ask_slurm(job: str) -> bool | None:
    if shutil.which("scontrol"):
        done = _run(["scontrol", "show", "job", "-o", job])
        if done is not None:
            if done.returncode != 0:
                # "Invalid job id specified": the controller forgot the job (MinJobAge),
                # so it ended long ago.
                return False if "nvalid job id" in done.stderr else None
            for token in done.stdout.split():
                if token.startswith("JobState="):
                    return token.split("=", 1)[1] in _SLURM_LIVE
    if shutil.which("squeue"):
        done = _run(["squeue", "-h", "-j", job, "-o", "%T"])
        if done is not None and done.returncode == 0:
            states = done.stdout.split()
            return bool(states) and states[0] in _SLURM_LIVE
    return None


def _run(argv: list[str]) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
