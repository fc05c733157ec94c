"""Reading and hashing one file's bytes: the fast path, the careful path, worker processes.

Private to ``naga.lock.hashing``; the error helpers build the one-line ``DataError``
messages shared with the directory walk.
"""

# Plain os.* on str paths: this is the per-file hot path.
# ruff: noqa: PTH116

from __future__ import annotations

import errno
import os
import stat
import sys
import threading

import blake3

from naga.errors import DataError
from naga.lock.hashing._cache import Key, key_of

#: Files at least this big are memory-mapped and hashed on all cores (what b3sum does);
#: smaller ones are read with a single read() call, which is cheaper than a mapping.
MMAP_MIN_SIZE = 1 << 20
OPEN_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NOCTTY | os.O_NONBLOCK  # never block on a fifo
_ATTEMPTS = 3
#: Hash files in worker processes when at least this many need reading (and can fork).
PARALLEL_MIN_FILES = 20_000
MAX_WORKERS = 8
_CAN_FORK = sys.platform == "linux" and hasattr(os, "sched_getaffinity")
# Threads blake3 may use on a mapped file; 1 in forked workers (see single_threaded).
_mmap_threads: int = blake3.blake3.AUTO


def single_threaded() -> None:
    """Make this (forked worker) process hash big files on one thread.

    blake3's thread pool, if the parent had started it, does not survive fork(): its
    threads are gone in the child, and using it there could wait for them forever.
    """
    global _mmap_threads
    _mmap_threads = 1


def special_error(display: str, st: os.stat_result) -> DataError:
    """The error for a fifo, socket or device met where a data file was expected."""
    kind = (
        "a fifo (named pipe)"
        if stat.S_ISFIFO(st.st_mode)
        else "a socket"
        if stat.S_ISSOCK(st.st_mode)
        else "a device"
        if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
        else "not a regular file"
    )
    return DataError(
        f"data path '{display}' is {kind}, which naga does not hash; "
        "remove it from the data directory or list regular files in data="
    )


def os_error(display: str, exc: OSError) -> DataError:
    """Turn an OSError on a data path into its one-line DataError."""
    if exc.errno == errno.ELOOP:
        return DataError(
            f"data path '{display}' is a symlink loop (too many levels of symbolic links); "
            "fix or remove the link"
        )
    if isinstance(exc, PermissionError):
        return DataError(
            f"data path '{display}' cannot be read (permission denied); "
            "fix its permissions (chmod u+rX) or leave it out of data="
        )
    if isinstance(exc, FileNotFoundError):
        return DataError(
            f"data path '{display}' vanished while it was being hashed; "
            "wait until whatever writes the data has finished"
        )
    reason = exc.strerror or type(exc).__name__
    return DataError(f"data path '{display}' cannot be read ({reason}); check the file system")


def read_digest(path: str, size: int) -> tuple[bytes, os.stat_result] | None:
    """Hash the file's bytes; return (digest, stat after reading), None if it was no file.

    The caller compares the returned stat with the one it expected: if they differ, the
    file changed while being read and the digest must not be trusted.
    """
    fd = os.open(path, OPEN_FLAGS)
    try:
        try:
            if size < MMAP_MIN_SIZE:
                # Loop: FUSE and network file systems may return short reads.
                chunks = []
                remaining = size + 1  # one byte more than expected reveals growth
                while remaining > 0 and (chunk := os.read(fd, remaining)):
                    chunks.append(chunk)
                    remaining -= len(chunk)
                data = b"".join(chunks)
                if len(data) != size:  # it grew or shrank since the stat: caller retries
                    return None
                digest = blake3.blake3(data).digest()
            else:
                import mmap

                # Like b3sum: a mapping lets blake3 hash on every core without copying.
                with mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as mapped:
                    hasher = blake3.blake3(max_threads=_mmap_threads)
                    hasher.update(mapped)
                    digest = hasher.digest()
        except (BlockingIOError, IsADirectoryError, ValueError):
            # A fifo/directory swapped in after the stat, or an mmap of a truncated file.
            return None
        st = os.fstat(fd)
        # A fifo without writer or a device reads as empty: not a file, the caller says so.
        return (digest, st) if stat.S_ISREG(st.st_mode) else None
    finally:
        os.close(fd)


def read_small(path: str, key: Key) -> bytes | None:
    """Fast path for the common case, a small file unchanged since the walk; else None.

    One read() call; a short read (possible on FUSE or network file systems) or any
    other surprise returns None and the caller takes the careful path.
    """
    if key[2] >= MMAP_MIN_SIZE:
        return None
    try:
        fd = os.open(path, OPEN_FLAGS)
    except OSError:
        return None
    try:
        data = os.read(fd, key[2] + 1)
        st = os.fstat(fd)
    except OSError:
        return None
    finally:
        os.close(fd)
    if (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns) != key or len(
        data
    ) != key[2]:
        return None
    return blake3.blake3(data).digest()


def read_chunk(items: list[tuple[str, Key]]) -> list[bytes | None]:
    """``read_small`` over ``(path, key)`` pairs, in this process."""
    return [read_small(path, key) for path, key in items]


# The work list of read_many, inherited by forked workers so that only index ranges and
# digests cross the process boundary.
_fork_items: list[tuple[str, Key]] = []


def _read_range(bounds: tuple[int, int]) -> bytes:
    """Worker: hash ``_fork_items[start:end]``; 32 bytes per file, zeros for "not done"."""
    start, end = bounds
    out = [read_small(path, key) for path, key in _fork_items[start:end]]
    return b"".join(_NOT_DONE if digest is None else digest for digest in out)


# "Not done" marker. Should a file's digest really be all zeros, it is merely rehashed.
_NOT_DONE = bytes(32)


def worker_count() -> int:
    """How many worker processes to fork now; 1 means "do not fork".

    As many as the CPUs this process may use (a Slurm job's allocation), at most
    MAX_WORKERS, and none when this process has another thread: forking a threaded
    process can deadlock the child.
    """
    if not _CAN_FORK or threading.active_count() > 1:
        return 1
    return min(len(os.sched_getaffinity(0)), MAX_WORKERS)


def read_many(items: list[tuple[str, Key]]) -> list[bytes | None]:
    """``read_small`` over many files, in forked worker processes when that pays off.

    Small files cost system calls, and Python's per-file overhead holds the GIL, so threads
    do not help (measured, see docs/hashing.md) but processes can. Forking is only done when
    this process has no other thread (forking a threaded process can deadlock the child)
    and there are enough files to repay starting the workers. Workers only read and hash;
    anything unusual comes back as None and is redone by the caller on the careful path.
    """
    global _fork_items
    workers = worker_count()
    if len(items) < PARALLEL_MIN_FILES or workers < 2:
        return read_chunk(items)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    step = max(256, len(items) // (workers * 8))
    bounds = [(i, min(i + step, len(items))) for i in range(0, len(items), step)]
    _fork_items = items
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            parts = list(pool.map(_read_range, bounds))
    except (OSError, BrokenProcessPool):  # no processes to spare: do it here
        return read_chunk(items)
    finally:
        _fork_items = []
    joined = b"".join(parts)
    digests = [joined[i : i + 32] for i in range(0, len(joined), 32)]
    return [None if digest == _NOT_DONE else digest for digest in digests]


def hash_uncached(path: str, key: Key) -> tuple[bytes, os.stat_result]:
    """Read and hash a file whose stamps are ``key``, retrying if it changes meanwhile."""
    for _ in range(_ATTEMPTS):
        try:
            result = read_digest(path, key[2])
        except OSError as exc:
            raise os_error(path, exc) from exc
        if result is not None and key_of(result[1]) == key:
            return result
        try:
            st = os.stat(path)
        except OSError as exc:
            raise os_error(path, exc) from exc
        if not stat.S_ISREG(st.st_mode):
            raise special_error(path, st)
        key = key_of(st)
    raise DataError(
        f"data file '{path}' kept changing while it was being hashed; "
        "wait until whatever writes it has finished"
    )
