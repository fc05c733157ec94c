"""Where a study's trials run: one :class:`TrialSlots` per launcher.

:class:`JoblibSlots` keeps a loky pool with one future per trial, not ``joblib.Parallel``,
which hands out batches, so a slot frees as soon as any trial ends. Every slot also waits for
*adopted* trials (an earlier controller's jobs still running), watched through their run.locks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from naga.launch.sweepers.optuna_loop import TrialJob, TrialOutcome
from naga.launch.sweepers.record import finished_outcome, outcome_of, trial_name
from naga.lock.status import LOST

if TYPE_CHECKING:
    from concurrent.futures import Future

    from hydra.core.utils import JobReturn
    from submitit import Job

    from naga._hydra_compat import Callbacks
    from naga.launch.launchers.submitit.launcher import SubmititLauncher
    from naga.launch.launchers.task import SweepTask
    from naga.launch.plan.compose import JobConfigs
    from naga.launch.plan.handoff import JobOverride
    from naga.launch.plan.hydra_session import Session

#: ``prepare(job)``: derive the trial's config; returns its launch list (JobOverride last).
Prepare = Callable[[TrialJob], list[str]]
#: Seconds a Slurm job may be gone from the queue before its trial is taken as lost.
_GONE_GRACE_S = 20.0


@dataclass
class Watch:
    """Trials known only by their folders (and Slurm ids): ended once their run.lock says so."""

    root: Path
    sweep_id: str
    watched: dict[int, str | None] = field(default_factory=dict)  # number -> Slurm job id
    _gone_since: dict[int, float] = field(default_factory=dict)

    def add(self, number: int, slurm_job_id: str | None) -> None:
        """Watch trial ``number`` (its job runs without this controller)."""
        self.watched[number] = slurm_job_id

    def poll(self) -> list[TrialOutcome]:
        """The watched trials that ended since the last look."""
        from naga.launch.launchers.submitit.queue import slurm_queue
        from naga.lock.format import LOCK_NAME, try_read
        from naga.lock.liveness import effective_status

        ended: list[TrialOutcome] = []
        queue = None
        for number, job_id in list(self.watched.items()):
            folder = self.root / trial_name(number)
            outcome = finished_outcome(number, folder, sweep_id=self.sweep_id)
            if outcome is None:
                lock = try_read(folder / LOCK_NAME, head=True)
                if lock is not None and effective_status(lock) == LOST:
                    outcome = outcome_of(number, folder, sweep_id=self.sweep_id)
                elif job_id:
                    if queue is None:
                        queue = slurm_queue(self.watched.values())
                    if queue.gone(job_id):
                        first = self._gone_since.setdefault(number, time.monotonic())
                        if time.monotonic() - first >= _GONE_GRACE_S:
                            error = f"Slurm job {job_id} ended without a final run.lock"
                            outcome = outcome_of(
                                number, folder, sweep_id=self.sweep_id, error=error
                            )
            if outcome is not None:
                del self.watched[number]
                ended.append(outcome)
        return ended

    def wait(self, poll: float) -> list[TrialOutcome]:
        """Block until a watched trial ends."""
        while True:
            ended = self.poll()
            if ended:
                return ended
            time.sleep(poll)


class InProcessSlots:
    """The basic launcher: each trial runs here, one after another."""

    def __init__(
        self, session: Session, configs: JobConfigs, task: SweepTask, watch: Watch, prepare: Prepare
    ) -> None:
        self.session, self.configs, self.task = session, configs, task
        self.watch, self.prepare = watch, prepare
        self.callbacks: Callbacks | None = None
        self._waiting: list[tuple[TrialJob, JobOverride]] = []

    def start(self, job: TrialJob) -> None:
        """Derive the trial's config now; it runs when the loop waits."""
        self._waiting.append((job, _carried(self.prepare(job))))

    def wait_any(self) -> list[TrialOutcome]:
        """Run the next trial here (after any adopted trial has ended)."""
        from hydra.core.utils import configure_log

        from naga.launch.launchers.inprocess import run_job

        if self.watch.watched:
            return self.watch.wait(poll=0.5)
        job, carried = self._waiting.pop(0)
        assert self.callbacks is not None  # set by the study before any trial starts
        run_job(
            carried.config(),
            carried.task_config(),
            self.task,
            self.callbacks,
            num=job.number,
            job_id=job.number,
        )
        master = self.session.cfg
        configure_log(master.hydra.hydra_logging, master.hydra.verbose)
        folder = self.watch.root / trial_name(job.number)
        return [outcome_of(job.number, folder, sweep_id=self.watch.sweep_id)]


class JoblibSlots:
    """The joblib launcher: a loky pool; one future per trial, a free worker takes the next."""

    def __init__(
        self, task: SweepTask, callbacks: Callbacks, n_jobs: int, watch: Watch, prepare: Prepare
    ) -> None:
        from joblib.externals.loky import get_reusable_executor

        from naga.launch.launchers.joblib_pool import Shared

        self.executor = get_reusable_executor(max_workers=n_jobs)
        self.shared = Shared(task, callbacks)
        self.watch, self.prepare = watch, prepare
        self.futures: dict[Future[JobReturn], int] = {}

    def start(self, job: TrialJob) -> None:
        """Send the trial (its carried config) to the pool."""
        from naga.launch.launchers.joblib_pool import run_carried

        carried = _carried(self.prepare(job))
        future = self.executor.submit(run_carried, job.number, carried, self.shared)
        self.futures[future] = job.number

    def wait_any(self) -> list[TrialOutcome]:
        """Block until any trial ends (a pool's or an adopted one)."""
        from concurrent.futures import FIRST_COMPLETED, wait

        while True:
            timeout = 0.5 if self.watch.watched else None
            done, _ = wait(list(self.futures), timeout=timeout, return_when=FIRST_COMPLETED)
            ended = [self._outcome(future) for future in done]
            ended += self.watch.poll()
            if ended:
                return ended

    def _outcome(self, future: Future[JobReturn]) -> TrialOutcome:
        from naga.launch.record.files import error_line

        number = self.futures.pop(future)
        error = future.exception()
        folder = self.watch.root / trial_name(number)
        text = f"launcher error: {error_line(error)}" if error is not None else None
        return outcome_of(number, folder, sweep_id=self.watch.sweep_id, error=text)

    def close(self, *, kill: bool) -> None:
        """Stop the pool (``kill``: at once, the study was interrupted)."""
        self.executor.shutdown(wait=not kill, kill_workers=kill)


class SubmititSlots:
    """submitit (Slurm, local): every trial is submitted as its own job."""

    def __init__(
        self,
        session: Session,
        task: SweepTask,
        launcher: SubmititLauncher,
        watch: Watch,
        prepare: Prepare,
        *,
        on_job_id: Callable[[int, str], None],
    ) -> None:
        self.session, self.task, self.submitter = session, task, launcher.submitter
        self.watch, self.prepare, self.on_job_id = watch, prepare, on_job_id
        self.jobs: dict[int, Job[object]] = {}
        self.slurm = launcher.capabilities.queue

    def start(self, job: TrialJob) -> None:
        """Submit the trial's job (one submitit job, not an array)."""
        launch = self.prepare(job)
        name = trial_name(job.number)
        submitted, _ = self.submitter.submit(
            self.session, self.task, {job.number: launch}, [job.number], {job.number: name}
        )
        handle = submitted.jobs[0]
        self.jobs[job.number] = handle
        self.on_job_id(job.number, str(handle.job_id))
        # Watched like an adopted trial (run.lock, queue); its handle says when it died.
        self.watch.add(job.number, str(handle.job_id) if self.slurm else None)

    def wait_any(self) -> list[TrialOutcome]:
        """Block until any trial's run.lock is final, or its job ended without one."""
        while True:
            ended = self.watch.poll()
            # On Slurm the queue tells (Watch); submitit's done() would ask sacct, which many
            # clusters do not run. A submitit_local job's handle knows its process.
            for number, handle in list(self.jobs.items()) if not self.slurm else ():
                if number in self.watch.watched and handle.done():
                    # The job is over; one last look at its run.lock decides.
                    del self.watch.watched[number]
                    folder = self.watch.root / trial_name(number)
                    error = f"its job {handle.job_id} ended without a final run.lock"
                    ended.append(
                        outcome_of(number, folder, sweep_id=self.watch.sweep_id, error=error)
                    )
            for outcome in ended:
                self.jobs.pop(outcome.number, None)
            if ended:
                return ended
            time.sleep(1.0 if self.slurm else 0.3)


def _carried(launch: list[str]) -> JobOverride:
    """The trial's JobOverride: the last of its launch list (naga.launch.plan.handoff)."""
    from naga.launch.plan.handoff import JobOverride

    assert isinstance(launch[-1], JobOverride)
    return launch[-1]
