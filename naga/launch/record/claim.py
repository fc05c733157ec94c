"""One sweep per folder at a time, and the records of the sweeps before it kept.

A sweep's folder (its save_dir) holds one ``sweep.lock``: the newest sweep's, the one
``naga status`` and ``naga resume`` act on. Two rules keep it honest:

- **A folder whose sweep still has live jobs is refused.** Before a new sweep writes
  anything, :func:`refuse_if_live` asks where the folder's current sweep stands (its
  sweep.lock, its jobs' run.locks and Slurm's queue, naga.launch.record.status); while any of its
  jobs is queued or running, the new sweep stops with one line naming the folder, the live
  sweep and what to do.
- **A finished sweep's record is kept.** When the new sweep writes its first sweep.lock
  (:func:`take_over`, under the lock file the jobs' own updates take), the previous
  record is moved, as it is, to ``.naga-sweep/history/<started>_<sweep_id>.lock`` beside
  it (``<started>`` as ``20261207T175402Z``, so the names sort oldest first).
  ``naga status FILE`` shows one of them; its jobs, which only ever write into their own
  sweep's record (naga.launch.record.sync matches the sweep id), leave the new one alone.
"""

from __future__ import annotations

import os
import shlex
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from naga.errors import UsageError
from naga.launch.record.sweeplock import SWEEP_LOCK
from naga.lock.status import LIVE

__all__ = ["HISTORY_DIR", "history", "refuse_if_live", "take_over"]

#: Where the records of a folder's earlier sweeps go, relative to the folder.
HISTORY_DIR = Path(".naga-sweep") / "history"
_SUFFIX = ".lock"


def refuse_if_live(root: Path, *, shown: str) -> None:
    """Refuse a new sweep into ``root`` while the sweep recorded there has live jobs.

    Args:
        root: The folder (the new sweep's save_dir).
        shown: The folder as the user gave it, for the message.

    Raises:
        UsageError: A job of the folder's sweep is still queued or running.
    """
    view = _live_view(root)
    if view is None:
        return
    pending = [job for job in view.jobs if job.status in LIVE]
    count = f"{len(pending)} job{'s' if len(pending) != 1 else ''}"
    sweep_id = str(view.data.get("sweep_id") or "?")[:8]
    stop = _how_to_stop(view, pending)
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
    refuse_if_live(root, shown=_shown(root))
    target = _history_path(root, data, path)
    target.parent.mkdir(parents=True, exist_ok=True)
    path.replace(target)
    return target


def history(root: Path) -> list[Path]:
    """The records of the earlier sweeps of ``root``, oldest first."""
    folder = root / HISTORY_DIR
    try:
        names = sorted(entry.name for entry in os.scandir(folder) if entry.name.endswith(_SUFFIX))
    except OSError:
        return []
    return [folder / name for name in names]


def is_history(path: Path) -> bool:
    """True for a record in a folder's history (``<root>/.naga-sweep/history/x.lock``)."""
    return path.name.endswith(_SUFFIX) and path.parent.parts[-2:] == HISTORY_DIR.parts


def history_root(path: Path) -> Path:
    """The sweep folder a history record belongs to."""
    return path.parent.parent.parent


def _live_view(root: Path) -> Any:
    from naga.launch.record.status import read_sweep

    if not (root / SWEEP_LOCK).exists():
        return None
    try:
        view = read_sweep(root, command="naga")
    except UsageError:
        return None  # not a sweep.lock naga can read: it is kept as it is, not obeyed
    return view if view.pending else None


def _how_to_stop(view: Any, pending: list[Any]) -> str:
    ids = sorted({str(job.job_id) for job in pending if job.job_id})
    if view.launcher == "submitit_slurm" and ids:
        arrays = sorted({job_id.split("_", 1)[0] for job_id in ids}, key=_numeric)
        return f", cancel it (scancel {' '.join(arrays)})"
    if view.launcher == "submitit_local" and ids:
        return f", stop it (kill {' '.join(sorted(ids, key=_numeric))})"
    launch = view.data.get("launch") or {}
    if isinstance(launch.get("pid"), int) and not launch.get("detached"):
        return (
            f", stop it (Ctrl-C in its terminal, or kill {launch['pid']} on {launch.get('host')})"
        )
    return ""


def _numeric(text: str) -> tuple[int, str]:
    return (int(text), text) if text.isdigit() else (0, text)


def _history_path(root: Path, data: dict[str, Any], path: Path) -> Path:
    started = _stamp(data.get("started_at"), path)
    sweep_id = "".join(ch for ch in str(data.get("sweep_id") or "unknown") if ch.isalnum())
    target = root / HISTORY_DIR / f"{started}_{sweep_id or 'unknown'}{_SUFFIX}"
    number = 1
    while target.exists():  # the same record twice (copied folders): keep both
        number += 1
        target = target.with_name(f"{started}_{sweep_id}.{number}{_SUFFIX}")
    return target


def _stamp(value: Any, path: Path) -> str:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        moment = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _shown(root: Path) -> str:
    relative = os.path.relpath(root)
    return str(root) if relative.startswith("..") else relative
