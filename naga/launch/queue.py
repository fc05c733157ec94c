"""What Slurm says about a sweep's jobs, in one ``squeue`` call, and its array size limit.

A sweep of a thousand jobs must not ask the controller a thousand times: :func:`slurm_queue`
asks once for every job id of the sweep (``squeue -r`` lists each array element on its own
line) and answers by either spelling of an element's id, ``<array id>_<index>`` as submitit
names it or the element's own job id as the job sees it in ``SLURM_JOB_ID``.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["PENDING", "RUNNING", "QueueView", "max_array_size", "slurm_queue"]

#: Slurm states of a job that waits to (re)start.
PENDING = frozenset(
    {
        "PENDING",
        "CONFIGURING",
        "REQUEUED",
        "REQUEUE_HOLD",
        "REQUEUE_FED",
        "SUSPENDED",
        "RESV_DEL_HOLD",
    }
)
#: Slurm states of a job whose process may still write its run.lock.
RUNNING = frozenset({"RUNNING", "COMPLETING", "RESIZING", "SIGNALING", "STAGE_OUT"})
#: Slurm's default MaxArraySize (slurm.conf), used when the cluster does not say.
DEFAULT_MAX_ARRAY_SIZE = 1001


@dataclass
class QueueView:
    """Job states from one look at the queue.

    Attributes:
        answered: False when Slurm could not be asked (no ``squeue``, an error): then
            nothing can be concluded from a job's absence.
        states: Slurm state by job id (both spellings of an array element's id).
    """

    answered: bool
    states: dict[str, str] = field(default_factory=dict)

    def state(self, job_id: str | None) -> str | None:
        """The job's Slurm state, or ``None`` when the queue no longer holds it."""
        return self.states.get(str(job_id)) if job_id else None

    def gone(self, job_id: str | None) -> bool:
        """True when Slurm answered and no longer has the job (finished, cancelled, lost)."""
        return self.answered and bool(job_id) and self.state(job_id) is None


def slurm_queue(job_ids: Iterable[str | None]) -> QueueView:
    """Ask ``squeue`` once about ``job_ids`` (``123``, ``123_4``; ``None`` entries ignored).

    Returns:
        The states of those jobs (and of their arrays' other elements) still in the queue.
    """
    wanted = sorted({str(job).split("_", 1)[0] for job in job_ids if job})
    if not wanted:
        return QueueView(answered=True)
    if shutil.which("squeue") is None:
        return QueueView(answered=False)
    states: dict[str, str] = {}
    # A long id list is split so that one command line stays far below the system limit.
    for start in range(0, len(wanted), 500):
        chunk = ",".join(wanted[start : start + 500])
        try:
            done = subprocess.run(
                ["squeue", "-h", "-r", "-j", chunk, "-o", "%i|%A|%T"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return QueueView(answered=False)
        if done.returncode != 0:
            # Older Slurm fails the whole call when every id has left the queue.
            if "nvalid job id" in done.stderr:
                continue
            return QueueView(answered=False)
        for line in done.stdout.splitlines():
            parts = line.strip().split("|")
            if len(parts) == 3:
                states[parts[0]] = states[parts[1]] = parts[2]
    return QueueView(answered=True, states=states)


@functools.lru_cache(maxsize=1)
def max_array_size() -> int:
    """The cluster's MaxArraySize (array indices go up to one less), or Slurm's default."""
    if shutil.which("scontrol") is None:
        return DEFAULT_MAX_ARRAY_SIZE
    try:
        done = subprocess.run(
            ["scontrol", "show", "config"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return DEFAULT_MAX_ARRAY_SIZE
    found = re.search(r"^MaxArraySize\s*=\s*(\d+)", done.stdout, re.MULTILINE)
    return int(found.group(1)) if found and int(found.group(1)) > 0 else DEFAULT_MAX_ARRAY_SIZE
