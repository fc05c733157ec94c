"""Where a sweep's records are, and the one line they keep of a job's error.

The writer (sweeplock), the claim and the reader (status) each need these names, and the
claim asks the reader while the reader opens history records: living in any one of them
would make a circle.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path

__all__ = [
    "HISTORY_DIR",
    "SWEEP_LOCK",
    "as_list",
    "as_mapping",
    "error_line",
    "history",
    "history_path",
    "history_root",
    "is_history",
    "shown_path",
    "text_or_none",
]

SWEEP_LOCK = "sweep.lock"
#: Where the records of a folder's earlier sweeps go, relative to the folder.
HISTORY_DIR = Path(".naga-sweep") / "history"
_SUFFIX = ".lock"


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


def history_path(root: Path, data: Mapping[str, object], path: Path) -> Path:
    """A free name in ``root``'s history for the record ``path`` (its contents ``data``)."""
    started = _stamp(data.get("started_at"), path)
    sweep_id = "".join(ch for ch in str(data.get("sweep_id") or "unknown") if ch.isalnum())
    target = root / HISTORY_DIR / f"{started}_{sweep_id or 'unknown'}{_SUFFIX}"
    number = 1
    while target.exists():  # the same record twice (copied folders): keep both
        number += 1
        target = target.with_name(f"{started}_{sweep_id}.{number}{_SUFFIX}")
    return target


def _stamp(value: object, path: Path) -> str:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        moment = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def error_line(error: object) -> str | None:
    """One line for a job's error: ``Type: first line of the message``."""
    if error is None:
        return None
    if isinstance(error, BaseException):
        kind, message = type(error).__name__, str(error)
    elif isinstance(error, dict):
        kind, message = str(error.get("type") or "Error"), str(error.get("message") or "")
    else:
        return " ".join(str(error).split())[:300]
    first = next((line.strip() for line in message.splitlines() if line.strip()), "")
    return f"{kind}: {first}"[:300] if first else kind


def shown_path(path: Path) -> str:
    """``path`` as the user would type it: relative to the current directory, unless outside."""
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


def as_list(value: object) -> list[object]:
    """``value`` when it is a list (of a YAML record), else an empty one."""
    return value if isinstance(value, list) else []


def as_mapping(value: object) -> dict[str, object]:
    """``value`` when it is a mapping (a block of a YAML record), else an empty one."""
    return value if isinstance(value, dict) else {}


def text_or_none(value: object) -> str | None:
    """A record's value as text; ``None`` stays ``None``."""
    return None if value is None else str(value)
