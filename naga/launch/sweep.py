"""Where a sweep is launched: ``run_sweep``, from one run to a hundred, each with its receipt.

clicfg calls :func:`run_sweep` when the command line describes several jobs
(``-m``, ``--tasks``, ``--tasks-key``). The sweep is expanded with Hydra's own sweeper
grammar and every job is checked up front (so a bad value fails before anything runs).
The sweep's config is composed once and each job's config derived from it
(:mod:`naga.launch.plan.compose`); the jobs run in this process (basic launcher,
:mod:`naga.launch.launchers.inprocess`) or go to Hydra's launcher plugin (joblib, submitit_local,
submitit_slurm) carrying their finished configs (:mod:`naga.launch.plan.handoff`). Each job
writes its run.lock in its own process; the parent keeps ``sweep.lock`` current, shows
progress and ends with a summary.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from naga.debug import ENV_VAR as DEBUG_ENV_VAR
from naga.debug import debug_enabled
from naga.errors import UsageError
from naga.launch.job import SAVE_DIR_KEY, App, checked_save_dir, job_failed
from naga.launch.options import SweepOptions
from naga.launch.plan.naming import is_hydra_key, job_names, override_key
from naga.lock.status import BAD, COMPLETED, FAILED, INTERRUPTED, QUEUED, RUNNING

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

    Args:
        app: The decorated function and its base config.
        overrides: The command-line overrides (sweeps, plain values, ``hydra.*``).
        options: The sweep flags (``-m``, ``--tasks``, launchers, ``--skip-completed``).

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
        if options.detach:
            from naga.launch.launchers.submitit.detach import check_launcher

            check_launcher(session.launcher_name)
        given_root = _sweep_root(session.cfg, app.name)
        if not hydra_session.sweeper_target(session).endswith("BasicSweeper"):
            from naga.launch.sweepers.search import run_search  # Optuna, or another sweeper

            return run_search(
                session, app, overrides, options, session_overrides, given_root=given_root
            )
        root = given_root.absolute()
        # Before anything is written: a folder whose sweep still runs is not taken over.
        refuse_if_live(root, shown=str(given_root))
        hydra_session.set_sweep_dir(session, str(given_root))
        grid = hydra_session.expand(session)
        tasks, tasks_info = _task_overrides(session.cfg, options)
        jobs = [[*cell, *task] for cell in grid for task in tasks] if tasks else grid
        names = job_names(jobs)
        records = job_records(root, jobs, names)
        _check_distinct_dirs(records, root)
        # joblib jobs run with naga's start_job in the worker: their task config travels too.
        carries_task = session.launcher_name == "joblib"
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
            launcher=session.launcher_name,
            jobs=records,
            tasks=tasks_info,
        )
        from naga.launch.dispatch import dispatch

        return dispatch(
            session, app, state, configs, launch_lists, options, session_overrides, debug=debug
        )
    finally:
        hydra_session.close()


def _resumes_grid(options: SweepOptions) -> bool:
    """``--resume`` of a grid sweep; a study (naga.launch.sweepers) is composed again instead."""
    if options.resume is None:
        return False
    from naga.launch.sweepers.controller import recorded_study

    return recorded_study(options.resume) is None


def _run(
    session: Any,
    app: App,
    state: Any,
    configs: Any,
    launch_lists: list[list[str]],
    *,
    debug: bool,
    monitor_cls: Any,
    summary: Any,
    submitter: Any = None,
) -> int:
    from naga.launch.launchers.task import SweepTask
    from naga.launch.plan import hydra_session
    from naga.lock.interrupt import Interrupted, SignalGuard

    todo = [job for job in state.jobs if not job.done]
    in_process = state.launcher in hydra_session.IN_PROCESS
    task = SweepTask(
        app=app,
        launcher=state.launcher,
        sweep_id=state.sweep_id,
        root=state.given_root,
        in_process=in_process,
    )
    # In process, the parent sees each job start and end: nothing to poll.
    monitor = monitor_cls(state, poll_files=not in_process)
    started = time.monotonic()
    monitor.start()
    interrupted = False
    # A signal to the sweep's own process (a closed terminal, scancel of a sweep running
    # inside a Slurm allocation) ends it as interrupted, with sweep.lock saying so.
    guard = SignalGuard()
    guard.install(lambda signum, frame, stop: None)
    try:
        if todo:
            _launch(
                session,
                configs,
                task,
                todo=todo,
                launch_lists=launch_lists,
                monitor=monitor,
                debug=debug,
                submitter=submitter,
            )
    except (KeyboardInterrupt, Interrupted):
        interrupted = True
        raise
    finally:
        guard.restore()
        monitor.stop()
        _finish(state, started, interrupted=interrupted)
        for line in summary(state):
            print(line, file=sys.stderr)
    return 1 if state.status != COMPLETED else 0


def _launch(
    session: Any,
    configs: Any,
    task: Any,
    *,
    todo: Sequence[Any],
    launch_lists: list[list[str]],
    monitor: Any,
    debug: bool,
    submitter: Any = None,
) -> None:
    """Run the jobs in process, through the launcher plugin or naga's own submission.

    ``submitter`` (naga.launch.launchers.submitit.submit) submits the jobs of a submitit sweep;
    each job
    carries its precomposed config all the same (naga.launch.plan.handoff).

    Raises:
        BaseException: In debug mode, the first job failure (for the debugger); a signal
            or Ctrl-C that stops the sweep.
    """
    from naga.launch.record.files import error_line
    from naga.launch.record.progress import apply_run_lock

    try:
        if submitter is not None:  # submitit: naga submits, waits and records each job
            submitter.run(session, task, todo, launch_lists, monitor)
        elif task.in_process:
            _run_in_process(session, configs, task, todo, monitor, debug=debug)
        else:
            results = _run_with_plugin(session, task, todo, launch_lists)
            _apply_results(todo, results, monitor)
    except _DebugStop as stop:
        raise stop.failure from None
    except Exception as exc:
        # A launcher that died (e.g. a Slurm job killed before it could report) leaves the
        # jobs' run.locks as the only truth.
        with monitor.state.lock:
            for job in todo:
                if not job.done:
                    apply_run_lock(job)
                if not job.done:
                    job.status = FAILED
                    job.error = f"launcher error: {error_line(exc)}"


def _finish(state: Any, started: float, *, interrupted: bool) -> None:
    """Write the final status: interrupted while jobs were open, else failed or completed."""
    from naga.launch.record.sweeplock import now_iso

    counts = state.counts()
    state.finished_at = now_iso()
    state.duration_s = round(time.monotonic() - started, 3)
    if interrupted or counts[RUNNING] or counts[QUEUED]:
        state.status = INTERRUPTED
        for job in state.jobs:
            if job.status == RUNNING:
                job.status = INTERRUPTED
    else:
        bad = sum(counts[s] for s in BAD)
        state.status = FAILED if bad else COMPLETED
    state.write()


class _DebugStop(Exception):
    """NAGA_DEBUG: the first failed job stops the sweep with its own exception."""

    def __init__(self, failure: BaseException) -> None:
        super().__init__(str(failure))
        self.failure = failure


def _run_in_process(
    session: Any, configs: Any, task: Any, todo: Sequence[Any], monitor: Any, *, debug: bool
) -> None:
    from naga.launch.launchers import inprocess
    from naga.launch.record.sweeplock import now_iso

    state = monitor.state
    by_num = {job.num: job for job in todo}

    def started(num: int) -> None:
        with state.lock:
            job = by_num[num]
            job.status, job.started_at = RUNNING, now_iso()
        monitor.changed()

    def ended(num: int, ret: Any) -> None:
        _apply_results([by_num[num]], [ret], monitor)
        failure = job_failed(ret)
        if debug and failure is not None:
            raise _DebugStop(failure)

    inprocess.launch(
        session, configs, task, [job.num for job in todo], on_start=started, on_end=ended
    )


def _run_with_plugin(
    session: Any, task: Any, todo: Sequence[Any], launch_lists: list[list[str]]
) -> list[Any]:
    from naga.launch.plan import hydra_session
    from naga.launch.plan.handoff import PrecomposedLoader

    loader = PrecomposedLoader(session.hydra.config_loader)
    with hydra_session.multirun_callbacks(session) as callbacks:
        launcher = hydra_session.make_launcher(session, task, callbacks, loader=loader)
        if session.launcher_name == "joblib":
            from naga.launch.launchers import joblib_pool

            jobs = [(job.num, launch_lists[job.num][-1]) for job in todo]
            return joblib_pool.launch(session, launcher, task, callbacks, jobs)
        return list(launcher.launch([launch_lists[job.num] for job in todo], initial_job_idx=0))


def _check_distinct_dirs(records: Sequence[Any], root: Path) -> None:
    """Two jobs writing one directory would mix their outputs and fight over its run.lock."""
    seen: dict[str, Any] = {}
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


def _apply_results(batch: Sequence[Any], results: Sequence[Any], monitor: Any) -> None:
    """Final state of each job: the JobReturn decides; run.lock adds times and ids."""
    from naga.launch.record.files import error_line
    from naga.launch.record.progress import apply_run_lock

    with monitor.state.lock:
        for job, ret in zip(batch, results, strict=False):
            was_done = job.done
            apply_run_lock(job)
            failure = job_failed(ret)
            if failure is not None:
                job.status = FAILED if job.status != INTERRUPTED else INTERRUPTED
                job.error = job.error or error_line(failure)
            else:
                job.status, job.error = COMPLETED, None
            if not was_done:
                monitor.job_finished(job)
    monitor.changed()


def _sweep_root(cfg: Any, app_name: str) -> Path:
    from omegaconf import OmegaConf

    save_dir = OmegaConf.select(cfg, SAVE_DIR_KEY, default=None)
    if save_dir is None:
        from datetime import datetime

        stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
        return Path("multirun") / app_name / stamp
    return checked_save_dir(save_dir)


def _task_overrides(
    cfg: Any, options: SweepOptions
) -> tuple[list[list[str]], dict[str, Any] | None]:
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
        info = {"file": str(options.tasks), "key": None, "task_to": options.task_to}
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
    if options.n_jobs is not None:
        if options.n_jobs < 1:
            raise UsageError(f"--n_jobs {options.n_jobs}: give a positive number of parallel jobs")
        if chosen and chosen[0].split("=", 1)[1] != "joblib":
            raise UsageError(
                f"--n_jobs runs jobs with the joblib launcher, but {chosen[0]} was given; drop one"
            )
        picked = [] if chosen else ["hydra/launcher=joblib"]
        return [*picked, f"hydra.launcher.n_jobs={options.n_jobs}"]
    if options.slurm_config is not None:
        if chosen and chosen[0].split("=", 1)[1] != "submitit_slurm":
            raise UsageError(
                f"--slurm_config submits to Slurm, but {chosen[0]} was given; drop one"
            )
        from naga.launch.launchers.submitit.settings import slurm_overrides

        picked = [] if chosen else ["hydra/launcher=submitit_slurm"]
        return [*picked, *slurm_overrides(Path(options.slurm_config))]
    return []
