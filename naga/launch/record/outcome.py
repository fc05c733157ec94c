"""How a job ended, as its launcher saw it, written into its sweep.lock record.

Every launcher hands its jobs' returns to :func:`apply_results`: the run.lock first (times,
ids, an interrupted job's status), then the launcher's ``JobReturn``. A launcher that died
leaves the run.locks as the only truth (:func:`launcher_failed`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Final

from naga.launch.job import job_failed
from naga.launch.record.files import error_line
from naga.launch.record.progress import apply_run_lock
from naga.lock.status import COMPLETED, FAILED, INTERRUPTED

if TYPE_CHECKING:
    from typing import TypeAlias

    from hydra.core.utils import JobReturn

    from naga.launch.record.progress import Monitor
    from naga.launch.record.sweeplock import JobRecord, SweepState

    #: What a launcher knows of a job's end: Hydra's ``JobReturn``; ``None`` for a job that
    #: ran in an earlier attempt of a requeued element (its run.lock tells); the exception
    #: that lost it; or :data:`NOT_RUN`.
    Result: TypeAlias = "JobReturn | BaseException | _NotRun | None"

__all__ = ["NOT_RUN", "apply_results", "launcher_failed"]


class _NotRun:
    """An element stopped (by a signal) before this job of it started."""

    def __repr__(self) -> str:
        return "not run"


#: A job its launcher never started: its record stays as it is (queued).
NOT_RUN: Final = _NotRun()


def apply_results(
    jobs: Sequence[JobRecord],
    results: Mapping[int, Result],
    monitor: Monitor,
) -> None:
    """Record how each of ``jobs`` ended: its run.lock, then what its launcher returned.

    Args:
        jobs: The sweep.lock records of the jobs the launcher ran.
        results: Each job's result by job number: its ``JobReturn``; ``None`` for a job
            that ran in an earlier attempt of a requeued element; the exception that lost
            it; :data:`NOT_RUN` (or missing) for a job never started.
        monitor: The sweep's monitor, told of each job that just ended.
    """
    with monitor.state.lock:
        for job in jobs:
            ret = results.get(job.num, NOT_RUN)
            was_done = job.done
            apply_run_lock(job)
            if isinstance(ret, _NotRun) or ret is None:
                pass  # never started (stays queued), or ran in an earlier attempt: run.lock
            elif isinstance(ret, BaseException):
                if not job.done:
                    job.status = FAILED
                    job.error = f"launcher error: {error_line(ret)}"
            else:
                failure = job_failed(ret)
                if failure is not None:
                    job.status = FAILED if job.status != INTERRUPTED else INTERRUPTED
                    job.error = job.error or error_line(failure)
                else:
                    job.status, job.error = COMPLETED, None
            if job.done and not was_done:
                monitor.job_finished(job)
    monitor.changed()


def launcher_failed(jobs: Sequence[JobRecord], error: BaseException, state: SweepState) -> None:
    """The launcher itself failed: each unfinished job as its run.lock says, else failed.

    A launcher that died (e.g. a Slurm job killed before it could report) leaves the jobs'
    run.locks as the only truth.
    """
    with state.lock:
        for job in jobs:
            if not job.done:
                apply_run_lock(job)
            if not job.done:
                job.status = FAILED
                job.error = f"launcher error: {error_line(error)}"
