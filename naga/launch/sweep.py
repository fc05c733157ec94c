"""Where a sweep is launched: ``run_sweep``, from one run to a hundred, each with its receipt.

clicfg calls :func:`run_sweep` when the command line describes several jobs (``-m``,
``--tasks``, ``--tasks-key``); every job is checked up front, so a bad value fails before
anything runs.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from naga.debug import ENV_VAR as DEBUG_ENV_VAR
from naga.debug import debug_enabled
from naga.errors import UsageError
from naga.launch.job import SAVE_DIR_KEY, App, checked_save_dir
from naga.launch.launchers import registry
from naga.launch.options import SweepOptions
from naga.launch.plan.naming import is_hydra_key, job_names, override_key

if TYPE_CHECKING:
    from omegaconf import DictConfig

    from naga.launch.launchers.base import Launcher
    from naga.launch.plan.hydra_session import Session
    from naga.launch.record.sweeplock import JobRecord

_LAUNCHER_KEYS = ("hydra/launcher", "hydra.launcher")
# naga's defaults for Hydra's own settings; a user override of the same key wins.
_HYDRA_DEFAULTS = {
    "hydra/hydra_logging": "hydra/hydra_logging=none",  # naga prints its own progress
    # as in a single naga run, the user's logging setup is left alone
    "hydra/job_logging": "hydra/job_logging=none",
    "hydra.output_subdir": "hydra.output_subdir=null",  # run.lock already holds config + overrides
    "hydra.job.chdir": "hydra.job.chdir=false",  # relative paths mean the same in every job
    "hydra.mode": "hydra.mode=MULTIRUN",  # as Hydra's own -m sets it (${hydra:mode})
}


def run_sweep(app: App, overrides: list[str], options: SweepOptions) -> int:
    """Run every job of a sweep and report; the return value is the process exit code.

    Returns:
        0 when every job completed (or was skipped), 1 when any job failed.

    Raises:
        UsageError: Conflicting or malformed flags, tasks files, Slurm config files.
        ConfigError: An override or task that does not fit the config.
    """
    from naga.config.compose import parse_overrides
    from naga.launch.plan import hydra_session
    from naga.launch.plan.jobs import job_configs, job_records, sweep_state
    from naga.launch.record.claim import refuse_if_live

    if _resumes_grid(options):  # `naga resume`: the recorded sweep's unfinished jobs
        from naga.launch.resume import run_resumed

        return run_resumed(app, options)
    debug = debug_enabled()
    app_overrides = [item for item in overrides if not is_hydra_key(item)]
    hydra_overrides = [item for item in overrides if is_hydra_key(item)]
    parse_overrides(app.base, app_overrides, sweep_allowed=options.multirun)
    launcher_overrides = _launcher_overrides(options, hydra_overrides)
    if debug:
        hydra_overrides = [
            item for item in hydra_overrides if override_key(item) not in _LAUNCHER_KEYS
        ]
        launcher_overrides = []
        print(
            f"[naga] {DEBUG_ENV_VAR} is set: running the jobs one after another in this process "
            "(basic launcher); the first failure stops the sweep for debugging",
            file=sys.stderr,
        )
    given = {override_key(item) for item in hydra_overrides + launcher_overrides}
    defaults = [line for key, line in _HYDRA_DEFAULTS.items() if key not in given]

    session_overrides = [*defaults, *launcher_overrides, *hydra_overrides, *app_overrides]
    session = hydra_session.open_session(app.base, app.name, session_overrides)
    try:
        launcher = _launcher(session, debug=debug, detach=options.detach)
        given_root = _sweep_root(session.cfg, app.name)
        if not hydra_session.sweeper_target(session).endswith("BasicSweeper"):
            from naga.launch.sweepers.search import run_search  # Optuna, or another sweeper

            return run_search(
                session, app, overrides, options, session_overrides, given_root=given_root
            )
        root = given_root.absolute()
        # Before anything is written: a folder whose sweep still runs is not taken over.
        refuse_if_live(root, shown=str(given_root), stop_hint=registry.stop_hint)
        hydra_session.set_sweep_dir(session, str(given_root))
        grid = hydra_session.expand(session)
        tasks, tasks_info = _task_overrides(session.cfg, options)
        jobs = [[*cell, *task] for cell in grid for task in tasks] if tasks else grid
        names = job_names(jobs)
        records = job_records(root, jobs, names)
        _check_distinct_dirs(records, root)
        carries_task = launcher.capabilities.carries_task
        configs, launch_lists = job_configs(session, jobs, names, carries_task=carries_task)
        if options.print_configs:  # --cfg: what each job would run with, nothing run
            from naga.launch.plan.preview import print_configs

            print_configs(configs, records, str(given_root))
            return 0
        if options.skip_completed:
            from naga.launch.plan.skip import skip_completed

            skip_completed(records, configs, str(given_root))
        state = sweep_state(
            app,
            root,
            str(given_root),
            overrides,
            launcher=launcher.name,
            jobs=records,
            tasks=tasks_info,
        )
        from naga.launch.dispatch import dispatch
        from naga.launch.launchers.base import Launch

        sweep = Launch(session, app, state, configs, launch_lists)
        return dispatch(sweep, launcher, options, session_overrides)
    finally:
        hydra_session.close()


def _resumes_grid(options: SweepOptions) -> bool:
    """``--resume`` of a grid sweep; a study (naga.launch.sweepers) is composed again instead."""
    if options.resume is None:
        return False
    from naga.launch.sweepers.controller import recorded_study

    return recorded_study(options.resume) is None


def _check_distinct_dirs(records: Sequence[JobRecord], root: Path) -> None:
    """Two jobs writing one directory would mix their outputs and fight over its run.lock."""
    seen: dict[str, JobRecord] = {}
    real_root = Path(os.path.realpath(root))
    for record in records:
        # Job names are distinct: only a job directory that is a link can meet another.
        where = record.save_dir
        real = os.path.realpath(where) if where.is_symlink() else real_root / where.name
        key = os.path.normcase(real)
        other = seen.setdefault(key, record)
        if other is not record:
            raise UsageError(
                f"jobs {other.num} ({' '.join(other.overrides)}) and {record.num} "
                f"({' '.join(record.overrides)}) would both write {record.save_dir}; "
                "make their overrides differ or give each its own save_dir"
            )


def _sweep_root(cfg: DictConfig, app_name: str) -> Path:
    from omegaconf import OmegaConf

    save_dir = OmegaConf.select(cfg, SAVE_DIR_KEY, default=None)
    if save_dir is None:
        from datetime import datetime

        stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
        return Path("multirun") / app_name / stamp
    return checked_save_dir(save_dir)


def _task_overrides(
    cfg: DictConfig, options: SweepOptions
) -> tuple[list[list[str]], dict[str, object] | None]:
    from naga.launch.plan.tasks import (
        check_task_lines,
        check_task_to,
        tasks_from_config,
        tasks_from_file,
    )

    if options.tasks is not None and options.tasks_key is not None:
        raise UsageError("--tasks and --tasks-key both give a task list; use one of them")
    if options.task_to is not None:
        check_task_to(cfg, options.task_to)
    if options.tasks is not None:
        where = f"--tasks {options.tasks}"
        tasks = tasks_from_file(Path(options.tasks), task_to=options.task_to)
        info: dict[str, object] = {
            "file": str(options.tasks),
            "key": None,
            "task_to": options.task_to,
        }
    elif options.tasks_key is not None:
        where = f"--tasks-key {options.tasks_key}"
        tasks = tasks_from_config(cfg, options.tasks_key, task_to=options.task_to)
        info = {"file": None, "key": options.tasks_key, "task_to": options.task_to}
    else:
        if options.task_to is not None:
            raise UsageError(
                f"--task_to {options.task_to} needs a task list; "
                "add --tasks FILE or --tasks-key KEY"
            )
        return [], None
    check_task_lines(tasks, where=where)
    return tasks, info


def _launcher_overrides(options: SweepOptions, hydra_overrides: Sequence[str]) -> list[str]:
    chosen = [item for item in hydra_overrides if override_key(item) == "hydra/launcher"]
    if options.n_jobs is not None and options.slurm_config is not None:
        raise UsageError("--n_jobs and --slurm_config choose different launchers; use one of them")
    given = chosen[0] if chosen else None
    if options.n_jobs is not None:
        if options.n_jobs < 1:
            raise UsageError(f"--n_jobs {options.n_jobs}: give a positive number of parallel jobs")
        picked = registry.flag_launcher("--n_jobs", given)
        return [*picked, f"hydra.launcher.n_jobs={options.n_jobs}"]
    if options.slurm_config is not None:
        from naga.launch.launchers.submitit.settings import slurm_overrides

        picked = registry.flag_launcher("--slurm_config", given)
        return [*picked, *slurm_overrides(Path(options.slurm_config))]
    return []


def _launcher(session: Session, *, debug: bool, detach: bool) -> Launcher:
    """The sweep's launcher; NAGA_DEBUG: in this process, the first failure stops the sweep.

    Raises:
        UsageError: ``--detach`` with a launcher whose jobs need this process.
    """
    launcher = registry.launcher_for(session)
    if detach:
        registry.require_detach(launcher)
    if not debug:
        return launcher
    from naga.launch.launchers.inprocess import InProcess

    return InProcess(launcher.name, stop_at_failure=True)
