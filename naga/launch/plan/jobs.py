"""The jobs of a sweep made ready to launch: one builder for new, resumed and searched sweeps.

A job's *launch list* is its overrides, then ``hydra.sweep.subdir=<name>`` as the
``JobOverride`` that carries its config (naga.launch.plan.handoff) to wherever it runs.
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


def launch_list(
    configs: JobConfigs,
    num: int,
    overrides: Sequence[str],
    name: str,
    *,
    carries_task: bool,
    what: str | None = None,
) -> list[str]:
    """Check job ``num`` (folder ``name``) and keep it in ``configs``; its launch list.

    ``carries_task``: the task config travels too (the job runs naga's ``run_job`` in another
    process); ``what`` names the job in errors (default: ``job <num> (<overrides>)``).

    Raises:
        ConfigError: The job's overrides do not fit the config, naming the job.
    """
    subdir = f"hydra.sweep.subdir={override_value(name)}"
    what = what or f"job {num} ({' '.join(overrides) or 'no overrides'})"
    configs.add([*overrides, subdir], what=what, num=num)
    return [*overrides, JobOverride(subdir, configs=configs, index=num, with_task=carries_task)]


def job_configs(
    session: Session,
    jobs: Sequence[Sequence[str]],
    names: Sequence[str],
    *,
    carries_task: bool = False,
    derive: Container[str] | None = None,
) -> tuple[JobConfigs, list[list[str]]]:
    """The jobs' configs and launch lists, by job number (:func:`launch_list` for each).

    ``derive``: the names of the jobs to check and derive (default: all); the others (a
    resumed sweep's completed jobs) get a plain ``hydra.sweep.subdir`` and no config.
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
        JobRecord(num, name, list(job), root / name, stale_stat=run_lock_stat(root / name))
        for num, (job, name) in enumerate(zip(jobs, names, strict=True))
    ]


def sweep_state(
    app: App,
    root: Path,
    given_root: str,
    overrides: Sequence[str],
    *,
    launcher: str,
    jobs: list[JobRecord] | None = None,
    tasks: dict[str, object] | None = None,
) -> SweepState:
    """A sweep about to start (``root`` absolute, ``given_root`` as the config gave it)."""
    from naga.launch.record.sweeplock import SweepState

    return SweepState(
        root=root,
        jobs=[] if jobs is None else jobs,
        launcher=launcher,
        app=app.name,
        command=app.command_line(),
        overrides=list(overrides),
        tasks=tasks,
        given_root=given_root,
    )
