"""Atomic, durable replacement of a file: the one writer of run.lock, sweep.lock and caches.

The text goes to a temp file in the same directory, is fsynced, and replaces the target
with ``os.replace`` (then the directory is fsynced), so a reader, or a crash at any
moment, sees the old complete file or the new complete file. A writer killed mid-write
leaves a hidden ``.<name>.naga-tmp-*.tmp`` beside the target; :func:`remove_stale_temps`
clears those.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path

__all__ = ["TMP_MARK", "remove_stale_temps", "temp_prefix", "write_atomic"]

#: Between the target's name and the random part of a temp file's name.
TMP_MARK = ".naga-tmp-"


def temp_prefix(path: Path) -> str:
    """The name every temp file of ``path`` starts with (hidden, beside it)."""
    return f".{path.name}{TMP_MARK}"


def write_atomic(path: Path, text: str, *, durable: bool = True) -> None:
    """Replace ``path`` by ``text`` atomically and durably, with a mode following the umask.

    Args:
        path: The file to create or replace; missing parent directories are created.
        text: Its new content, written as UTF-8.
        durable: Also fsync the directory, so the new file survives a power cut from the
            moment this returns. Without it the write is as atomic (the content is
            fsynced before the rename, so a crash leaves the old file or the new one,
            whole), and the rename reaches the disk with the file system's next commit.

    Raises:
        OSError: The directory cannot be created or written; no temp file is left.
        UnicodeEncodeError: ``text`` cannot be written as UTF-8; no temp file is left.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=temp_prefix(path), suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            # mkstemp creates 0600; a receipt is shared with the lab like any output file.
            os.fchmod(handle.fileno(), 0o666 & ~_current_umask())
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise
    if durable:
        _fsync_dir(path.parent)


def remove_stale_temps(path: Path, *, min_age_s: float = 0.0) -> None:
    """Delete the temp files of ``path`` left by writers killed mid-write.

    Args:
        path: The target whose temp files to remove.
        min_age_s: Only remove temp files at least this old. 0 is for callers holding a
            lock that excludes every other writer; a writer without one passes a margin
            no live write takes.
    """
    prefix = temp_prefix(path)
    cutoff = time.time() - min_age_s
    with contextlib.suppress(OSError), os.scandir(path.parent) as entries:
        for entry in entries:
            if not (entry.name.startswith(prefix) and entry.name.endswith(".tmp")):
                continue
            with contextlib.suppress(OSError):
                if min_age_s <= 0 or entry.stat().st_mtime <= cutoff:
                    Path(entry.path).unlink()


def _current_umask() -> int:
    # os.umask() can only be read by setting it, which races with other threads creating
    # files; Linux publishes it in /proc (since 4.7), so read it there when possible.
    try:
        with Path("/proc/self/status").open(encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems (e.g. certain network mounts) refuse fsync on a directory
    finally:
        os.close(fd)
