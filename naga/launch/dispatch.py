"""From composed jobs to running ones, for new and resumed sweeps: the launcher gets ready,
then starts the jobs while this process waits, shows progress and reports, or, with
``--detach``, returns once every job is queued. sweep.lock records under ``launch`` how to
start the sweep again (``naga resume``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from naga.lock.status import BAD, COMPLETED, FAILED, INTERRUPTED, QUEUED, RUNNING

if TYPE_CHECKING:
    from naga.launch.launchers.base import Launch, Launcher
    from naga.launch.options import SweepOptions
    from naga.launch.record.sweeplock import JobRecord, SweepState

__all__ = ["dispatch"]


def dispatch(
    sweep: Launch,
    launcher: Launcher,
    options: SweepOptions,
    session_overrides: Sequence[str],
    *,
    tasks_per_job: int | None = None,
    todo: Sequence[JobRecord] | None = None,
) -> int:
    """Start the jobs of ``sweep.state`` that are not done (or ``todo``); the exit code.

    ``session_overrides`` are recorded for resume; ``tasks_per_job`` defaults to the
    ``--slurm_config`` file's; ``todo`` (``--detach``) defaults to every job not done.

    Returns:
        0 when every job completed (or was skipped, or, detached, was queued), else 1.
    """
    from dataclasses import replace

    from naga.launch.record.relaunch import launch_info

    state = sweep.state
    if tasks_per_job is None:
        from naga.launch.launchers.submitit.settings import naga_settings

        tasks_per_job = int(naga_settings(options.slurm_config)["tasks_per_job"])
    app = launcher.prepare(
        sweep.app, state.root, tasks_per_job=tasks_per_job, isolate=options.isolate
    )
    sweep = replace(sweep, app=app)
    state.extra["launch"] = launch_info(
        session_overrides,
        given_root=state.given_root,
        tasks_per_job=tasks_per_job,
        isolate=options.isolate,
        detached=options.detach,
        commit=launcher.code,
    )
    if options.detach:
        jobs = [job for job in state.jobs if not job.done] if todo is None else list(todo)
        return launcher.detach(sweep, jobs)
    return _wait(sweep, launcher)


def _wait(sweep: Launch, launcher: Launcher) -> int:
    """Run the jobs not done, showing progress, then write the sweep's end and report."""
    from naga.launch.launchers.base import StopSweep
    from naga.launch.record.outcome import launcher_failed
    from naga.launch.record.progress import Monitor, summary_lines
    from naga.lock.interrupt import Interrupted, SignalGuard

    state = sweep.state
    todo = [job for job in state.jobs if not job.done]
    # In process, the parent sees each job start and end: nothing to poll.
    monitor = Monitor(state, poll_files=not launcher.capabilities.in_process)
    started = time.monotonic()
    monitor.start()
    interrupted = False
    # A signal to the sweep's own process (a closed terminal, scancel of a sweep running
    # inside a Slurm allocation) ends it as interrupted, with sweep.lock saying so.
    guard = SignalGuard()
    guard.install(lambda signum, frame, stop: None)
    try:
        if todo:
            try:
                launcher.run(sweep, todo, monitor)
            except StopSweep as stop:
                raise stop.failure from None
            except Exception as exc:
                launcher_failed(todo, exc, state)
    except (KeyboardInterrupt, Interrupted):
        interrupted = True
        raise
    finally:
        guard.restore()
        monitor.stop()
        _finish(state, started, interrupted=interrupted)
        for line in summary_lines(state):
            print(line, file=sys.stderr)
    return 1 if state.status != COMPLETED else 0


def _finish(state: SweepState, started: float, *, interrupted: bool) -> None:
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
        bad = sum(counts[status] for status in BAD)
        state.status = FAILED if bad else COMPLETED
    state.write()
