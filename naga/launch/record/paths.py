"""Where a sweep's records live: ``sweep.lock`` in its folder, earlier sweeps' in its history.

Shared by the writer (naga.launch.record.sweeplock), the folder's claim
(naga.launch.record.claim) and the readers (naga.launch.record.status, ``naga status``).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["HISTORY_DIR", "HISTORY_SUFFIX", "SWEEP_LOCK", "history", "history_root", "is_history"]

SWEEP_LOCK = "sweep.lock"
#: Where the records of a folder's earlier sweeps go, relative to the folder.
HISTORY_DIR = Path(".naga-sweep") / "history"
HISTORY_SUFFIX = ".lock"


def history(root: Path) -> list[Path]:
    """The records of the earlier sweeps of ``root``, oldest first."""
    folder = root / HISTORY_DIR
    try:
        names = sorted(
            entry.name for entry in os.scandir(folder) if entry.name.endswith(HISTORY_SUFFIX)
        )
    except OSError:
        return []
    return [folder / name for name in names]


def is_history(path: Path) -> bool:
    """True for a record in a folder's history (``<root>/.naga-sweep/history/x.lock``)."""
    return path.name.endswith(HISTORY_SUFFIX) and path.parent.parts[-2:] == HISTORY_DIR.parts


def history_root(path: Path) -> Path:
    """The sweep folder a history record belongs to."""
    return path.parent.parent.parent
