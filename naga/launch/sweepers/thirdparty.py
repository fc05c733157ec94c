"""Any installed Hydra sweeper (Nevergrad, Ax, hydra-optuna-sweeper, a lab's own) with naga.

The sweep runs as ``Hydra.multirun`` runs it, with naga's task: since nobody knew a job up
front, each job adds its own entry to ``sweep.lock`` when it starts (naga.launch.record.sync).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from naga.launch.job import App
    from naga.launch.plan.hydra_session import Session
    from naga.launch.record.sweeplock import SweepState

from naga.lock.status import COMPLETED, FAILED

__all__ = ["run_hydra_sweeper"]


def run_hydra_sweeper(
    session: Session,
    app: App,
    overrides: Sequence[str],
    session_overrides: Sequence[str],
    *,
    given_root: Path,
) -> int:
    """Run the sweep with the configured sweeper plugin; 0 when every job completed."""
    from hydra.core.plugins import Plugins
    from hydra.core.utils import setup_globals
    from hydra.types import HydraContext
    from omegaconf import OmegaConf

    from naga.launch.launchers import registry
    from naga.launch.launchers.task import SweepTask
    from naga.launch.plan import hydra_session
    from naga.launch.plan.jobs import sweep_state
    from naga.launch.record.claim import refuse_if_live
    from naga.launch.record.files import error_line
    from naga.launch.record.relaunch import launch_info

    root = given_root.absolute()
    # A folder whose sweep still runs is not taken.
    refuse_if_live(root, shown=str(given_root), stop_hint=registry.stop_hint)
    hydra_session.set_sweep_dir(session, str(given_root))
    target = hydra_session.sweeper_target(session)
    settings = OmegaConf.to_container(session.cfg.hydra.sweeper, resolve=False)
    state = sweep_state(
        app, root, str(given_root), overrides, launcher=registry.launcher_for(session).name
    )
    name = str(session.cfg.hydra.runtime.choices.get("hydra/sweeper") or target.rsplit(".", 1)[-1])
    state.extra["sweeper"] = {"name": name, "target": target, "settings": settings}
    state.extra["launch"] = launch_info(session_overrides, given_root=str(given_root))
    root.mkdir(parents=True, exist_ok=True)
    state.write()
    task = SweepTask(
        app=app,
        launcher=state.launcher,
        sweep_id=state.sweep_id,
        root=str(root),
        in_process=False,  # the sweeper reads failures from JobReturns, never our exceptions
        register=True,
    )
    started = time.monotonic()
    error: str | None = None
    setup_globals()
    with hydra_session.multirun_callbacks(session) as callbacks:
        context = HydraContext(config_loader=session.hydra.config_loader, callbacks=callbacks)
        sweeper = hydra_session.guard(
            lambda: Plugins.instance().instantiate_sweeper(
                config=session.cfg, hydra_context=context, task_function=task
            ),
            f"hydra/sweeper={name}",
        )
        arguments = hydra_session.override_lines(session.cfg.hydra.overrides.task)
        try:
            sweeper.sweep(arguments=arguments)
        except Exception as exc:  # the sweeper's own failure (e.g. a job's error re-raised)
            error = error_line(exc)
    return _finish(state, round(time.monotonic() - started, 3), error, target)


def _finish(state: SweepState, duration: float, error: str | None, target: str) -> int:
    """Write the sweep's end into sweep.lock (its jobs wrote their own entries); report."""
    from naga.launch.record.progress import summary_lines
    from naga.launch.record.sweeplock import now_iso
    from naga.launch.record.sync import update_jobs
    from naga.launch.sweepers.record import records_from
    from naga.lock.format import try_read

    top: dict[str, object] = {"finished_at": now_iso(), "duration_s": duration}
    if error:
        top["sweeper_error"] = error
    update_jobs(state.root, {}, sweep_id=state.sweep_id, top=top)
    data = try_read(state.path) or {}
    state.jobs = records_from(data, state.root)
    state.duration_s = duration
    bad = any(job.status != COMPLETED for job in state.jobs)
    state.status = FAILED if bad or error else COMPLETED
    update_jobs(state.root, {}, sweep_id=state.sweep_id, top={"status": state.status})
    for line in summary_lines(state):
        print(line, file=sys.stderr)
    if error:
        print(f"[naga] the {target} sweeper stopped: {error}", file=sys.stderr)
    return 1 if state.status != COMPLETED else 0
