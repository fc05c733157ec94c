"""What Slurm says about jobs: the queue in one ``squeue`` call, and a requeue under way.

:func:`slurm_queue` asks once for every job id (a sweep of a thousand jobs must not ask
a thousand times) and answers by either spelling of an array element's id.
:func:`requeued_now` tells a requeue's SIGTERM from a final one: Slurm counts the restart
(``Restarts=`` in ``scontrol show job``) before it signals (measured on Slurm 22.05), so
one ``scontrol`` call decides.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["PENDING", "RUNNING", "QueueView", "requeued_now", "slurm_queue"]

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
#: Seconds :func:`requeued_now` waits for ``scontrol``: a signal handler has until Slurm's
#: KillWait (30 s by default, 2 s on naga's test cluster) before SIGKILL, and must still
#: write the receipt after asking.
REQUEUE_CHECK_TIMEOUT_S = 1.0


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


def slurm_queue(job_ids: Iterable[str | None], *, timeout: float = 30) -> QueueView:
    """Ask ``squeue`` once about ``job_ids`` (``123``, ``123_4``; ``None`` entries ignored).

    Args:
        timeout: Seconds to wait for ``squeue`` before giving up (``answered`` False).

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
                timeout=timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return QueueView(answered=False)
        if done.returncode != 0:
            # Slurm fails the whole call when every id has left the queue.
            if "nvalid job id" in done.stderr:
                continue
            return QueueView(answered=False)
        for line in done.stdout.splitlines():
            parts = line.strip().split("|")
            if len(parts) == 3:
                states[parts[0]] = states[parts[1]] = parts[2]
    return QueueView(answered=True, states=states)


def requeued_now(timeout: float = REQUEUE_CHECK_TIMEOUT_S) -> str | None:
    """Why Slurm has just requeued the batch job this process runs in; ``None`` if it has not.

    Asked by the signal handler on SIGTERM: Slurm counts the restart before it signals
    the job, so ``Restarts`` above this attempt's ``SLURM_RESTART_COUNT`` (or a state that
    says so) means the job goes back to the queue and will run again. Outside Slurm, or
    when ``scontrol`` does not answer within ``timeout``, the answer is ``None``: the run is
    recorded ``interrupted``, and readers, who ask the queue first, still show the job as
    requeued while Slurm holds it.

    Returns:
        ``"preempted"``, ``"scontrol requeue"`` or ``"node failure"`` as slurmstepd told
        the job (its stderr's last ``*** JOB ... CANCELLED ... DUE TO ... ***`` line), or
        :data:`ANY_REQUEUE` when it did not say; ``None`` when the job is not requeued.
    """
    job = os.environ.get("SLURM_JOB_ID")
    if not job or shutil.which("scontrol") is None:
        return None
    try:
        done = subprocess.run(
            ["scontrol", "show", "job", "-o", job],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    # The id of an array's last element is the array's own: scontrol then lists every
    # element, one per line; this job is the line that names it.
    mine = ""
    for line in done.stdout.splitlines():
        if line.startswith(f"JobId={job} "):
            mine = line
    fields = dict(token.split("=", 1) for token in mine.split() if "=" in token)
    if not fields:
        return None
    started_with = os.environ.get("SLURM_RESTART_COUNT", "0")
    restarts = fields.get("Restarts", "")
    counted = restarts.isdigit() and started_with.isdigit() and int(restarts) > int(started_with)
    if not counted and fields.get("JobState") not in _REQUEUE_STATES:
        return None
    # A path may hold spaces: StdErr's value runs up to the next field, StdIn.
    stderr = re.search(r" StdErr=(.*?) StdIn=", mine)
    return _said_by_slurmstepd(job, stderr.group(1) if stderr else "") or ANY_REQUEUE


#: The reason recorded when slurmstepd did not say why it requeued the job.
ANY_REQUEUE = "preemption, scontrol requeue or a node failure"
_REQUEUE_STATES = ("REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "PENDING")
#: What slurmstepd writes to a job's stderr as it kills it to requeue it ("*** JOB 8 ON
#: node CANCELLED AT <time> DUE TO PREEMPTION ***", before the signal), and what naga says.
_REASONS = {
    "PREEMPTION": "preempted",
    "JOB REQUEUE": "scontrol requeue",
    "NODE FAILURE": "node failure",
}


def _said_by_slurmstepd(job: str, stderr_path: str) -> str | None:
    if not stderr_path:
        return None
    try:
        with open(stderr_path, "rb") as handle:  # noqa: PTH123 - one read of the tail
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 8192))
            tail = handle.read().decode("utf-8", "replace")
    except OSError:
        return None
    said = re.findall(
        rf"\*\*\* JOB {re.escape(job)} ON \S+ CANCELLED AT \S+ DUE TO ([A-Z ]+?) \*\*\*", tail
    )
    return _REASONS.get(said[-1]) if said else None
