"""A sweep started again from its sweep.lock: only the jobs that did not complete.

``naga resume`` runs the recorded command with ``--resume SWEEP_DIR``, which comes here with
the user's function at hand. Jobs, overrides and Hydra overrides are the recorded ones (the
config files are read again); failed, interrupted and lost jobs run again in their own
directories under the same sweep id; live jobs are left to finish (only with ``--detach``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from naga.errors import UsageError
from naga.lock.status import BAD, LIVE

if TYPE_CHECKING:
    from naga.launch.job import App
    from naga.launch.options import SweepOptions
    from naga.launch.record.status import JobView, SweepView
    from naga.launch.record.sweeplock import JobRecord

__all__ = ["run_resumed", "to_resume"]


def to_resume(view: SweepView) -> tuple[list[JobView], list[JobView]]:
    """``(jobs to run again, jobs still queued or running)`` of a sweep's current view."""
    again = [job for job in view.jobs if job.status in BAD]
    live = [job for job in view.jobs if job.status in LIVE]
    return again, live


def check_resumable(
    view: SweepView, *, detach: bool, command: str = "naga resume"
) -> dict[str, object]:
    """The sweep's ``launch`` record, once resuming it this way makes sense.

    Raises:
        UsageError: An earlier sweep's record; no ``launch`` record; ``--detach`` with an
            in-process launcher; jobs still pending without ``--detach``.
    """
    if view.archived:
        raise UsageError(
            f"{command} {view.record}: this is the record of an earlier sweep of {view.root}, "
            f"which a newer sweep took over; resume the newest one (naga resume {view.root}) "
            "or run the earlier sweep's command again with another save_dir"
        )
    launch = view.data.get("launch")
    if not isinstance(launch, dict) or not (launch.get("args") or launch.get("start")):
        raise UsageError(
            f"{command} {view.root}: its sweep.lock records no launch command (written by an "
            "older naga); run the sweep's command again with --skip-completed"
        )
    if detach:
        from naga.launch.launchers import registry

        try:
            registry.require_detach(registry.by_name(view.launcher))
        except UsageError as exc:
            raise UsageError(f"{command} --detach: {exc}; resume without --detach") from None
    _, live = to_resume(view)
    if live and not detach:
        names = ", ".join(job.name for job in live[:3]) + (", ..." if len(live) > 3 else "")
        raise UsageError(
            f"{command} {view.root}: {len(live)} jobs are still queued or running ({names}); "
            f"wait for them (naga status {view.root} --watch) or resume the others with --detach"
        )
    return launch


def run_resumed(app: App, options: SweepOptions) -> int:
    """Run the sweep in ``options.resume`` again, for the jobs that did not complete."""
    from naga.launch.dispatch import dispatch
    from naga.launch.launchers import registry
    from naga.launch.launchers.base import Launch
    from naga.launch.plan import hydra_session
    from naga.launch.plan.jobs import job_configs, sweep_state
    from naga.launch.record.files import as_list
    from naga.launch.record.status import read_sweep

    assert options.resume is not None  # run_sweep comes here for --resume only
    root = Path(options.resume).absolute()
    view = read_sweep(root, command="--resume")
    launch = check_resumable(view, detach=options.detach, command="--resume")
    again, _ = to_resume(view)
    if not again:
        print(
            f"[naga] nothing to resume in {root}: no job failed, was interrupted or lost",
            file=sys.stderr,
        )
        return 0
    rerun = {job.name for job in again}
    session_overrides = [str(item) for item in as_list(launch.get("hydra_overrides"))]
    session = hydra_session.open_session(app.base, app.name, session_overrides)
    try:
        given_root = str(launch.get("given_root") or root)
        hydra_session.set_sweep_dir(session, given_root)
        launcher = registry.launcher_for(session)
        records = _records(view, root, rerun)
        # The jobs to run again get their configs as a new sweep's do (naga.launch.plan.jobs);
        # jobs left alone are neither checked nor derived.
        configs, launch_lists = job_configs(
            session,
            [record.overrides for record in records],
            [record.name for record in records],
            carries_task=launcher.capabilities.carries_task,
            derive=rerun,
        )
        data = view.data
        state = sweep_state(
            app,
            root,
            given_root,
            [str(item) for item in as_list(data.get("overrides"))],
            launcher=launcher.name,
            jobs=records,
            tasks=tasks if isinstance(tasks := data.get("tasks"), dict) else None,
        )
        state.command = [str(item) for item in as_list(data.get("command"))]
        state.sweep_id = str(data.get("sweep_id") or state.sweep_id)
        state.started_at = str(data.get("started_at") or state.started_at)
        return dispatch(
            Launch(session, app, state, configs, launch_lists),
            launcher,
            options,
            session_overrides,
            tasks_per_job=int(str(launch.get("tasks_per_job") or 1)),
            todo=[record for record in records if record.name in rerun],
        )
    finally:
        hydra_session.close()


def _records(view: SweepView, root: Path, rerun: set[str]) -> list[JobRecord]:
    """sweep.lock records of every job: fresh for the jobs run again, as recorded otherwise."""
    from naga.launch.plan.jobs import job_records
    from naga.launch.record.files import as_list, as_mapping, text_or_none

    entries = {
        str(entry.get("name")): entry for entry in map(as_mapping, as_list(view.data["jobs"]))
    }
    names = [job.name for job in view.jobs]
    records = job_records(root, [job.overrides for job in view.jobs], names)
    for job, record in zip(view.jobs, records, strict=True):
        if job.name not in rerun:
            entry = entries.get(job.name) or {}
            record.status = job.status
            record.started_at = job.started_at
            record.duration_s = job.duration_s
            record.error = job.error
            record.slurm_job_id = text_or_none(entry.get("slurm_job_id"))
            record.run_id = text_or_none(entry.get("run_id"))
            # Every other key of the entry stays as recorded: a local job's pid (job_id),
            # attempts, and whatever a newer naga records there.
            own = set(record.as_dict(root))
            record.extra.update({k: v for k, v in entry.items() if k not in own})
    return records
