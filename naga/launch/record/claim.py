"""One sweep per folder at a time, and the records of the sweeps before it kept.

A folder whose sweep still has queued or running jobs is refused (:func:`refuse_if_live`);
when a new sweep takes a folder over (:func:`take_over`, under the lock file the jobs' own
updates take), the previous sweep.lock moves to ``.naga-sweep/history/<started>_<sweep_id>.lock``
(``<started>`` as ``20261207T175402Z``, so the names sort oldest first).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from naga.errors import UsageError
from naga.launch.record.files import SWEEP_LOCK, as_mapping, history_path, shown_path
from naga.lock.status import LIVE

if TYPE_CHECKING:
    from naga.launch.record.status import JobView, SweepView

__all__ = ["refuse_if_live", "take_over"]

#: ``stop_hint(launcher name, live job ids)``: how to stop them, from the launcher
#: (naga.launch.launchers.registry.stop_hint), e.g. ``, cancel it (scancel 12)``.
StopHint = Callable[[str, Sequence[str]], str]


def refuse_if_live(root: Path, *, shown: str, stop_hint: StopHint | None = None) -> None:
    """Refuse a new sweep into ``root`` while the sweep recorded there has live jobs.

    Without ``stop_hint`` the message stops only the sweep's process, if one waits for them.

    Raises:
        UsageError: A job of the folder's sweep is still queued or running.
    """
    view = _live_view(root)
    if view is None:
        return
    pending = [job for job in view.jobs if job.status in LIVE]
    count = f"{len(pending)} job{'s' if len(pending) != 1 else ''}"
    sweep_id = str(view.data.get("sweep_id") or "?")[:8]
    stop = _how_to_stop(view, pending, stop_hint)
    raise UsageError(
        f"save_dir {shown}: sweep {sweep_id} there still has {count} queued or running; "
        f"wait for it to end (naga status {shlex.quote(shown)} --watch){stop}, "
        "or give this sweep another save_dir"
    )


def take_over(root: Path, sweep_id: str) -> Path | None:
    """Make ``root`` ready for sweep ``sweep_id``'s first sweep.lock; call under its lock.

    The record of another sweep is checked once more (a sweep started meanwhile) and
    moved to the history.

    Returns:
        Where the previous record went, or ``None`` when there was none to move (no
        sweep.lock, or this sweep's own: a resumed sweep).

    Raises:
        UsageError: The folder's sweep has live jobs again (started since the first check).
        OSError: The history folder cannot be written.
    """
    from naga.lock.format import try_read

    path = root / SWEEP_LOCK
    if not path.exists():
        return None
    data = try_read(path) or {}
    if str(data.get("sweep_id")) == sweep_id:
        return None
    refuse_if_live(root, shown=shown_path(root))
    target = history_path(root, data, path)
    target.parent.mkdir(parents=True, exist_ok=True)
    path.replace(target)
    return target


def _live_view(root: Path) -> SweepView | None:
    from naga.launch.record.status import read_sweep

    if not (root / SWEEP_LOCK).exists():
        return None
    try:
        view = read_sweep(root, command="naga")
    except UsageError:
        return None  # not a sweep.lock naga can read: it is kept as it is, not obeyed
    return view if view.pending else None


def _how_to_stop(view: SweepView, pending: list[JobView], stop_hint: StopHint | None) -> str:
    ids = sorted({str(job.job_id) for job in pending if job.job_id})
    hint = stop_hint(view.launcher, ids) if stop_hint is not None else ""
    if hint:
        return hint
    launch = as_mapping(view.data.get("launch"))
    if isinstance(pid := launch.get("pid"), int) and not launch.get("detached"):
        return f", stop it (Ctrl-C in its terminal, or kill {pid} on {launch.get('host')})"
    return ""
