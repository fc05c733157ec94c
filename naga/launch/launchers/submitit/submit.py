"""naga submits the jobs of submitit sweeps (Slurm, submitit_local) itself.

Hydra's submitit launcher plugin submits every job and then blocks until the last one
ends. naga keeps what the plugin is good at -- its parameters (``hydra.launcher.*``, the
``--slurm_config`` file) and its ``__call__``, the body of each job (compose the job's
config, run naga's task) -- and does the submission itself, so that it can

- return as soon as every job is queued (``--detach``, naga.launch.launchers.submitit.detach),
- pack ``tasks_per_job`` jobs into one array element and cut arrays to the cluster's
  ``MaxArraySize`` (naga.launch.launchers.submitit.arrays),
- make every job import the code that was submitted (naga.launch.launchers.submitit.isolate),
- let a job be requeued through submitit's checkpointing (``Element.checkpoint``) and
- wait for each job on its own, so one job that died never hides the others' results.

The executor is built from the plugin's parameters exactly as the plugin builds it
(``naga._hydra_compat.submitit_executor``). Each job carries its precomposed config as its
last override (a :class:`naga.launch.plan.handoff.JobOverride`), and the plugin is given a
:class:`naga.launch.plan.handoff.PrecomposedLoader`, so no job composes its config again where
it runs (naga.launch.plan.compose).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from naga.launch.launchers.submitit.arrays import Element, cut, pack, share
from naga.launch.launchers.submitit.isolate import Isolation
from naga.lock.status import COMPLETED, FAILED, INTERRUPTED

__all__ = ["SUBMITIT", "Submitted", "Submitter"]

#: The launchers naga submits itself.
SUBMITIT = ("submitit_slurm", "submitit_local")
#: Seconds a Slurm job may be gone from the queue without its result file before the wait
#: stops expecting one (a job killed outright writes none; its run.lock tells the rest).
_GONE_GRACE_S = 20.0


@dataclass
class Submitted:
    """The jobs of one submission: one submitit job per element."""

    elements: list[list[int]]  # job numbers run by each element, in order
    jobs: list[Any]  # submitit Job per element
    arrays: list[str] = field(default_factory=list)  # Slurm array (or job) id per array

    def job_ids(self) -> dict[int, str]:
        """The launcher's job id of each job number (``<array>_<index>`` on Slurm)."""
        return {
            num: str(job.job_id)
            for nums, job in zip(self.elements, self.jobs, strict=True)
            for num in nums
        }


@dataclass
class Submitter:
    """How the jobs of one submitit sweep are submitted."""

    app: Any  # the App the jobs run (with the submitted code state when isolated)
    root: Path  # sweep root, absolute
    tasks_per_job: int = 1
    isolation: Isolation | None = None

    @classmethod
    def for_sweep(cls, app: Any, root: Path, *, tasks_per_job: int, isolate: bool) -> Submitter:
        """Prepare a sweep: take and write the submitted code (unless ``isolate`` is off)."""
        isolation = None
        if isolate and app.track_code:
            from naga.launch.launchers.submitit.isolate import prepare

            prepared = prepare(app.origin, root)
            if prepared is not None:
                isolation, code = prepared
                app = replace(app, code=code)
        return cls(app=app, root=root, tasks_per_job=tasks_per_job, isolation=isolation)

    def submit(
        self,
        session: Any,
        task: Any,
        launch_lists: Sequence[Sequence[str]] | Mapping[int, Sequence[str]],
        nums: Sequence[int],
        names: Sequence[str] | Mapping[int, str],
        *,
        on_array: Any = None,
    ) -> tuple[Submitted, Any]:
        """Submit jobs ``nums`` and return them with Hydra's callbacks (multirun started).

        Args:
            session: The sweep's Hydra session.
            task: naga's task function (``SweepTask``).
            launch_lists: Every job's launcher overrides, by job number.
            nums: The job numbers to submit.
            names: Every job's directory name, by job number.
            on_array: Called with ``{num: job id}`` after each array is submitted.
        """
        import cloudpickle
        from hydra.core.singleton import Singleton

        from naga.launch.plan import hydra_session
        from naga.launch.plan.handoff import PrecomposedLoader

        # Each job's last override is its JobOverride (naga.launch.plan.handoff): pickled into
        # the job's element, it carries the job's finished config, which this loader hands
        # to the plugin's job body instead of composing the job again on the node.
        loader = PrecomposedLoader(session.hydra.config_loader)
        callbacks = hydra_session.start_multirun(session)
        launcher = hydra_session.make_launcher(session, task, callbacks, loader=loader)
        executor, kind, parallelism = _executor(launcher)
        payload = cloudpickle.dumps((launcher, Singleton.get_state()))
        elements = pack(list(nums), self.tasks_per_job)
        if kind == "slurm":
            from naga.launch.launchers.submitit.queue import max_array_size

            ranges = cut(len(elements), max_array_size())
        else:
            ranges = [range(len(elements))]
        shares = share(parallelism, len(ranges)) if len(ranges) > 1 else [parallelism]
        submitted = Submitted(elements=[], jobs=[])
        for span, limit in zip(ranges, shares, strict=True):
            chunk = [elements[index] for index in span]
            if kind == "slurm":
                executor.update_parameters(slurm_array_parallelism=limit)
            with executor.batch():
                jobs = [
                    executor.submit(
                        Element(
                            payload=payload,
                            jobs=[
                                (names[num], num, _carried(launch_lists[num])) for num in element
                            ],
                            root=str(self.root),
                            sweep_id=task.sweep_id,
                            isolation=self.isolation,
                        )
                    )
                    for element in chunk
                ]
            submitted.elements.extend(chunk)
            submitted.jobs.extend(jobs)
            if jobs:
                submitted.arrays.append(str(jobs[0].job_id).split("_", 1)[0])
            if on_array is not None:
                ids = {
                    num: str(job.job_id)
                    for element, job in zip(chunk, jobs, strict=True)
                    for num in element
                }
                on_array(ids)
        return submitted, callbacks

    def run(
        self,
        session: Any,
        task: Any,
        batch: Sequence[Any],
        launch_lists: Sequence[Sequence[str]],
        monitor: Any,
    ) -> None:
        """Submit the jobs of ``batch`` (sweep.lock records), wait, and record how each ended.

        The blocking sweep's counterpart of :mod:`naga.launch.launchers.submitit.detach`;
        ``monitor`` shows
        progress from the run.locks meanwhile.
        """
        state = monitor.state
        names = {job.num: job.name for job in state.jobs}

        def record_ids(ids: dict[int, str]) -> None:
            with state.lock:
                assign_ids(batch, ids, local=not self._slurm(session))
                state.write()

        submitted, callbacks = self.submit(
            session,
            task,
            launch_lists,
            [job.num for job in batch],
            [names.get(num, "") for num in range(max(names) + 1)],
            on_array=record_ids,
        )
        try:
            results = self.wait(submitted)
        finally:
            callbacks.on_multirun_end(config=session.cfg, config_name=session.config_name)
        apply_results(batch, results, monitor)

    @staticmethod
    def _slurm(session: Any) -> bool:
        return bool(session.launcher_name == "submitit_slurm")

    def wait(self, submitted: Submitted, *, poll: float = 1.0) -> dict[int, Any]:
        """Wait for every element; each job number maps to its ``JobReturn``.

        A job that ran in an earlier attempt of a requeued element maps to ``None``, and
        every job of an element that ended without a result (killed, lost) to the
        exception saying so; their run.locks tell the rest.
        """
        from naga.launch.launchers.submitit.queue import slurm_queue

        results: dict[int, Any] = {}
        open_ = dict(enumerate(submitted.jobs))
        gone_since: dict[int, float] = {}
        while open_:
            queue = None
            for index, job in list(open_.items()):
                outcome: Any
                if job.done():
                    try:
                        outcome = job.results()[0]
                    except Exception as exc:  # the element died without a result
                        outcome = exc
                else:
                    if queue is None:
                        queue = slurm_queue(str(j.job_id) for j in open_.values())
                    if not queue.gone(str(job.job_id)) or not _is_slurm(job):
                        gone_since.pop(index, None)
                        continue
                    first = gone_since.setdefault(index, time.monotonic())
                    if time.monotonic() - first < _GONE_GRACE_S:
                        continue
                    outcome = RuntimeError(
                        f"Slurm job {job.job_id} ended without a result (killed or lost)"
                    )
                del open_[index]
                nums = submitted.elements[index]
                values = outcome if isinstance(outcome, list) else [outcome] * len(nums)
                for position, num in enumerate(nums):
                    results[num] = values[position] if position < len(values) else _NOT_RUN
            if open_:
                time.sleep(poll)
        return results


class _NotRun:
    """An element stopped (by a signal) before this job of it started."""

    def __repr__(self) -> str:
        return "not run"


_NOT_RUN = _NotRun()


def not_run(value: Any) -> bool:
    """True for a job its element never started."""
    return value is _NOT_RUN


def assign_ids(records: Sequence[Any], ids: dict[int, str], *, local: bool) -> None:
    """Note each record's job id: Slurm's as ``slurm_job_id``, a local job's pid as ``job_id``."""
    for record in records:
        if record.num in ids:
            if local:
                record.extra["job_id"] = ids[record.num]
            else:
                record.slurm_job_id = ids[record.num]


def apply_results(batch: Sequence[Any], results: dict[int, Any], monitor: Any) -> None:
    """Final state of each job: its run.lock, then what its element returned."""
    from naga.launch.job import job_failed
    from naga.launch.record.files import error_line
    from naga.launch.record.progress import apply_run_lock

    with monitor.state.lock:
        for job in batch:
            ret = results.get(job.num, _NOT_RUN)
            was_done = job.done
            apply_run_lock(job)
            if ret is _NOT_RUN or ret is None:
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
        monitor.state.write()


def _carried(overrides: Sequence[str]) -> bytes:
    """A job's overrides pickled now: its JobOverride derives and carries the job's config.

    Bytes, so the job unpickles them (and any class of the user's a structured config
    refers to) only after it has switched to the submitted code
    (naga.launch.launchers.submitit.isolate).
    """
    import cloudpickle

    return bytes(cloudpickle.dumps(list(overrides)))


def _is_slurm(job: Any) -> bool:
    return type(job).__name__.startswith("Slurm")


def _executor(launcher: Any) -> tuple[Any, str, int]:
    """submitit's executor for the plugin's parameters, built as the plugin builds it."""
    import naga._hydra_compat as compat

    executor, kind = compat.submitit_executor(launcher)
    sweep_dir = Path(str(launcher.config.hydra.sweep.dir))
    sweep_dir.mkdir(parents=True, exist_ok=True)
    if "mode" in launcher.config.hydra.sweep:
        sweep_dir.chmod(int(str(launcher.config.hydra.sweep.mode), 8))
    return executor, kind, int(dict(launcher.params).get("array_parallelism") or 256)
