"""The submitit launchers (submitit_slurm, submitit_local): naga submits the jobs itself.

With ``--detach`` the command writes sweep.lock with every job ``queued`` and exits 0; from
then on the jobs keep their run.locks and sweep.lock entries up to date themselves
(naga.launch.record.sync).
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from naga.launch.launchers.base import Capabilities, Launch, Launcher
from naga.launch.launchers.submitit.submit import Submitted, Submitter

if TYPE_CHECKING:
    from collections.abc import Callable

    from naga._hydra_compat import Callbacks
    from naga.launch.job import App
    from naga.launch.record.progress import Monitor
    from naga.launch.record.sweeplock import JobRecord

__all__ = ["Local", "Slurm", "SubmititLauncher"]


class SubmititLauncher(Launcher):
    """Jobs submitted through submitit's executor, which run without the sweep's process."""

    _prepared: Submitter | None = None

    def prepare(self, app: App, root: Path, *, tasks_per_job: int, isolate: bool) -> App:
        """Take and write the submitted code (unless ``isolate`` is off); the jobs' app."""
        self._prepared = Submitter.for_sweep(
            app, root, tasks_per_job=tasks_per_job, isolate=isolate
        )
        return self._prepared.app

    @property
    def submitter(self) -> Submitter:
        """How this sweep's jobs are submitted (once :meth:`prepare` ran)."""
        if self._prepared is None:
            raise RuntimeError(f"{self.name}: prepare() the launcher before submitting")
        return self._prepared

    @property
    def code(self) -> str | None:
        """The commit or snapshot the jobs import, when isolated."""
        isolation = self._prepared.isolation if self._prepared is not None else None
        return isolation.commit if isolation is not None else None

    def note_ids(self, records: Sequence[JobRecord], ids: dict[int, str]) -> None:
        """Note each record's job id: Slurm's as ``slurm_job_id``, a local job's pid as ``job_id``.

        ``ids`` maps job numbers to the ids submitit gave their jobs.
        """
        for record in records:
            if record.num in ids:
                if self.capabilities.queue:
                    record.slurm_job_id = ids[record.num]
                else:
                    record.extra["job_id"] = ids[record.num]

    def run(self, sweep: Launch, todo: Sequence[JobRecord], monitor: Monitor) -> None:
        """Submit the ``todo`` jobs, wait, and record how each ended.

        The monitor shows progress from the run.locks meanwhile; each job is waited for on
        its own, so one job that died never hides the others' results.
        """
        from naga.launch.record.outcome import apply_results

        state = monitor.state

        def record_ids(ids: dict[int, str]) -> None:
            with state.lock:
                self.note_ids(todo, ids)
                state.write()

        submitted, callbacks = self._submit(sweep, todo, record_ids)
        try:
            results = self.submitter.wait(submitted)
        finally:
            session = sweep.session
            callbacks.on_multirun_end(config=session.cfg, config_name=session.config_name)
        apply_results(todo, results, monitor)

    def detach(self, sweep: Launch, todo: Sequence[JobRecord]) -> int:
        """Submit the ``todo`` jobs and return 0 once all are queued (``--detach``)."""
        from naga.launch.record.files import SWEEP_LOCK
        from naga.launch.record.sync import update_jobs
        from naga.lock.format import try_read
        from naga.lock.status import QUEUED

        state = sweep.state
        for job in todo:
            job.status = QUEUED
        if (try_read(state.root / SWEEP_LOCK) or {}).get("sweep_id") == state.sweep_id:
            # A resumed sweep whose other jobs may still be running and writing their
            # entries: only this submission's entries (and the launch record) change.
            fresh = {job.name: job.as_dict(state.root) for job in todo}
            launch = {"launch": state.extra.get("launch")}
            update_jobs(state.root, fresh, sweep_id=state.sweep_id, top=launch)
        else:
            state.write()  # before submitting: a job may start, and update it, right away
        names = {job.num: job.name for job in state.jobs}

        def record_ids(ids: dict[int, str]) -> None:
            # The jobs of an array may already be updating sweep.lock: merge under its lock.
            self.note_ids(todo, ids)
            key = "slurm_job_id" if self.capabilities.queue else "job_id"
            changes = {names[num]: {key: job_id} for num, job_id in ids.items()}
            update_jobs(state.root, changes, sweep_id=state.sweep_id)

        submitted, _ = self._submit(sweep, todo, record_ids)
        shown = _shown(state.root)
        count = len(todo)
        jobs = f"{count} job{'s' if count != 1 else ''}"
        they = "they run" if count != 1 else "it runs"
        if self.capabilities.queue:
            ids = ", ".join(submitted.arrays)
            elements = len(submitted.jobs)
            packed = f" in {elements} array elements" if elements != count else ""
            label = "Slurm jobs" if len(submitted.arrays) > 1 else "Slurm job"
            print(f"submitted {jobs}{packed} ({label} {ids}); {they} without this command")
        else:
            print(f"started {jobs} on this machine ({self.name}); {they} without this command")
        print(f"sweep: {shown}")
        print(f"follow it: naga status {shlex.quote(shown)} --watch")
        sys.stdout.flush()
        return 0

    def _submit(
        self, sweep: Launch, todo: Sequence[JobRecord], on_array: Callable[[dict[int, str]], None]
    ) -> tuple[Submitted, Callbacks]:
        names = {job.num: job.name for job in sweep.state.jobs}
        nums = [job.num for job in todo]
        task = sweep.task(in_process=False)
        return self.submitter.submit(
            sweep.session, task, sweep.launch_lists, nums, names, on_array=on_array
        )


class Slurm(SubmititLauncher):
    """submitit_slurm: the jobs are Slurm array elements."""

    capabilities: ClassVar[Capabilities] = Capabilities(detaches=True, queue=True)

    def stop_hint(self, ids: Sequence[str]) -> str:
        """``, cancel it (scancel <array ids>)``."""
        arrays = sorted({job_id.split("_", 1)[0] for job_id in ids}, key=_numeric)
        return f", cancel it (scancel {' '.join(arrays)})"


class Local(SubmititLauncher):
    """submitit_local: the jobs are processes of this machine, started by submitit."""

    capabilities: ClassVar[Capabilities] = Capabilities(detaches=True)

    def stop_hint(self, ids: Sequence[str]) -> str:
        """``, stop it (kill <pids>)``."""
        return f", stop it (kill {' '.join(sorted(ids, key=_numeric))})"


def _numeric(text: str) -> tuple[int, str]:
    return (int(text), text) if text.isdigit() else (0, text)


def _shown(root: Path) -> str:
    relative = os.path.relpath(root)
    return str(root) if relative.startswith("..") else relative
