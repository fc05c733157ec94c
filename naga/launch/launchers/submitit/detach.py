"""``--detach``: submit every job of a submitit sweep, write sweep.lock, and return.

Researchers submit from a login node and go home. With ``--detach`` the command writes
``sweep.lock`` with every job ``queued`` (each with its Slurm job id once submitted),
prints the sweep directory and the command that follows it, and exits 0 without waiting.
From then on the jobs keep their run.locks and their entries of sweep.lock up to date
themselves (naga.launch.record.sync); ``naga status`` shows the sweep, ``naga resume``
submits again what did not complete.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from naga.errors import UsageError
from naga.lock.status import QUEUED

__all__ = ["check_launcher", "detach"]


def check_launcher(launcher: str) -> None:
    """Refuse ``--detach`` for a launcher that runs jobs in this process or its children.

    Raises:
        UsageError: The launcher is not submitit's (Slurm or local).
    """
    from naga.launch.launchers.submitit.submit import SUBMITIT

    if launcher not in SUBMITIT:
        raise UsageError(
            f"--detach needs a launcher that runs jobs without this command "
            f"(submitit_slurm or submitit_local), but this sweep uses the {launcher} launcher; "
            "add --slurm_config FILE or hydra/launcher=submitit_slurm (or submitit_local), "
            "or drop --detach"
        )


def detach(  # noqa: PLR0917 - the sweep's parts, as dispatch has them
    session: Any,
    submitter: Any,
    task: Any,
    state: Any,
    launch_lists: Sequence[Sequence[str]],
    todo: Sequence[Any],
) -> int:
    """Submit the ``todo`` jobs (sweep.lock records) and return 0 once all are queued."""
    from naga.launch.launchers.submitit.submit import assign_ids
    from naga.launch.record.files import SWEEP_LOCK
    from naga.launch.record.sync import update_jobs
    from naga.lock.format import try_read

    local = session.launcher_name != "submitit_slurm"
    for job in todo:
        job.status = QUEUED
    if (try_read(state.root / SWEEP_LOCK) or {}).get("sweep_id") == state.sweep_id:
        # A resumed sweep whose other jobs may still be running and writing their entries:
        # only this submission's entries (and the launch record) change.
        fresh = {job.name: job.as_dict(state.root) for job in todo}
        launch = {"launch": state.extra.get("launch")}
        update_jobs(state.root, fresh, sweep_id=state.sweep_id, top=launch)
    else:
        state.write()  # before submitting: a job may start, and update it, right away
    names = [job.name for job in sorted(state.jobs, key=lambda job: job.num)]

    def record_ids(ids: dict[int, str]) -> None:
        # The jobs of an array may already be updating sweep.lock: merge under its lock.
        assign_ids(todo, ids, local=local)
        key = "job_id" if local else "slurm_job_id"
        changes = {names[num]: {key: job_id} for num, job_id in ids.items()}
        update_jobs(state.root, changes, sweep_id=state.sweep_id)

    submitted, _ = submitter.submit(
        session, task, launch_lists, [job.num for job in todo], names, on_array=record_ids
    )
    _report(state.root, session.launcher_name, len(todo), submitted)
    return 0


def _report(root: Path, launcher: str, count: int, submitted: Any) -> None:
    shown = _shown(root)
    jobs = f"{count} job{'s' if count != 1 else ''}"
    they = "they run" if count != 1 else "it runs"
    if launcher == "submitit_slurm":
        ids = ", ".join(submitted.arrays)
        elements = len(submitted.jobs)
        packed = f" in {elements} array elements" if elements != count else ""
        label = "Slurm jobs" if len(submitted.arrays) > 1 else "Slurm job"
        print(f"submitted {jobs}{packed} ({label} {ids}); {they} without this command")
    else:
        print(f"started {jobs} on this machine (submitit_local); {they} without this command")
    print(f"sweep: {shown}")
    print(f"follow it: naga status {_quote(shown)} --watch")
    sys.stdout.flush()


def _shown(root: Path) -> str:
    relative = os.path.relpath(root)
    return str(root) if relative.startswith("..") else relative


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)
