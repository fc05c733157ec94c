"""Big sweeps on Slurm: jobs packed into array elements, arrays cut to the cluster's size.

``tasks_per_job: K`` (``--slurm_config``) packs K consecutive jobs into one element, run one
after another, each with its own run.lock; a failure does not stop the next, a signal does
(``naga resume`` runs the rest). Arrays over ``MaxArraySize`` are cut into several that share
``array_parallelism``, so the sweep never runs more elements at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from naga.launch.launchers.submitit.isolate import Isolation
from naga.lock.status import INTERRUPTED, RUNNING

if TYPE_CHECKING:
    from hydra.core.utils import JobReturn
    from submitit.helpers import DelayedSubmission

__all__ = ["Element", "cut", "pack", "share"]


@dataclass
class Element:
    """One submitit job of a sweep (a Slurm array element): runs its jobs in order."""

    payload: bytes  # cloudpickle of (launcher plugin, Hydra's singletons), one per sweep
    #: (name, num, cloudpickled overrides) per job; the last override (a JobOverride)
    #: carries the job's finished config.
    jobs: list[tuple[str, int, bytes]]
    root: str  # absolute
    sweep_id: str  # the jobs update sweep.lock only while it is this sweep's
    isolation: Isolation | None = None  # None: --no-isolate

    def __call__(self) -> list[JobReturn | None]:
        """Run the jobs; returns each one's Hydra ``JobReturn`` (``None``: ran earlier)."""
        if self.isolation is not None:
            self.isolation.enter()
        from naga.launch.launchers.submitit import requeue
        from naga.launch.record.sweeplock import now_iso
        from naga.launch.record.sync import entry_from_run_lock, update_jobs
        from naga.lock.format import LOCK_NAME, try_read
        from naga.lock.interrupt import requeued
        from naga.lock.liveness import slurm_id

        requeue.install()
        import cloudpickle

        launcher, singleton_state = cloudpickle.loads(self.payload)
        root = Path(self.root)
        job_id = slurm_id()
        results: list[JobReturn | None] = []
        for name, num, carried in self.jobs:
            if requeue.finished_earlier(root / name):
                results.append(None)
                continue
            started = {
                "status": RUNNING,
                "started_at": now_iso(),
                "duration_s": None,
                "error": None,
            }
            ids = {"slurm_job_id": job_id} if job_id else {}
            update_jobs(root, {name: {**started, **ids}}, sweep_id=self.sweep_id)
            overrides = cloudpickle.loads(carried)  # the job's config, derived at submission
            ret = launcher(overrides, "hydra.sweep.dir", num, f"job_id_for_{num}", singleton_state)
            results.append(ret)
            lock = try_read(root / name / LOCK_NAME, head=True) or {}
            ended = {name: entry_from_run_lock(lock)} if lock else {}
            update_jobs(root, ended, sweep_id=self.sweep_id)
            stopped = requeued()
            if stopped is not None:
                raise stopped  # no result: submitit must not report the element finished
            if lock.get("status") == INTERRUPTED:
                break  # a signal stops the element; the jobs after it stay queued
        return results

    def checkpoint(self, *args: object, **kwargs: object) -> DelayedSubmission:
        """Resubmit this element as it is (submitit calls it before requeueing the job)."""
        import submitit

        return submitit.helpers.DelayedSubmission(self, *args, **kwargs)


def pack(nums: Sequence[int], per_element: int) -> list[list[int]]:
    """Consecutive groups of ``per_element`` job numbers (the last may be shorter)."""
    return [list(nums[start : start + per_element]) for start in range(0, len(nums), per_element)]


def cut(count: int, max_size: int) -> list[range]:
    """Index ranges of at most ``max_size`` elements (array indices stay below MaxArraySize)."""
    size = max(1, max_size)
    return [range(start, min(start + size, count)) for start in range(0, count, size)]


def share(parallelism: int, arrays: int) -> list[int]:
    """``parallelism`` split over ``arrays`` (each at least 1), so their sum stays within it."""
    base, extra = divmod(max(parallelism, arrays), arrays)
    return [base + (1 if index < extra else 0) for index in range(arrays)]
