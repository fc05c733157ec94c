"""The status vocabulary, defined once: what run.lock and sweep.lock say about a run.

A run.lock says ``running`` while its run is open and ends ``completed``, ``failed``,
``interrupted`` or ``requeued`` (Slurm runs the job again; its next attempt continues the
run). Readers derive ``lost``, a ``running`` receipt whose process or Slurm job is gone, and
show ``requeued`` for a job Slurm holds to run again (:mod:`naga.lock.liveness`). A
sweep.lock's jobs also wait ``queued`` (a requeued job is ``queued`` again there) or are
``skipped`` (completed by an earlier sweep).
"""

from __future__ import annotations

from typing import Final

RUNNING: Final = "running"
COMPLETED: Final = "completed"
FAILED: Final = "failed"
INTERRUPTED: Final = "interrupted"
REQUEUED: Final = "requeued"
LOST: Final = "lost"
QUEUED: Final = "queued"
SKIPPED: Final = "skipped"

#: Statuses a run ends with for good; ``running``, ``requeued`` and ``lost`` are not final.
FINAL = (COMPLETED, FAILED, INTERRUPTED)
#: What a run.lock records when its run stops (``finish_run`` takes these).
ENDED = (*FINAL, REQUEUED)
#: Every status a reader shows of a run.lock: the recorded ones and ``lost``, derived.
RUN = (RUNNING, *FINAL, REQUEUED, LOST)
#: A run not over as readers show it: it runs, or Slurm runs it again.
UNDER_WAY = (RUNNING, REQUEUED)
#: Receipt statuses a reader checks against Slurm's queue before believing them.
ASKS_QUEUE = (RUNNING, REQUEUED, INTERRUPTED)
#: A run that did not complete and never will by itself: shown in red, run again by resume.
BAD = (FAILED, INTERRUPTED, LOST)
#: A sweep.lock job still to finish.
LIVE = (QUEUED, RUNNING)
#: A sweep.lock job that is done, well or badly.
DONE = (COMPLETED, FAILED, INTERRUPTED, LOST, SKIPPED)
#: Every status of a sweep.lock job.
JOB = (*DONE, RUNNING, QUEUED)


def job_status(status: str) -> str:
    """A run's status as its sweep.lock job's: a requeued job waits in the queue again."""
    return QUEUED if status == REQUEUED else status
