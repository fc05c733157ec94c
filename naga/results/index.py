"""Every run.lock below some directories as a row, through an index in naga's cache.

Parsing YAML makes listing many runs slow, so each receipt's row (and its ``naga report``
card) is kept in ``receipts.sqlite``, validated per file like the hash cache: a row is used
only when the receipt's stamps are unchanged and stored only when they were older than the
racy window. ``lost`` is derived when a row is read, never stored. The index is an
optimisation only (``NAGA_NO_CACHE=1`` or any failure: every receipt is parsed).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from naga.errors import LockError
from naga.lock.sqlite_cache import BATCH, RACY_WINDOW_NS, CacheFile, busy, is_network_fs, s64, u64
from naga.lock.status import ASKS_QUEUE, RUNNING
from naga.results._read import LIVENESS_KEYS, read_row
from naga.results.locks import Stamps, Walked, find_lock_files

__all__ = ["TABLES", "Found", "IndexWarning", "Reader", "collect", "index_path", "live_status"]

#: The tables, one per reader: ``naga ls`` rows, and ``naga report`` cards.
TABLES = ("receipts", "cards")
Reader = Callable[[Path], dict[str, Any]]


class IndexWarning(UserWarning):
    """The receipt index could not be used; listing continues without it."""


_warned = False  # one IndexWarning per process (CacheFile.warn)
_FILE = CacheFile(
    name="receipts.sqlite",
    what="naga receipt index",
    fallback="reading every run.lock",
    # Bump when the row format (naga.results._read), the card format or a table changes:
    # old rows are dropped. 2: rows of requeued/interrupted receipts keep their Slurm id;
    # 3: the ``cards`` table of naga report; 4: rows gained ``code``; 5: rows of study
    # trials gained ``trial``.
    version=5,
    # Rowid tables: rows are large (a JSON row of a few hundred bytes), keys small.
    tables=dict.fromkeys(
        TABLES,
        "(path TEXT PRIMARY KEY, dev INTEGER, ino INTEGER, size INTEGER, mtime_ns INTEGER,"
        " ctime_ns INTEGER, row TEXT NOT NULL, stored INTEGER NOT NULL)",
    ),
    timeout=10,
    owner=__name__,
    category=IndexWarning,
)


@dataclass
class Found:
    """One run.lock found below a root.

    Attributes:
        path: The run.lock, absolute (symlinks kept, as walked).
        rel: Its directory relative to the root it was found under (``.`` for the root).
        row: Its row (status as recorded), or ``None`` when it could not be read.
        error: Why it could not be read (one line), else ``None``.
    """

    path: str
    rel: str
    row: dict[str, Any] | None
    error: str | None = None


def index_path() -> Path:
    """The index file: ``receipts.sqlite`` in naga's cache directory."""
    return _FILE.path()


def collect(
    roots: Sequence[str | os.PathLike[str]],
    *,
    use_cache: bool | None = None,
    reader: Reader | None = None,
    table: str = "receipts",
) -> list[Found]:
    """Find every run.lock below ``roots`` and return its row, parsing only what changed.

    Args:
        roots: Directories to search (``.git``, ``.venv``, ``node_modules``, ``mlruns``...
            are skipped), or run.lock files.
        use_cache: Use the index; default: unless ``NAGA_NO_CACHE`` is set.
        reader: What to make of one receipt (a JSON-able mapping; ``LockError`` when it
            cannot be read); default: its row (:func:`naga.results._read.read_row`).
        table: Where the index keeps what ``reader`` makes (one of :data:`TABLES`).

    Returns:
        One :class:`Found` per distinct run.lock (by device and inode), in walk order.

    Raises:
        LockError: A root does not exist.
    """
    scan_start = time.time_ns()
    walked, ranges, files = find_lock_files(roots)
    assert table in TABLES, table
    reader = reader or read_row
    if not _FILE.enabled(use_cache):
        return [_parse(path, rel, reader) for path, rel, _ in walked]
    with _open_index() as conn:
        stored = _load(conn, ranges, files, table) if conn is not None else {}
        results, hits, fresh = _match(
            walked, stored, limit=scan_start - RACY_WINDOW_NS, reader=reader
        )
        fresh += _fill_hits(results, hits, {path: stamps for path, _, stamps in walked}, reader)
        if conn is not None and (fresh or stored):
            _store(conn, fresh, gone=list(stored), table=table)
    return results


def _match(
    walked: Walked, stored: dict[str, Any], *, limit: int, reader: Reader
) -> tuple[list[Found], list[tuple[int, str]], list[tuple[str, Stamps, str]]]:
    """Results in walk order: index hits left to fill, the rest parsed now (and to store)."""
    results: list[Found] = []
    hits: list[tuple[int, str]] = []  # (position in results, stored JSON row)
    fresh: list[tuple[str, Stamps, str]] = []
    for path, rel, stamps in walked:
        hit = stored.pop(path, None)
        if hit is not None and hit[0] == stamps:
            hits.append((len(results), hit[1]))
            results.append(Found(path, rel, None))
            continue
        found = _parse(path, rel, reader)
        results.append(found)
        if max(stamps[3], stamps[4]) < limit:  # see the module docstring (racy stamps)
            fresh.append((path, stamps, _stored(found)))
    return results, hits, fresh


def _fill_hits(
    results: list[Found], hits: list[tuple[int, str]], stamps: dict[str, Stamps], reader: Reader
) -> list[tuple[str, Stamps, str]]:
    """Put the stored rows in place; a damaged one is read again and returned to store."""
    again: list[tuple[str, Stamps, str]] = []
    for position, value in zip((p for p, _ in hits), _decode([t for _, t in hits]), strict=True):
        found = results[position]
        if isinstance(value, dict) and "_error" in value:
            found.error = str(value["_error"])
        elif isinstance(value, dict):
            found.row = value
        else:  # a damaged index row: read the receipt itself, and store it again
            results[position] = found = _parse(found.path, found.rel, reader)
            again.append((found.path, stamps[found.path], _stored(found)))
    return again


def _stored(found: Found) -> str:
    """What the index keeps of a receipt: its row, or why it could not be read."""
    return json.dumps(found.row if found.row is not None else {"_error": found.error}, default=str)


def _decode(texts: list[str]) -> list[Any]:
    """The stored rows, parsed; ``None`` for one that is not valid JSON."""
    if not texts:
        return []
    try:
        # One document for all rows: one parser call instead of one per row.
        joined = json.loads("[" + ",".join(texts) + "]")
        if len(joined) == len(texts):
            return list(joined)
    except ValueError:
        pass
    values: list[Any] = []
    for text in texts:
        try:
            values.append(json.loads(text))
        except ValueError:
            values.append(None)
    return values


def live_status(row: dict[str, Any]) -> str:
    """The status a reader shows: ``lost`` for a running receipt whose process is gone,
    ``requeued`` for one whose Slurm job waits in the queue again (naga.lock.liveness)."""
    from naga.lock.liveness import effective_status

    status = str(row.get("status"))
    if status not in ASKS_QUEUE or (status != RUNNING and not row.get("_slurm_job_id")):
        return status

    lock = {key: row.get(f"_{key}") for key in LIVENESS_KEYS}
    return effective_status({**lock, "status": status})


def _parse(path: str, rel: str, reader: Reader) -> Found:
    try:
        return Found(path, rel, reader(Path(path)))
    except LockError as exc:
        return Found(path, rel, None, str(exc))


# ------------------------------------------------------------------------------ SQLite


@contextlib.contextmanager
def _open_index() -> Iterator[sqlite3.Connection | None]:
    """A connection to the index (closed on exit), or ``None`` when it cannot be used."""
    path = index_path()
    conn = _FILE.open(path, network=is_network_fs(path.parent))
    try:
        yield conn
    finally:
        if conn is not None:
            conn.close()


def _load(
    conn: sqlite3.Connection, ranges: Sequence[str], files: Sequence[str], table: str
) -> dict[str, tuple[Stamps, str]]:
    """Stored rows below the walked directories (a key range each) and of the given files."""
    query = f"SELECT path, dev, ino, size, mtime_ns, ctime_ns, row FROM {table}"
    rows: dict[str, tuple[Stamps, str]] = {}
    try:
        conn.execute("BEGIN")
        try:
            # Every path below "<dir>/" sorts between "<dir>/" and "<dir>0" ('0' follows '/').
            for prefix in ranges:
                cursor = conn.execute(
                    f"{query} WHERE path >= ? AND path < ?", (prefix, prefix[:-1] + "0")
                )
                for path, dev, ino, size, mtime, ctime, row in cursor:
                    rows[path] = ((u64(dev), u64(ino), size, mtime, ctime), row)
            for start in range(0, len(files), BATCH):
                batch = files[start : start + BATCH]
                marks = ",".join("?" * len(batch))
                for path, dev, ino, size, mtime, ctime, row in conn.execute(
                    f"{query} WHERE path IN ({marks})", batch
                ):
                    rows[path] = ((u64(dev), u64(ino), size, mtime, ctime), row)
        finally:
            conn.execute("COMMIT")
    except sqlite3.DatabaseError as exc:
        if not busy(exc):
            _FILE.warn(f"{_FILE.what} {index_path()} could not be read ({exc}); {_FILE.fallback}")
        return {}
    return rows


def _store(
    conn: sqlite3.Connection, fresh: list[tuple[str, Stamps, str]], *, gone: list[str], table: str
) -> None:
    """Store new rows and delete the rows of receipts that are gone, in one transaction."""
    now = int(time.time())
    values = [(path, s64(s[0]), s64(s[1]), s[2], s[3], s[4], row, now) for path, s, row in fresh]
    with contextlib.suppress(sqlite3.DatabaseError):  # busy, a full disk: stored next time
        _FILE.write(
            conn,
            [
                (f"INSERT OR REPLACE INTO {table} VALUES (?, ?, ?, ?, ?, ?, ?, ?)", values),
                (f"DELETE FROM {table} WHERE path = ?", [(path,) for path in gone]),
            ],
        )
