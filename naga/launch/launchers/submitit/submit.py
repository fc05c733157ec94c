"""naga submits the jobs of submitit sweeps (Slurm, submitit_local) itself.

Hydra's submitit plugin submits every job, then blocks until the last ends. naga keeps the
plugin's parameters and its ``__call__`` (the body of each job) and submits itself, so it can
return once queued (``--detach``), pack and cut arrays, isolate the submitted code, requeue
through ``Element.checkpoint``, and wait for each job on its own (one dead job never hides the
others' results). Each job carries its precomposed config (a JobOverride), so no job
composes its config again where it runs.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, cast

from naga.launch.launchers.submitit.arrays import Element, cut, pack, share
from naga.launch.launchers.submitit.isolate import Isolation

if TYPE_CHECKING:
    from collections.abc import Callable

    from hydra_plugins.hydra_submitit_launcher.submitit_launcher import BaseSubmititLauncher
    from submitit import Executor, Job

    from naga._hydra_compat import Callbacks
    from naga.launch.job import App
    from naga.launch.launchers.task import SweepTask
    from naga.launch.plan.hydra_session import Session
    from naga.launch.record.outcome import Result

__all__ = ["Submitted", "Submitter"]

#: Seconds a Slurm job may be gone from the queue without its result file before the wait
#: stops expecting one (a job killed outright writes none; its run.lock tells the rest).
_GONE_GRACE_S = 20.0


@dataclass
class Submitted:
    """The jobs of one submission: one submitit job per element."""

    elements: list[list[int]]  # job numbers run by each element, in order
    jobs: list[Job[object]]  # submitit Job per element
    arrays: list[str] = field(default_factory=list)  # Slurm array (or job) id per array


@dataclass
class Submitter:
    """How the jobs of one submitit sweep are submitted."""

    app: App  # the App the jobs run (with the submitted code state when isolated)
    root: Path  # sweep root, absolute
    tasks_per_job: int = 1
    isolation: Isolation | None = None

    @classmethod
    def for_sweep(cls, app: App, root: Path, *, tasks_per_job: int, isolate: bool) -> Submitter:
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
        session: Session,
        task: SweepTask,
        launch_lists: Sequence[Sequence[str]] | Mapping[int, Sequence[str]],
        nums: Sequence[int],
        names: Sequence[str] | Mapping[int, str],
        *,
        on_array: Callable[[dict[int, str]], None] | None = None,
    ) -> tuple[Submitted, Callbacks]:
        """Submit jobs ``nums`` and return them with Hydra's callbacks (multirun started).

        ``launch_lists`` and ``names`` are by job number; ``on_array`` is called with
        ``{num: job id}`` after each array is submitted.
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

    def wait(self, submitted: Submitted, *, poll: float = 1.0) -> dict[int, Result]:
        """Wait for every element; each job number maps to its ``JobReturn``.

        A job that ran in an earlier attempt of a requeued element maps to ``None``, and
        every job of an element that ended without a result (killed, lost) to the
        exception saying so; their run.locks tell the rest.
        """
        from naga.launch.launchers.submitit.queue import slurm_queue
        from naga.launch.record.outcome import NOT_RUN

        results: dict[int, Result] = {}
        open_ = dict(enumerate(submitted.jobs))
        gone_since: dict[int, float] = {}
        while open_:
            queue = None
            for index, job in list(open_.items()):
                outcome: object
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
                    found = values[position] if position < len(values) else NOT_RUN
                    results[num] = cast("Result", found)
            if open_:
                time.sleep(poll)
        return results


def _carried(overrides: Sequence[str]) -> bytes:
    """A job's overrides pickled now: its JobOverride derives and carries the job's config.

    Bytes, so the job unpickles them (and any class of the user's a structured config
    refers to) only after it has switched to the submitted code
    (naga.launch.launchers.submitit.isolate).
    """
    import cloudpickle

    return bytes(cloudpickle.dumps(list(overrides)))


def _is_slurm(job: Job[object]) -> bool:
    return type(job).__name__.startswith("Slurm")


def _executor(launcher: BaseSubmititLauncher) -> tuple[Executor, str, int]:
    """submitit's executor for the plugin's parameters, built as the plugin builds it."""
    from naga import _hydra_compat as compat

    executor, kind = compat.submitit_executor(launcher)
    sweep_dir = Path(str(launcher.config.hydra.sweep.dir))
    sweep_dir.mkdir(parents=True, exist_ok=True)
    if "mode" in launcher.config.hydra.sweep:
        sweep_dir.chmod(int(str(launcher.config.hydra.sweep.mode), 8))
    return executor, kind, int(dict(launcher.params).get("array_parallelism") or 256)
