"""One run.lock as one flat row: the fields a results table shows, nothing else.

:func:`read_row` parses the text without the ``environment`` packages and ``upstream``
blocks (the slow part of a cold ``naga ls``), which a row never uses; whenever that
shortcut does not give a well-formed receipt, :func:`naga.lock.format.read_lock` reads the
file and decides, so the shortcut can only make a good receipt faster, never accept a bad
one.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from naga.lock.format import SUPPORTED_VERSIONS, loads, read_lock, without_blocks
from naga.lock.git.recorded import run_code
from naga.lock.metrics import flatten
from naga.lock.status import ASKS_QUEUE
from naga.results.locks import as_dict

#: Top-level blocks a row does not need; the only ones naga writes YAML anchors into.
_SKIPPED_BLOCKS = ("environment", "upstream")
#: Keys of a ``running`` receipt that tell whether its process is alive (kept for liveness;
#: also of a ``requeued`` or ``interrupted`` one, whose Slurm job may wait in the queue again).
LIVENESS_KEYS = ("pid", "pid_start", "host", "slurm_job_id")
#: Row keys, in column order, before the config, metrics and data columns.
BASE_COLUMNS = (
    "run",
    "status",
    "started_at",
    "finished_at",
    "duration_s",
    "script",
    "commit",
    "dirty",
    "code",
    "sweep",
    "sweep.job",
    "trial",
    "run_id",
)
PREFIXES = ("config.", "metrics.", "data.")


def read_row(path: Path) -> dict[str, Any]:
    """The row of one run.lock (without ``run``; see :func:`row_of`).

    Raises:
        LockError: The file is unreadable, corrupt, not a run.lock, or of an unknown version.
    """
    return row_of(read_without(path, _SKIPPED_BLOCKS))


def read_without(path: Path, skipped: tuple[str, ...]) -> dict[str, Any]:
    """The receipt without the ``skipped`` top-level blocks (see the module docstring).

    Raises:
        LockError: The file is unreadable, corrupt, not a run.lock, or of an unknown version.
    """
    lock: Any = None
    try:
        lock = loads(without_blocks(path.read_text(encoding="utf-8"), skipped))
    except Exception:  # decided below by the full reader, with its own words
        lock = None
    if not isinstance(lock, dict) or lock.get("naga_lock") not in SUPPORTED_VERSIONS:
        lock = read_lock(path)
    return lock


def row_of(lock: Mapping[str, Any]) -> dict[str, Any]:
    """Flatten a parsed run.lock into a results row (status as recorded)."""
    script = as_dict(lock.get("script"))
    sweep = as_dict(as_dict(lock.get("extra")).get("sweep"))
    repos = as_dict(lock.get("repos"))
    repo = _script_repo(repos, script.get("repo"))
    row: dict[str, Any] = {
        "status": str(lock.get("status") or "unknown"),
        "started_at": text_or_none(lock.get("started_at")),
        "finished_at": text_or_none(lock.get("finished_at")),
        "duration_s": _number_or_none(lock.get("duration_s")),
        "script": _script_name(script),
        "commit": text_or_none(repo.get("commit")),
        "dirty": repo.get("dirty") if isinstance(repo.get("dirty"), bool) else None,
        "code": run_code(repos),
        "sweep": text_or_none(sweep.get("sweep_id")),
        "sweep.job": text_or_none(sweep.get("name")),
        "run_id": text_or_none(lock.get("run_id")),
    }
    if isinstance(sweep.get("trial"), int):  # a study's trial (hydra/sweeper=naga_optuna)
        row["trial"] = sweep["trial"]
    if row["status"] in ASKS_QUEUE:
        row.update({f"_{key}": lock.get(key) for key in LIVENESS_KEYS})
    config = as_dict(lock.get("config"))
    row.update((f"config.{key}", value) for key, value in flatten(config).items())
    metrics = flatten(as_dict(lock.get("metrics")))  # flat as written; nested if hand-edited
    row.update((f"metrics.{key}", value) for key, value in metrics.items())
    for key, entry in as_dict(lock.get("data")).items():
        row[f"data.{key}"] = as_dict(entry).get("hash")
    return row


def _script_name(script: Mapping[str, Any]) -> str | None:
    for key in ("path", "module", "notebook"):
        if script.get(key):
            return str(script[key])
    return None


def _script_repo(repos: Mapping[str, Any], root: Any) -> Mapping[str, Any]:
    """The repos entry of the script's repository, else the first one recorded."""
    entries = [entry for entry in repos.values() if isinstance(entry, Mapping)]
    for entry in entries:
        if root is not None and entry.get("root") == root:
            return entry
    return entries[0] if entries else {}


def text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _number_or_none(value: Any) -> int | float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value
