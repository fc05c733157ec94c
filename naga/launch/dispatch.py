"""From composed jobs to running ones: who submits them, and whether anyone waits.

Shared by a new sweep (naga.launch.sweep) and a resumed one (naga.launch.resume):

- submitit launchers (Slurm, submitit_local) are submitted by naga itself
  (naga.launch.launchers.submitit.submit: isolation of the submitted code, arrays, requeue); basic
  runs in
  this process (naga.launch.launchers.inprocess), joblib and other plugins through Hydra's launcher
  plugin (naga.launch.sweep._launch); on every path each job gets the config derived for it
  (``configs``, naga.launch.plan.compose) and carried by its last override
  (naga.launch.plan.handoff), so no job composes its config again;
- ``--detach`` returns once every job is queued (naga.launch.launchers.submitit.detach); otherwise
the sweep's
  process waits, shows progress and reports (naga.launch.sweep);
- sweep.lock records, under ``launch``, how to start the sweep again (``naga resume``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["dispatch", "launch_info"]

#: Flags that say how this command runs, not which sweep it is: left out of ``launch.args``.
_OWN_FLAGS = ("--detach",)
_OWN_VALUED = ("--resume",)


def dispatch(  # noqa: PLR0917 - the sweep's parts, as run_sweep has them
    session: Any,
    app: Any,
    state: Any,
    configs: Any,
    launch_lists: list[list[str]],
    options: Any,
    session_overrides: Sequence[str],
    *,
    debug: bool,
    tasks_per_job: int | None = None,
    todo: Sequence[Any] | None = None,
) -> int:
    """Start the jobs of ``state`` that are not done (or ``todo``); the process exit code.

    Args:
        session: The sweep's Hydra session.
        app: The decorated function.
        state: The sweep (sweep.lock records).
        configs: The jobs' precomposed configs (naga.launch.plan.compose.JobConfigs).
        launch_lists: Every job's launcher overrides, by job number; the last one of each
            job to start is its :class:`naga.launch.plan.handoff.JobOverride`, which carries
            the job's config to wherever it runs (no job composes its config again).
        options: The sweep flags.
        session_overrides: What the session was composed from (recorded for resume).
        debug: NAGA_DEBUG is set (jobs run in this process).
        tasks_per_job: Jobs per array element; default: the ``--slurm_config`` file's.
        todo: The jobs to submit (``--detach``); default: every job not done.
    """
    from naga.launch.launchers.submitit.submit import SUBMITIT, Submitter
    from naga.launch.record.progress import Monitor, summary_lines
    from naga.launch.sweep import _run

    if tasks_per_job is None:
        from naga.launch.launchers.submitit.settings import naga_settings

        tasks_per_job = int(naga_settings(options.slurm_config)["tasks_per_job"])
    submitter = None
    if session.launcher_name in SUBMITIT and not debug:
        submitter = Submitter.for_sweep(
            app, state.root, tasks_per_job=tasks_per_job, isolate=options.isolate
        )
        app = submitter.app
    state.extra["launch"] = launch_info(
        session_overrides,
        given_root=state.given_root,
        tasks_per_job=tasks_per_job,
        isolate=options.isolate,
        detached=options.detach,
        commit=submitter.isolation.commit if submitter and submitter.isolation else None,
    )
    if options.detach:
        from naga.launch.launchers.submitit.detach import detach
        from naga.launch.launchers.task import SweepTask

        task = SweepTask(
            app=app,
            launcher=state.launcher,
            sweep_id=state.sweep_id,
            root=state.given_root,
            in_process=False,
        )
        jobs = [job for job in state.jobs if not job.done] if todo is None else list(todo)
        return detach(session, submitter, task, state, launch_lists, jobs)
    return _run(
        session,
        app,
        state,
        configs,
        launch_lists,
        debug=debug,
        monitor_cls=Monitor,
        summary=summary_lines,
        submitter=submitter,
    )


def launch_info(
    session_overrides: Sequence[str],
    *,
    given_root: str,
    tasks_per_job: int,
    isolate: bool,
    detached: bool,
    commit: str | None,
) -> dict[str, Any]:
    """sweep.lock's ``launch``: how this sweep was started, enough to start it again."""
    from naga.lock.liveness import pid_start
    from naga.lock.record import host

    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    module = getattr(spec, "name", None)
    start = ["-m", module] if module and module != "__main__" else [sys.argv[0]]
    return {
        "python": sys.executable,
        "start": start,
        "args": own_args(sys.argv[1:]),
        "cwd": str(Path.cwd()),
        "host": host(),
        "pid": os.getpid(),
        "pid_start": pid_start(),
        "detached": detached,
        "hydra_overrides": list(session_overrides),
        "given_root": given_root,
        "tasks_per_job": tasks_per_job,
        "isolate": isolate,
        "code": commit,
    }


def own_args(args: Sequence[str]) -> list[str]:
    """``args`` without the flags that only say how this command ran (--detach, --resume)."""
    out: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg in _OWN_FLAGS:
            continue
        if arg in _OWN_VALUED:
            skip = True
            continue
        if any(arg.startswith(flag + "=") for flag in _OWN_VALUED):
            continue
        out.append(arg)
    return out
