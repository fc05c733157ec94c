"""A small inter-process lock (``flock`` on a hidden sibling file) for read-merge-write.

The ``filelock`` package would do, but importing it costs ~50-70 ms (it pulls in asyncio)
on every run that writes a run.lock, and the clicfg start-up budget cannot afford that.
This is the part naga needs: an exclusive ``flock`` with a timeout, removing the lock file
again while still holding it, and retrying when the file it locked was removed by the
previous holder in the meantime (checked with ``st_nlink``, as git and jj do).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path


class LockTimeout(TimeoutError):
    """The lock stayed held by another process for longer than the timeout."""


@contextlib.contextmanager
def exclusive(lock_file: Path, *, timeout: float, poll: float = 0.005) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_file`` (created if needed, removed on release).

    Args:
        lock_file: The lock's path; its directory must exist.
        timeout: Seconds to wait for another holder before raising :class:`LockTimeout`.
        poll: Initial seconds between attempts (doubles up to 50 ms).

    Raises:
        LockTimeout: Still held elsewhere after ``timeout`` seconds.
        OSError: The lock file cannot be created.
    """
    deadline = time.monotonic() + timeout
    delay = poll
    while True:
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
            if time.monotonic() >= deadline:
                raise LockTimeout(str(lock_file)) from exc
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
            continue
        # The previous holder unlinks the file before releasing it; if we locked that
        # orphaned inode, our lock guards nothing: start over on a fresh file.
        if os.fstat(fd).st_nlink == 0:
            os.close(fd)
            continue
        break
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            lock_file.unlink()
        os.close(fd)  # closing releases the flock
