"""The plumbing of naga's two SQLite caches, the hash cache and the receipt index.

Both are an optimisation only: a file that cannot be opened means working without it, a
corrupt one (or one of another schema) is replaced, each cache warns once per process. WAL
makes a cache safe for many processes of one host; on a network file system (an NFS home
shared by cluster nodes) the rollback journal is used, whose POSIX locks the server keeps.
"""

from __future__ import annotations

import os
import random
import re
import sqlite3
import sys
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from naga.lock._cache_dir import cache_dir, cache_enabled

#: Stamps newer than ``scan start - RACY_WINDOW_NS`` are never cached. Two seconds covers
#: the coarsest common timestamp granularity (FAT, some NFS servers) and small clock skew.
RACY_WINDOW_NS = 2_000_000_000
#: Rows not written again for this long are deleted now and then (their files may be gone).
PRUNE_AFTER_S = 180 * 24 * 3600
#: Rows asked for per query: below SQLite's default limit of 999 host parameters.
BATCH = 500
#: File system types (as in /proc/self/mountinfo) shared between hosts.
NETWORK_FS_TYPES = frozenset(
    {
        "9p", "afs", "beegfs", "ceph", "cifs", "fuse.glusterfs", "fuse.sshfs", "glusterfs",
        "gpfs", "lustre", "ncpfs", "nfs", "nfs4", "panfs", "smb3", "smbfs", "wekafs",
    }
)  # fmt: skip
#: SQL statements run with ``executemany``, and their rows.
Statements = Sequence[tuple[str, Sequence[tuple[object, ...]]]]


def mount_fs_type(path: str, mountinfo: str) -> str | None:
    """The file system type of the mount holding ``path`` (absolute, resolved)."""
    best, fs_type = -1, None
    for line in mountinfo.splitlines():
        fields = line.split(" ")
        try:
            mount_point = _unescape(fields[4])
            kind = fields[fields.index("-", 6) + 1]
        except (IndexError, ValueError):
            continue
        inside = path == mount_point or path.startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) > best:  # the innermost mount wins
            best, fs_type = len(mount_point), kind
    return fs_type


def _unescape(field: str) -> str:
    # mountinfo writes space, tab, newline and backslash as octal escapes (\040 ...).
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def is_network_fs(directory: Path) -> bool:
    """True when ``directory`` is on a file system type in NETWORK_FS_TYPES (Linux only)."""
    try:
        mountinfo = Path("/proc/self/mountinfo").read_text()
    except OSError:
        return False
    return mount_fs_type(os.path.realpath(directory), mountinfo) in NETWORK_FS_TYPES


def s64(value: int) -> int:
    """An unsigned 64-bit ``st_dev``/``st_ino`` as SQLite's signed 64-bit integer."""
    return value - (1 << 64) if value >= (1 << 63) else value


def u64(value: int) -> int:
    """The inverse of :func:`s64`."""
    return value + (1 << 64) if value < 0 else value


def busy(exc: sqlite3.DatabaseError) -> bool:
    """True for contention (another process holds the lock beyond the timeout)."""
    return "locked" in str(exc) or "busy" in str(exc)


@dataclass(frozen=True)
class CacheFile:
    """One cache's layout, and how it names itself in warnings.

    Attributes:
        name: Its file name in naga's cache directory (``hashes.sqlite``).
        what: The cache as warnings name it (``naga hash cache``).
        fallback: What naga does without it (``hashing without a cache``).
        version: The schema version; a file of any other one is emptied and laid out anew.
        tables: Each table's definition (``(columns) [options]``) by name; every table has
            a ``stored`` column (seconds since the epoch) for pruning.
        timeout: Seconds to wait for another process's lock.
        owner: The cache's module; its ``_warned`` says whether it warned already.
        category: The cache's warning class.
    """

    name: str
    what: str
    fallback: str
    version: int
    tables: Mapping[str, str]
    timeout: float
    owner: str
    category: type[Warning]

    def path(self) -> Path:
        """The file, in naga's cache directory (``NAGA_CACHE_DIR``)."""
        return cache_dir() / self.name

    @staticmethod
    def enabled(use_cache: bool | None) -> bool:
        """Whether to use it: an explicit ``use_cache`` wins over ``NAGA_NO_CACHE``."""
        return cache_enabled(use_cache)

    def warn(self, message: str) -> None:
        """Warn about this cache, at most once per process."""
        module = sys.modules[self.owner]
        if not getattr(module, "_warned", False):
            module._warned = True  # type: ignore[attr-defined]
            warnings.warn(message, self.category, stacklevel=4)

    def open(self, path: Path, *, network: bool) -> sqlite3.Connection | None:
        """Open (creating) the file; ``None`` when it cannot be used (after a warning).

        ``network``: the file is on a network file system (:func:`is_network_fs`).
        """
        try:
            return self.connect(path, network=network)
        except sqlite3.DatabaseError as exc:
            return self.replace(path, exc, network=network)
        except OSError as exc:
            self.warn(f"{self.what} {path} cannot be created ({exc}); {self.fallback}")
            return None

    def replace(
        self, path: Path, exc: sqlite3.DatabaseError, *, network: bool
    ) -> sqlite3.Connection | None:
        """After ``exc``: replace a corrupt file and open the new one, else give up (``None``).

        Contention gives up quietly (the caller goes on without the cache this time).
        """
        if busy(exc):
            return None
        if isinstance(exc, sqlite3.OperationalError) and "unable to open" in str(exc):
            self.warn(f"{self.what} {path} cannot be opened ({exc}); {self.fallback}")
            return None
        self.warn(f"{self.what} {path} is unusable ({exc}); recreating it (nothing is lost)")
        try:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            return self.connect(path, network=network)
        except (sqlite3.DatabaseError, OSError):
            return None

    def connect(self, path: Path, *, network: bool) -> sqlite3.Connection:
        """Open the file, choosing its journal and laying out its tables when needed.

        Raises:
            sqlite3.DatabaseError: The file is not a usable database (or is locked).
            OSError: Its directory cannot be created.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        journal = "delete" if network else "wal"
        conn = sqlite3.connect(
            path, timeout=self.timeout, isolation_level=None, check_same_thread=False
        )
        try:
            # Switching journal mode needs a brief exclusive lock that the busy handler does
            # not always wait for when many processes create the file at once: retry.
            for attempt in range(200):
                try:
                    if conn.execute("PRAGMA journal_mode").fetchone()[0] != journal:
                        conn.execute(f"PRAGMA journal_mode={journal}")
                    if conn.execute("PRAGMA user_version").fetchone()[0] != self.version:
                        self._create_schema(conn)
                    break
                except sqlite3.OperationalError as exc:
                    if not busy(exc) or attempt == 199:
                        raise
                    time.sleep(0.01 + random.random() * 0.04)
            if journal == "wal":
                # NORMAL is crash-safe in WAL mode (a killed process loses nothing committed).
                conn.execute("PRAGMA synchronous=NORMAL")
            # Reading the tables proves the file is a database, not merely a readable header.
            for table in self.tables:
                conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone()
        except BaseException:
            conn.close()
            raise
        return conn

    def _create_schema(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("PRAGMA user_version").fetchone()[0] == self.version:
                conn.execute("ROLLBACK")  # another process just did it
                return
            for table, definition in self.tables.items():
                conn.execute(f"DROP TABLE IF EXISTS {table}")  # another layout: disposable
                conn.execute(f"CREATE TABLE {table}{definition}")
            conn.execute(f"PRAGMA user_version={self.version}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def write(self, conn: sqlite3.Connection, statements: Statements) -> None:
        """Run ``executemany`` statements in one transaction; prune old rows now and then.

        Raises:
            sqlite3.DatabaseError: Nothing was written (contention, a full disk, corruption).
        """
        conn.execute("BEGIN IMMEDIATE")
        try:
            for sql, rows in statements:
                conn.executemany(sql, rows)
            if random.random() < 0.01:  # now and then, not on every write
                cutoff = int(time.time()) - PRUNE_AFTER_S
                for table in self.tables:
                    conn.execute(f"DELETE FROM {table} WHERE stored < ?", (cutoff,))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
