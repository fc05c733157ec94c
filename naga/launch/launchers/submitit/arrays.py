"""Big sweeps on Slurm: jobs packed into array elements, arrays cut to the cluster's size.

A sweep of thousands of tasks goes to Slurm as job arrays under ``array_parallelism``.
``tasks_per_job: K`` (a naga key of the ``--slurm_config`` file) packs K consecutive jobs
into one array element: the element runs them one after another in one process, each with
its own save_dir and run.lock, and a failure in one does not stop the next (a signal that
stops the element does: the jobs after it are left queued, and ``naga resume`` runs them).
Arrays larger than the cluster's ``MaxArraySize`` are cut into several arrays; they share
``array_parallelism`` between them, so the sweep never runs more elements at once.

:class:`Element` is what naga submits to submitit for each array element. It holds the
launcher plugin pickled once for the whole sweep (bytes, unpickled in the job only after
the job has switched to the submitted code, naga.launch.launchers.submitit.isolate) and keeps
sweep.lock
current from the job itself (naga.launch.record.sync).
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
    """One submitit job of a sweep (a Slurm array element): runs its jobs in order.

    Attributes:
        payload: ``cloudpickle`` of ``(launcher plugin, Hydra's singleton state)``, shared
            by every element of the sweep.
        jobs: ``(name, num, overrides)`` of each job this element runs; the overrides are
            ``cloudpickle`` bytes of the job's override list, whose last item (a
            :class:`naga.launch.plan.handoff.JobOverride`) carries the job's finished config.
        root: The sweep root (absolute).
        sweep_id: The sweep's id: the jobs update sweep.lock only while it is this sweep's.
        isolation: Where the submitted code is, or ``None`` (``--no-isolate``).
    """

    payload: bytes
    jobs: list[tuple[str, int, bytes]]
    root: str
    sweep_id: str
    isolation: Isolation | None = None

    def __call__(self) -> list[JobReturn | None]:
        """Run the jobs; returns each one's Hydra ``JobReturn`` (``None``: ran earlier)."""
        if self.isolation is not None:
            self.isolation.enter()
        from naga.launch.launchers.submitit import requeue
        from naga.launch.record.sweeplock import now_iso
        from naga.launch.record.sync import entry_from_run_lock, update_jobs
        from naga.lock.format import LOCK_NAME, try_read
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
            stopped = requeue.requeued()
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
