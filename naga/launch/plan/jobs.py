"""The jobs of a sweep made ready to launch: one builder for new, resumed and searched sweeps.

A job is its number, its overrides and its name (its folder below the sweep's). Made
ready, it is checked against the sweep's one composed base and kept for deriving its
config (:class:`naga.launch.plan.compose.JobConfigs`, by job number), and it has a *launch
list*: its overrides, then ``hydra.sweep.subdir=<name>`` as the
:class:`naga.launch.plan.handoff.JobOverride` that carries its config to wherever it runs.
The sweep's record starts from :func:`job_records` and :func:`sweep_state`.
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from naga.launch.plan.compose import JobConfigs
from naga.launch.plan.handoff import JobOverride
from naga.launch.plan.tasks import override_value

if TYPE_CHECKING:
    from naga.launch.job import App
    from naga.launch.plan.hydra_session import Session
    from naga.launch.record.sweeplock import JobRecord, SweepState

__all__ = ["job_configs", "job_records", "launch_list", "sweep_state"]


def launch_list(
    configs: JobConfigs,
    num: int,
    overrides: Sequence[str],
    name: str,
    *,
    carries_task: bool,
    what: str | None = None,
) -> list[str]:
    """Check job ``num`` against the base and keep it; its launch list (JobOverride last).

    Args:
        configs: The sweep's job configs.
        num: The job's number in the sweep.
        overrides: The job's overrides.
        name: The job's folder below the sweep's.
        carries_task: The job's task config travels too (the launcher runs the job with
            naga's ``run_job`` in another process).
        what: How errors name the job (default: ``job <num> (<overrides>)``).

    Raises:
        ConfigError: The job's overrides do not fit the config, naming the job.
    """
    subdir = f"hydra.sweep.subdir={override_value(name)}"
    what = what or f"job {num} ({' '.join(overrides) or 'no overrides'})"
    configs.add([*overrides, subdir], what=what, num=num)
    carried = JobOverride(subdir, configs=configs, index=num, with_task=carries_task)
    return [*overrides, carried]


def job_configs(
    session: Session,
    jobs: Sequence[Sequence[str]],
    names: Sequence[str],
    *,
    carries_task: bool = False,
    derive: Container[str] | None = None,
) -> tuple[JobConfigs, list[list[str]]]:
    """Every job's launch list, by job number, and the configs of the jobs to derive.

    Args:
        session: The sweep's Hydra session (``hydra.sweep.dir`` set).
        jobs: Each job's overrides, by job number.
        names: Each job's folder name, by job number.
        carries_task: As for :func:`launch_list`.
        derive: The names of the jobs to check and derive (default: all); the others (a
            resumed sweep's completed jobs) are neither checked nor derived.

    Raises:
        ConfigError: A job's overrides do not fit the config, naming the job.
    """
    configs = JobConfigs(session)
    launch_lists = [
        launch_list(configs, num, job, name, carries_task=carries_task)
        if derive is None or name in derive
        else [*job, f"hydra.sweep.subdir={override_value(name)}"]
        for num, (job, name) in enumerate(zip(jobs, names, strict=True))
    ]
    return configs, launch_lists


def job_records(root: Path, jobs: Sequence[Sequence[str]], names: Sequence[str]) -> list[JobRecord]:
    """A new sweep.lock record per job, ``queued``; a run.lock already there is stale."""
    from naga.launch.record.sweeplock import JobRecord, run_lock_stat

    return [
        JobRecord(
            num=num,
            name=name,
            overrides=list(job),
            save_dir=root / name,
            stale_stat=run_lock_stat(root / name),
        )
        for num, (job, name) in enumerate(zip(jobs, names, strict=True))
    ]


def sweep_state(
    session: Session,
    app: App,
    root: Path,
    given_root: str,
    overrides: Sequence[str],
    *,
    jobs: list[JobRecord] | None = None,
    tasks: dict[str, object] | None = None,
) -> SweepState:
    """The state of a sweep about to start (sweep.lock is written when it starts).

    Args:
        session: The sweep's Hydra session.
        app: The decorated function (its name, the command the user typed).
        root: The sweep's folder, absolute.
        given_root: ``save_dir`` as the config gave it.
        overrides: The sweep's overrides as given.
        jobs: The jobs' records (default: none yet: a search adds them as it goes).
        tasks: Where the tasks came from (``--tasks``, ``--tasks-key``).
    """
    from naga.launch.record.sweeplock import SweepState

    return SweepState(
        root=root,
        jobs=[] if jobs is None else jobs,
        launcher=session.launcher_name,
        app=app.name,
        command=app.command_line(),
        overrides=list(overrides),
        tasks=tasks,
        given_root=given_root,
    )
