"""blake3 hashes of data files and directories, as recorded under ``data:`` in run.lock.

A file's hash is plain blake3 of its bytes, the same hex digest ``b3sum`` prints. A
directory's hash is blake3 of a manifest with one line per regular file below it::

    <file hash, 64 hex digits> <byte length of relpath>:<relpath>\\n

sorted by the bytes of ``relpath`` (POSIX separators, relative to the directory). The
length prefix makes names with spaces or newlines unambiguous. Symlinks are followed (a
link to a shared dataset counts as that dataset's files under the link's name); empty
directories are not part of the hash, like git; symlink loops, dangling links and special
files (fifos, sockets, devices) are errors. docs/hashing.md has the full rules and a
recipe to recompute a hash with ``find`` and ``b3sum``.

Hashes are cached across processes (``_hash_cache``): an unchanged tree is re-hashed for
little more than the cost of listing it. Reading files (``_hash_read``) and walking
directories (``_hash_walk``) live in their own private modules.
"""

# os.* on str paths throughout, like the hot loops in _hash_read and _hash_walk.
# ruff: noqa: PTH109, PTH114, PTH115, PTH116

from __future__ import annotations

import marshal
import os
import stat
import struct
import time
from collections.abc import Callable
from typing import Any

import blake3  # a small C extension, cheap to import; this module is itself imported lazily

from naga.errors import DataError
from naga.lock import _hash_walk
from naga.lock._hash_cache import (
    RACY_WINDOW_NS,
    HashCache,
    Key,
    _s64,
    get_cache,
    is_racy,
    key_of,
)
from naga.lock._hash_read import (
    hash_uncached,
    os_error,
    read_chunk,
    read_many,
    single_threaded,
    special_error,
    worker_count,
)
from naga.lock._hash_walk import Pending, relpaths, scan_dir
from naga.lock._hash_walk import walk as walk_tree

__all__ = ["hash_file", "hash_path"]


def hash_path(path: str | os.PathLike[str], *, use_cache: bool | None = None) -> dict[str, Any]:
    """Hash a data file or directory.

    Args:
        path: The file or directory (symlinks are followed).
        use_cache: Use the persistent hash cache; None (default) means yes unless the
            environment variable ``NAGA_NO_CACHE=1`` is set.

    Returns:
        ``{'kind': 'file'|'dir', 'size': bytes, 'files': count, 'hash': 'blake3:<hex>'}``;
        for a directory, size and files sum over the regular files below it.

    Raises:
        DataError: The path is missing, unreadable, a special file, or a directory
            containing a symlink loop, a dangling symlink or a special file.
    """
    display = os.fspath(path)
    scan_start = time.time_ns()
    st = _stat_root(display)
    cache = get_cache(use_cache)
    if stat.S_ISDIR(st.st_mode):
        digest, size, files = _hash_dir(display, st, cache, scan_start)
        return {"kind": "dir", "size": size, "files": files, "hash": "blake3:" + digest.hex()}
    digest, st = _hash_regular(display, display, st, cache, scan_start)
    return {"kind": "file", "size": st.st_size, "files": 1, "hash": "blake3:" + digest.hex()}


def hash_file(path: str | os.PathLike[str], *, use_cache: bool | None = None) -> str:
    """Hash one regular file; the hex part equals ``b3sum``'s output.

    Args:
        path: The file (a symlink is followed).
        use_cache: As for :func:`hash_path`.

    Returns:
        ``'blake3:<hex>'``.

    Raises:
        DataError: The path is missing, unreadable, a directory or a special file.
    """
    display = os.fspath(path)
    scan_start = time.time_ns()
    st = _stat_root(display)
    if stat.S_ISDIR(st.st_mode):
        raise DataError(
            f"data path '{display}' is a directory, not a file; hash it with hash_path() "
            "or pass a file"
        )
    digest, _ = _hash_regular(display, display, st, get_cache(use_cache), scan_start)
    return "blake3:" + digest.hex()


def _stat_root(display: str) -> os.stat_result:
    try:
        st = os.stat(display)
    except FileNotFoundError:
        if os.path.islink(display):
            target = os.readlink(display)
            raise DataError(
                f"data path '{display}' is a dangling symlink to '{target}'; fix or remove the link"
            ) from None
        raise DataError(
            f"data path '{display}' does not exist (relative to {os.getcwd()}); "
            "check the path or create the data first"
        ) from None
    except OSError as exc:
        raise os_error(display, exc) from exc
    if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
        raise special_error(display, st)
    return st


def _hash_regular(
    path: str, display: str, st: os.stat_result, cache: HashCache | None, scan_start: int
) -> tuple[bytes, os.stat_result]:
    """Hash one regular file through the cache; returns (digest, the stat it belongs to)."""
    key = key_of(st)
    if cache is not None and not is_racy(key, scan_start):
        found = cache.get_files([key]).get(key)
        if found is not None:
            return found, st
    digest, st = hash_uncached(path, display, st)
    key = key_of(st)
    if cache is not None and not is_racy(key, scan_start):
        cache.put_files([(key, digest)])
    return digest, st


# -- directories -------------------------------------------------------------------------


def _hash_dir(
    root: str, root_st: os.stat_result, cache: HashCache | None, scan_start: int
) -> tuple[bytes, int, int]:
    root_id = (root_st.st_dev, root_st.st_ino)
    walk: _hash_walk.Walk | None
    seen = cache is not None and cache.seen_root(root_id)
    if cache is not None and seen:
        # Probably unchanged: a lean walk for the fingerprint first.
        walk = walk_tree(root, root_st, keep=False)
        hit = cache.get_tree(walk.fingerprint)
        if hit is not None and hit[1:] == (walk.size, walk.files):
            return hit[0], walk.size, walk.files
    walk = None
    if not seen:
        # Never stored before: walk and read in worker processes, without per-file lookups
        # (there is little to find). Small trees come back walked, for the path below.
        outcome = _hash_dir_cold(root, root_st, scan_start, cache)
        if isinstance(outcome, _Cold):
            if cache is not None:
                cache.put_rows(outcome.rows)
                if outcome.cacheable:
                    cache.put_tree(outcome.fingerprint, outcome.digest, outcome.size,
                                   outcome.files, root_id)  # fmt: skip
            return outcome.digest, outcome.size, outcome.files
        walk = outcome
    if walk is None:
        # A miss: walk (again) keeping every record; the tree may have changed in between,
        # and what is hashed and stored below belongs to this walk.
        walk = walk_tree(root, root_st)
    if cache is not None:  # a tree hashed before under another root (a copy, a parent)
        hit = cache.get_tree(walk.fingerprint)
        if hit is not None and hit[1:] == (walk.size, walk.files):
            cache.put_tree(walk.fingerprint, hit[0], walk.size, walk.files, root_id)
            return hit[0], walk.size, walk.files
    records, groups, size = walk.records, walk.groups, walk.size

    keys: list[Key] = [record[1:] for record in records]
    # Racy stamps are never served (nor stored), whatever the cache holds.
    known = (
        cache.get_files([key for key in keys if not is_racy(key, scan_start)])
        if cache is not None
        else {}
    )
    base = root if root.endswith("/") else root + "/"
    rels = relpaths(records, groups)
    found: list[bytes | None] = [known.get(key) for key in keys]
    fresh, all_cacheable, grown = _fill(base, rels, keys, found, scan_start, read_many)
    size += grown
    digests: list[bytes] = found  # type: ignore[assignment]  # every None was filled
    manifest = _manifest(rels, digests)
    digest = blake3.blake3(manifest).digest()
    if cache is not None:
        cache.put_files(fresh)
        if all_cacheable and not any(is_racy(key, scan_start) for key in keys):
            cache.put_tree(walk.fingerprint, digest, size, len(records), root_id)
    return digest, size, len(records)


def _fill(  # noqa: PLR0917  # the private helper of two call sites
    base: str,
    rels: list[str],
    keys: list[Key],
    found: list[bytes | None],
    scan_start: int,
    reader: Callable[[list[tuple[str, Key]]], list[bytes | None]],
) -> tuple[list[tuple[Key, bytes]], bool, int]:
    """Hash every file whose digest in ``found`` is None, in place.

    Returns the non-racy ``(key, digest)`` pairs to cache, whether the whole directory
    result may be cached (nothing racy, nothing changed since the walk), and by how many
    bytes files changed size since the walk.
    """
    limit = scan_start - RACY_WINDOW_NS  # stamps at or after this are racy (is_racy inlined)
    missing = [i for i, digest in enumerate(found) if digest is None]
    fresh: list[tuple[Key, bytes]] = []
    all_cacheable = True
    grown = 0
    read = reader([(base + rels[i], keys[i]) for i in missing])
    for i, fast in zip(missing, read, strict=True):
        key = new_key = keys[i]
        digest = fast
        if digest is None:  # big, changed, or an error to report: the careful path
            path = base + rels[i]
            digest, new_st = hash_uncached(path, path, _stat_like(key))
            new_key = key_of(new_st)
            if new_key != key:  # changed since the walk: hash right, fingerprint not
                all_cacheable = False
                grown += new_key[2] - key[2]
        if new_key[3] < limit and new_key[4] < limit:
            fresh.append((new_key, digest))
        else:
            all_cacheable = False
        found[i] = digest
    return fresh, all_cacheable, grown


# -- cold directories in worker processes ------------------------------------------------

#: The parent walks this many files itself before handing the rest of the tree to workers;
#: a smaller tree is never worth forking for.
COLD_PARENT_FILES = 5_000
_WRITE_BATCH = 25_000  # cache rows per transaction while workers are still busy
_ROW = struct.Struct("<5q32sq")  # one cache row: signed dev, ino, size, mtime, ctime, hash, now


class _Cold:
    """A directory hashed by ``_hash_dir_cold``, with the cache rows it produced."""

    __slots__ = ("cacheable", "digest", "files", "fingerprint", "rows", "size")

    def __init__(self) -> None:
        self.digest = b""
        self.fingerprint = b""
        self.size = 0
        self.files = 0
        self.cacheable = True
        self.rows: list[tuple[int, int, int, int, int, bytes, int]] = []


# Inherited by forked workers: (root, its stat, scan start, the subtrees to share out).
_fork_job: tuple[str, os.stat_result, int, list[Pending]] | None = None


def _subtree(index: int) -> tuple[bytes, bytes, bytes, int, int, bool] | None:
    """Worker: walk and hash one subtree; None when anything needs the parent's care.

    Returns the fingerprint chunks, the subtree's sorted manifest lines, packed cache rows,
    the size and file count, and whether the result may be cached.
    """
    assert _fork_job is not None
    root, root_st, scan_start, units = _fork_job
    single_threaded()  # big files too are hashed here, on this worker's thread
    try:
        chunks: list[bytes] = []
        walk = walk_tree(root, root_st, start=[units[index]], chunks=chunks)
        base = root if root.endswith("/") else root + "/"
        rels = relpaths(walk.records, walk.groups)
        keys: list[Key] = [record[1:] for record in walk.records]
        found: list[bytes | None] = [None] * len(keys)
        fresh, cacheable, grown = _fill(base, rels, keys, found, scan_start, read_chunk)
        manifest = _manifest(rels, found)  # type: ignore[arg-type]  # every None was filled
        now = int(time.time())
        pack = _ROW.pack
        rows = b"".join(
            pack(_s64(k[0]), _s64(k[1]), k[2], k[3], k[4], digest, now) for k, digest in fresh
        )
    except Exception:  # errors are reported by the parent's careful walk
        return None
    return b"".join(chunks), manifest, rows, walk.size + grown, walk.files, cacheable


def _hash_dir_cold(
    root: str, root_st: os.stat_result, scan_start: int, cache: HashCache | None
) -> _Cold | _hash_walk.Walk:
    """Hash a directory with the walk itself shared out to worker processes.

    The parent walks the first ``COLD_PARENT_FILES`` files in the ordinary order; each
    directory still pending then is a disjoint subtree that one worker walks, reads and
    turns into manifest lines. A subtree's lines are contiguous in the sorted manifest
    (every path in it starts with its prefix, which no path outside it can sit between),
    so the parent only sorts blocks. Returns the finished walk instead, records kept, when
    the tree was small or workers are unavailable or failed (the caller then hashes it on
    the ordinary path, which also reports any error exactly).

    Cache rows are written as each worker's part arrives, one transaction per part, while
    the other workers are still busy.
    """
    workers = worker_count()
    walked: list[tuple[str, list[_hash_walk.Record]]] = []
    chunks: list[bytes] = []
    stack: list[Pending] = [(root, "", ((root_st.st_dev, root_st.st_ino),))]
    seen_files = 0
    while stack and (seen_files < COLD_PARENT_FILES or len(stack) < 2 or workers < 2):
        directory, prefix, ancestors = stack.pop()
        records, subdirs = scan_dir(root, directory, prefix, ancestors)
        stack += subdirs
        walked.append((prefix, records))
        chunks.append(marshal.dumps((prefix, records), 2))
        seen_files += len(records)
    if stack:
        units = stack[::-1]  # the order one walk would visit them in
        parts = _run_cold(root, root_st, scan_start, units, workers, cache)
        if parts is not None:
            return _join_cold(root, scan_start, walked, chunks, units, parts)
        return walk_tree(root, root_st)  # workers failed: walk it all again here
    walk = _hash_walk.Walk()
    hasher = blake3.blake3(_hash_walk.TREE_SCHEME)
    for (prefix, records), chunk in zip(walked, chunks, strict=True):
        hasher.update(chunk)
        walk.size += sum(record[3] for record in records)
        walk.files += len(records)
        walk.records += records
        walk.groups.append((prefix, walk.files))
    walk.fingerprint = hasher.digest()
    return walk


def _run_cold(  # noqa: PLR0917  # private
    root: str,
    root_st: os.stat_result,
    scan_start: int,
    units: list[Pending],
    workers: int,
    cache: HashCache | None,
) -> list[tuple[bytes, bytes, bytes, int, int, bool]] | None:
    global _fork_job
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    _fork_job = (root, root_st, scan_start, units)
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(min(workers, len(units)), mp_context=context) as pool:
            parts = []
            pending: list[bytes] = []
            for part in pool.map(_subtree, range(len(units))):
                parts.append(part)
                if part is None:  # the parent redoes it all: stop the other workers
                    pool.shutdown(cancel_futures=True)
                    break
                pending.append(part[2])
                if cache is not None and sum(map(len, pending)) >= _WRITE_BATCH * _ROW.size:
                    cache.put_rows(list(_ROW.iter_unpack(b"".join(pending))))
                    pending = []
            if cache is not None and pending and parts[-1] is not None:
                cache.put_rows(list(_ROW.iter_unpack(b"".join(pending))))
    except (OSError, BrokenProcessPool):  # no processes to spare
        return None
    finally:
        _fork_job = None
    if any(part is None for part in parts):
        return None
    return parts  # type: ignore[return-value]  # no None left


def _join_cold(  # noqa: PLR0917  # private
    root: str,
    scan_start: int,
    walked: list[tuple[str, list[_hash_walk.Record]]],
    chunks: list[bytes],
    units: list[Pending],
    parts: list[tuple[bytes, bytes, bytes, int, int, bool]],
) -> _Cold:
    out = _Cold()
    base = root if root.endswith("/") else root + "/"
    # The parent's own files (the first few thousand), hashed here.
    records = [record for _, group in walked for record in group]
    groups: list[tuple[str, int]] = []
    for prefix, group in walked:
        groups.append((prefix, (groups[-1][1] if groups else 0) + len(group)))
    rels = relpaths(records, groups)
    keys: list[Key] = [record[1:] for record in records]
    found: list[bytes | None] = [None] * len(keys)
    fresh, out.cacheable, grown = _fill(base, rels, keys, found, scan_start, read_chunk)
    blocks = [
        (os.fsencode(rel), b"%s %d:%s\n" % (digest.hex().encode(), len(encoded), encoded))
        for rel, digest in zip(rels, found, strict=True)
        if digest is not None
        for encoded in (os.fsencode(rel),)
    ]
    out.size = sum(record[3] for record in records) + grown
    out.files = len(records)
    for (_, prefix, _), (fingerprint, manifest, _rows, size, files, cacheable) in zip(
        units, parts, strict=True
    ):
        chunks.append(fingerprint)
        blocks.append((os.fsencode(prefix), manifest))
        out.size += size
        out.files += files
        out.cacheable = out.cacheable and cacheable
    now = int(time.time())
    out.rows += [(_s64(k[0]), _s64(k[1]), k[2], k[3], k[4], h, now) for k, h in fresh]
    out.fingerprint = blake3.blake3(_hash_walk.TREE_SCHEME + b"".join(chunks)).digest()
    blocks.sort()
    out.digest = blake3.blake3(b"".join(block for _, block in blocks)).digest()
    return out


class _StatLike:
    """The few stat fields hash_uncached reads, rebuilt from a walk record's key."""

    __slots__ = ("st_ctime_ns", "st_dev", "st_ino", "st_mode", "st_mtime_ns", "st_size")

    def __init__(self, key: Key) -> None:
        self.st_dev, self.st_ino, self.st_size, self.st_mtime_ns, self.st_ctime_ns = key
        self.st_mode = stat.S_IFREG


def _stat_like(key: Key) -> os.stat_result:
    return _StatLike(key)  # type: ignore[return-value]


def _manifest(rels: list[str], digests: list[bytes]) -> bytes:
    """The canonical manifest: ``<hex> <len>:<relpath>\\n`` sorted by relpath bytes."""
    # Sorting ``relpath + NUL + digest`` sorts by relpath (a name cannot contain NUL, and
    # NUL sorts before every other byte) and compares flat bytes, not tuples: 30% faster.
    encode = os.fsencode
    keyed = sorted(
        [encode(rel) + b"\0" + digest for rel, digest in zip(rels, digests, strict=True)]
    )
    return b"".join([b"%s %d:%s\n" % (k[-32:].hex().encode(), len(k) - 33, k[:-33]) for k in keyed])
