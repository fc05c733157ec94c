"""The launcher protocol: what a sweep asks of wherever its jobs run.

A sweep or a study never asks which launcher it has; it asks the launcher object what it can
do (:class:`Capabilities`) and tells it to run or submit the jobs (:class:`Launcher`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol

if TYPE_CHECKING:
    from omegaconf import DictConfig

    from naga.launch.job import App
    from naga.launch.launchers.task import SweepTask
    from naga.launch.plan.hydra_session import Session
    from naga.launch.record.progress import Monitor
    from naga.launch.record.sweeplock import JobRecord, SweepState

__all__ = ["Capabilities", "JobSource", "Launch", "Launcher", "StopSweep"]


@dataclass(frozen=True)
class Capabilities:
    """What a launcher does with a sweep's jobs, for the code that must know."""

    #: The jobs run in the sweep's own process: it sees each start and end (no run.lock
    #: polling), and NAGA_DEBUG's first failure stops the sweep with its exception.
    in_process: bool = False
    #: Each job's task config (without ``hydra``) travels with it: the worker runs the job
    #: with naga's ``run_job`` (naga.launch.plan.handoff.JobOverride's ``with_task``).
    carries_task: bool = False
    #: The jobs run without the sweep's process: ``--detach`` can return once they are queued.
    detaches: bool = False
    #: The jobs are in Slurm's queue: ``naga status`` reads squeue, ``scancel`` stops them,
    #: sweep.lock keeps their ids as ``slurm_job_id`` (a local job's pid as ``job_id``).
    queue: bool = False


class JobSource(Protocol):
    """Each job's finished config by job number (naga.launch.plan.compose.JobConfigs)."""

    def config(self, num: int) -> DictConfig:
        """Job ``num``'s config, ``hydra`` node included."""
        ...

    def task_config(self, num: int) -> DictConfig:
        """Job ``num``'s config without ``hydra``."""
        ...


@dataclass
class Launch:
    """One sweep's jobs, ready to start: everything a launcher is given."""

    session: Session  # the sweep's Hydra session (multirun config, launcher plugin)
    app: App  # the function the jobs run (with the submitted code when isolated)
    state: SweepState  # sweep.lock's records
    configs: JobSource  # every job's precomposed config
    #: Every job's launcher overrides, by job number; the last one of each job to start is
    #: its JobOverride (naga.launch.plan.handoff), which carries the job's config.
    launch_lists: Sequence[Sequence[str]]

    def task(self, *, in_process: bool) -> SweepTask:
        """naga's task function for the jobs of this sweep."""
        from naga.launch.launchers.task import SweepTask

        return SweepTask(
            app=self.app,
            launcher=self.state.launcher,
            sweep_id=self.state.sweep_id,
            root=self.state.given_root,
            in_process=in_process,
        )


class StopSweep(Exception):
    """A launcher stops the whole sweep with ``failure`` (NAGA_DEBUG's first failed job)."""

    def __init__(self, failure: BaseException) -> None:
        super().__init__(str(failure))
        self.failure = failure


class Launcher:
    """Where a sweep's jobs run; one subclass per launcher, listed in the registry.

    ``name`` is naga's short name of it (sweep.lock's and run.lock's ``launcher``).
    """

    capabilities: ClassVar[Capabilities] = Capabilities()

    def __init__(self, name: str) -> None:
        self.name = name

    def prepare(self, app: App, root: Path, *, tasks_per_job: int, isolate: bool) -> App:
        """Get ready for a sweep into ``root`` (absolute); the app its jobs run.

        ``tasks_per_job``: jobs run one after another by each submitted job; ``isolate``:
        the jobs import the code as submitted, not the live work tree.
        """
        del root, tasks_per_job, isolate
        return app

    @property
    def code(self) -> str | None:
        """The commit or snapshot the jobs import (``prepare(isolate=True)``), else None."""
        return None

    def run(self, sweep: Launch, todo: Sequence[JobRecord], monitor: Monitor) -> None:
        """Run the ``todo`` jobs, wait for them, and record how each ended.

        Raises:
            StopSweep: The sweep must stop with a job's own exception (NAGA_DEBUG).
        """
        raise NotImplementedError

    def detach(self, sweep: Launch, todo: Sequence[JobRecord]) -> int:
        """Submit the ``todo`` jobs, write sweep.lock, and return 0 once all are queued."""
        raise NotImplementedError  # only launchers whose capabilities say ``detaches``

    def stop_hint(self, ids: Sequence[str]) -> str:
        """How to stop live jobs with these recorded ids (``, cancel it (scancel 12)``)."""
        del ids
        return ""
