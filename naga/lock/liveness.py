"""Is the run a run.lock says is ``running`` still alive? If not, it is ``lost``.

Readers call :func:`effective_status` (rules in docs/run-lock.md, "Lost"): Slurm's queue
first (a job pending again is ``requeued``; one that left the queue is ``lost``), then on
the writing host the process by pid, start time and boot id (``pid_start``), so a reused
pid or a reboot cannot look alive. Slurm is asked once per job (kept
:data:`_SLURM_CACHE_S` seconds); a reader of many runs asks in one ``squeue`` call
(:func:`ask_queue`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from naga.lock.status import ASKS_QUEUE, LOST, REQUEUED, RUNNING

__all__ = ["ask_queue", "effective_status", "is_alive", "pid_start", "slurm_ids"]

_SLURM_CACHE_S = 2.0
#: What Slurm said, by job id: its state, ``None`` (no longer in the queue) or
#: :data:`_UNKNOWN` (Slurm could not be asked), with when it was asked.
_slurm_cache: dict[str, tuple[float, str | None]] = {}
_UNKNOWN = "?"


def effective_status(lock: Mapping[str, Any]) -> str:
    """The status of a run.lock as a reader should show it (``lost``, ``requeued`` here)."""
    from naga.lock.slurm import PENDING

    status = str(lock.get("status") or "unknown")
    job = lock.get("slurm_job_id")
    if not job or status not in ASKS_QUEUE:
        return LOST if status == RUNNING and is_alive(lock) is False else status
    if status == RUNNING and _on_this_host(lock) and is_alive(lock):
        return status  # its process runs here: nothing Slurm says can be newer
    state = _slurm_state(str(job))
    if state in PENDING:
        return REQUEUED  # Slurm runs it again; its next attempt continues the run
    if status == REQUEUED:
        return LOST if state is None else status
    if status == RUNNING and is_alive(lock) is False:
        return LOST
    return status


def ask_queue(job_ids: Iterable[Any]) -> None:
    """Ask Slurm about many runs' jobs in one ``squeue`` call, for the readers that follow.

    A reader of many receipts (``naga ls``) calls this first with the ``slurm_job_id`` of
    every receipt :func:`effective_status` will check; it then asks Slurm nothing more.
    """
    from naga.lock.slurm import slurm_queue

    wanted = {str(job) for job in job_ids if job}
    if not wanted:
        return
    view = slurm_queue(wanted)
    now = time.monotonic()
    for job in wanted:
        _slurm_cache[job] = (now, view.state(job) if view.answered else _UNKNOWN)


def is_alive(lock: Mapping[str, Any]) -> bool | None:
    """Whether the process or Slurm job that wrote a ``running`` receipt still runs.

    Returns:
        True or False when it can be told from here, ``None`` when it cannot (another
        host and no Slurm job id, or a cluster that does not answer). A receipt that
        records no pid at all (written by an older naga) is not alive.
    """
    pid = lock.get("pid")
    if isinstance(pid, int) and _on_this_host(lock):
        return _process_alive(pid, lock.get("pid_start"))
    job = lock.get("slurm_job_id")
    if job:
        state = _slurm_state(str(job))
        return None if state == _UNKNOWN else state is not None
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


def _on_this_host(lock: Mapping[str, Any]) -> bool:
    return isinstance(lock.get("pid"), int) and lock.get("host") == os.uname().nodename


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


def _slurm_state(job: str) -> str | None:
    """The job's state in Slurm's queue, ``None`` once it left, :data:`_UNKNOWN` if unsure."""
    now = time.monotonic()
    cached = _slurm_cache.get(job)
    if cached is not None and now - cached[0] < _SLURM_CACHE_S:
        return cached[1]
    from naga.lock.slurm import slurm_queue

    view = slurm_queue([job], timeout=10)
    answer = view.state(job) if view.answered else _UNKNOWN
    _slurm_cache[job] = (now, answer)
    return answer
