"""The persistent hash cache: an SQLite file mapping a file's identity and stamps to its hash.

docs/hashing.md ("The cache") has the rules: a hash is served only on equal
``(device, inode, size, mtime_ns, ctime_ns)`` and stored only when those stamps are older
than ``RACY_WINDOW_NS`` (git's racy-timestamp rule); small files of a directory share one
row (``dirs``) because 100,000 inserts cost a third of reading the files. The SQLite
plumbing is :mod:`naga.lock.sqlite_cache`'s. A process holds one connection
(``get_cache``), closed by naga (at exit, when the cache file changes, when a forked
worker's task ends), never by the garbage collector; one inherited through fork is never
touched.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sqlite3
import struct
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from naga.lock.sqlite_cache import BATCH, RACY_WINDOW_NS, CacheFile, busy, is_network_fs, s64

# A file's cache key: (st_dev, st_ino, st_size, st_mtime_ns, st_ctime_ns).
Key = tuple[int, int, int, int, int]
#: Files in a directory below this size share their directory's row (see above).
SMALL_FILE_SIZE = 1 << 16
# One packed entry of a directory row: its key (device and inode unsigned) and its hash.
ENTRY = struct.Struct("<QQqqq32s")
# A directory row to store: (signed st_dev, signed st_ino, packed entries).
DirRow = tuple[int, int, bytes]


class CacheWarning(UserWarning):
    """The hash cache could not be used; hashing continues without it."""


def key_of(st: os.stat_result) -> Key:
    """Return the cache key of a stat result."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def is_racy(key: Key, scan_start_ns: int) -> bool:
    """True when the stamps are too recent to prove that later edits will change them."""
    return max(key[3], key[4]) >= scan_start_ns - RACY_WINDOW_NS


def pack_entries(items: Iterable[tuple[Key, bytes]]) -> bytes:
    """Pack ``(key, digest)`` pairs into the value of a directory row."""
    pack = ENTRY.pack
    return b"".join([pack(*key, digest) for key, digest in items])


def dir_row(ident: tuple[int, int], entries: bytes) -> DirRow:
    """The row storing a directory's packed entries; ``ident`` is its (st_dev, st_ino)."""
    return (s64(ident[0]), s64(ident[1]), entries)


def small_entries(items: Iterable[tuple[Key, bytes]], scan_start: int) -> bytes:
    """Pack the ``(key, digest)`` pairs a directory row holds: small files, stamps not racy."""
    limit = scan_start - RACY_WINDOW_NS
    return pack_entries(
        (key, digest)
        for key, digest in items
        if key[2] < SMALL_FILE_SIZE and key[3] < limit and key[4] < limit
    )


def cache_path() -> Path:
    """Return the cache file, ``hashes.sqlite`` in naga's cache directory."""
    return _FILE.path()


_warned = False  # one CacheWarning per process (CacheFile.warn)
_FILE = CacheFile(
    name="hashes.sqlite",
    what="naga hash cache",
    fallback="hashing without a cache",
    version=3,  # 1 had no roots table, 2 a row per file in directories too
    tables={
        "files": "(dev INTEGER, ino INTEGER, size INTEGER, mtime_ns INTEGER, ctime_ns INTEGER,"
        " hash BLOB NOT NULL, stored INTEGER NOT NULL, PRIMARY KEY (dev, ino)) WITHOUT ROWID",
        # A rowid table: its values are large (72 bytes per file), its key small.
        "dirs": "(dev INTEGER, ino INTEGER, entries BLOB NOT NULL, stored INTEGER NOT NULL,"
        " PRIMARY KEY (dev, ino))",
        "trees": "(fp BLOB PRIMARY KEY, hash BLOB NOT NULL, size INTEGER, files INTEGER,"
        " stored INTEGER NOT NULL) WITHOUT ROWID",
        # Directories (by device and inode) whose result was stored at least once.
        "roots": "(dev INTEGER, ino INTEGER, stored INTEGER NOT NULL, PRIMARY KEY (dev, ino))"
        " WITHOUT ROWID",
    },
    timeout=30,
    owner=__name__,
    category=CacheWarning,
)


class HashCache:
    """One process's connection to the cache file; every method swallows cache failures."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.pid = os.getpid()
        self._lock = threading.Lock()
        self._conn = _FILE.open(path, network=is_network_fs(path.parent))

    @property
    def usable(self) -> bool:
        return self._conn is not None

    def _recover(self, exc: sqlite3.DatabaseError) -> None:
        """After an error: wait out contention, replace a corrupt file, else give up."""
        if busy(exc):
            return  # contention beyond the timeout: skip this operation, keep the cache
        self._close()
        self._conn = _FILE.replace(self.path, exc, network=is_network_fs(self.path.parent))

    def close(self) -> None:
        """Close the connection; later calls behave as without a cache."""
        with self._lock:
            self._close()

    def __enter__(self) -> HashCache:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None

    def get_files(
        self, keys: Sequence[Key], dirs: Sequence[tuple[int, int]] = ()
    ) -> dict[Key, bytes]:
        """Look up files with a row of their own, and every entry of the given directories.

        ``dirs`` are directories by ``(st_dev, st_ino)``. Returns the hashes found, by key;
        a directory's entries all come back, whichever keys were asked for.
        """
        found: dict[Key, bytes] = {}
        if not keys and not dirs:
            return found
        by_dev: dict[int, dict[int, Key]] = {}
        for key in keys:
            by_dev.setdefault(key[0], {})[s64(key[1])] = key
        with self._lock:
            conn = self._conn
            if conn is None:
                return found
            try:
                conn.execute("BEGIN")
                try:
                    for dev, inos in by_dev.items():
                        ino_list = sorted(inos)  # B-tree order: fewer pages touched
                        for start in range(0, len(ino_list), BATCH):
                            batch = ino_list[start : start + BATCH]
                            rows = conn.execute(
                                "SELECT ino, size, mtime_ns, ctime_ns, hash FROM files"
                                f" WHERE dev = ? AND ino IN ({','.join('?' * len(batch))})",
                                [s64(dev), *batch],
                            )
                            for ino, size, mtime_ns, ctime_ns, digest in rows:
                                key = inos[ino]
                                if key[2:] == (size, mtime_ns, ctime_ns):
                                    found[key] = digest
                    for ident in dirs:
                        row = conn.execute(
                            "SELECT entries FROM dirs WHERE dev = ? AND ino = ?",
                            (s64(ident[0]), s64(ident[1])),
                        ).fetchone()
                        if row is not None and len(row[0]) % ENTRY.size == 0:
                            for *stamps, digest in ENTRY.iter_unpack(row[0]):
                                found[tuple(stamps)] = digest
                finally:
                    conn.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                self._recover(exc)
        return found

    def put(
        self,
        *,
        files: Iterable[tuple[Key, bytes]] = (),
        dirs: Iterable[DirRow] = (),
        tree: tuple[bytes, bytes, int, int, tuple[int, int]] | None = None,
    ) -> None:
        """Store results in one transaction; callers pass only non-racy stamps.

        Args:
            files: ``(key, digest)`` of files that get a row of their own.
            dirs: Directory rows (see ``dir_row``); each replaces the directory's row.
            tree: ``(fingerprint, digest, size, files, (st_dev, st_ino) of the root)`` of a
                directory result.
        """
        now = int(time.time())
        file_rows = [(s64(k[0]), s64(k[1]), k[2], k[3], k[4], h, now) for k, h in files]
        file_rows.sort(key=lambda row: (row[0], row[1]))  # key order: ~3x faster inserts
        statements: list[tuple[str, Sequence[tuple[object, ...]]]] = [
            ("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?)", file_rows),
            ("INSERT OR REPLACE INTO dirs VALUES (?, ?, ?, ?)", [(*r, now) for r in dirs]),
        ]
        if tree is not None:
            fingerprint, digest, size, count, root = tree
            statements += [
                ("INSERT OR REPLACE INTO trees VALUES (?, ?, ?, ?, ?)",
                 [(fingerprint, digest, size, count, now)]),
                ("INSERT OR REPLACE INTO roots VALUES (?, ?, ?)",
                 [(s64(root[0]), s64(root[1]), now)]),
            ]  # fmt: skip
        statements = [(sql, rows) for sql, rows in statements if rows]
        if statements:
            self._write(statements)

    def get_tree(self, fingerprint: bytes) -> tuple[bytes, int, int] | None:
        """Return ``(hash, size, files)`` of a directory whose walk had this fingerprint."""
        with self._lock:
            if self._conn is None:
                return None
            try:
                row = self._conn.execute(
                    "SELECT hash, size, files FROM trees WHERE fp = ?", (fingerprint,)
                ).fetchone()
            except sqlite3.DatabaseError as exc:
                self._recover(exc)
                return None
        return None if row is None else (row[0], row[1], row[2])

    def seen_root(self, root: tuple[int, int]) -> bool:
        """True when a result for this directory (device, inode) was stored before."""
        with self._lock:
            if self._conn is None:
                return False
            try:
                row = self._conn.execute(
                    "SELECT 1 FROM roots WHERE dev = ? AND ino = ?", (s64(root[0]), s64(root[1]))
                ).fetchone()
            except sqlite3.DatabaseError as exc:
                self._recover(exc)
                return False
        return row is not None

    def _write(self, statements: Sequence[tuple[str, Sequence[tuple[object, ...]]]]) -> None:
        """Run ``executemany`` statements in one transaction; give up quietly on failure."""
        with self._lock:
            if self._conn is None:
                return
            try:
                _FILE.write(self._conn, statements)
            except sqlite3.DatabaseError as exc:
                self._recover(exc)


_cache: HashCache | None = None  # this process's connection, or one inherited through fork
_inherited: list[HashCache] = []  # connections from a parent process, kept but never used
_cache_lock = threading.Lock()


def get_cache(use_cache: bool | None) -> HashCache | None:
    """Return this process's cache connection, or None when caching is off or impossible."""
    global _cache
    if not _FILE.enabled(use_cache):
        return None
    path = cache_path()
    with _cache_lock:
        cache = _cache
        if cache is not None and cache.pid != os.getpid():
            # An SQLite connection must not be used across fork(); a child opens its own.
            # The parent's is kept alive, not closed: closing it in the child could
            # checkpoint or unlink the WAL under the parent's feet. naga's forked workers
            # leave with os._exit, so it is never finalized there either.
            _inherited.append(cache)
            cache = None
        elif cache is not None and (cache.path != path or not cache.usable):
            # Another cache file (NAGA_CACHE_DIR changed) or an unusable one: close it now
            # rather than leave it to the garbage collector, and open the current one.
            cache.close()
            cache = None
        if cache is None:
            cache = _cache = HashCache(path)
    return cache if cache.usable else None


def close_cache() -> None:
    """Close this process's connection, if it opened one (never one inherited by fork).

    Runs at interpreter exit, and in a forked worker when its task ends; the next
    ``get_cache`` opens a new connection.
    """
    global _cache
    with _cache_lock:
        cache = _cache
        if cache is None or cache.pid != os.getpid():
            return
        _cache = None
    cache.close()


atexit.register(close_cache)
