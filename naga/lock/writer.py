"""Merge a record into run.lock under a file lock: the one way a run.lock is written.

A file lock around read-merge-write keeps concurrent writers of one run (threads, a
launcher's callback, clicfg's automatic record) from losing each other's sections; the
write itself is :func:`naga.lock.atomic.write_atomic`, so a reader or a crash at any moment
sees the old complete file or the new complete file. The format (names, version, field
order, readers) is :mod:`naga.lock.format`'s.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from naga.errors import LockError
from naga.lock.atomic import remove_stale_temps, temp_prefix, write_atomic
from naga.lock.format import (
    DIGEST_KEY,
    SCHEMA_VERSION,
    SECTIONS,
    VERSION_KEY,
    dumps,
    order_record,
    previous_path,
    read_lock,
    receipt_digest,
)
from naga.lock.status import COMPLETED, RUNNING

#: Seconds to wait for another writer of the same run.lock before giving up.
LOCK_TIMEOUT_S = 60.0
#: What to do about a file in the way of a run.lock that naga must not overwrite.
OVERWRITE_FIX = "move it away, or write this run elsewhere (another save_dir or runlock_path=)"


def merge(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> dict[str, Any]:
    """Merge a new record into the one on disk.

    A lock of another run (different ``run_id``) is replaced whole. For the same run,
    sections ``repos``/``data``/``prevs``/``upstream`` are united by key (the new entry
    wins), ``repos`` entries are also de-duplicated by repository root, ``redacted`` is
    united, ``extra`` is merged by key, and every other field (``config`` included) takes
    the new value when the new record has it.

    Returns:
        The merged record, fields in canonical order.
    """
    if old is None or old.get("run_id") != new.get("run_id"):
        return order_record(new)
    merged: dict[str, Any] = dict(old)
    for key, value in new.items():
        if key in SECTIONS:
            continue
        if key == "redacted":
            merged[key] = sorted(set(old.get("redacted") or ()) | set(value or ()))
        elif key == "extra" and isinstance(old.get("extra"), dict) and isinstance(value, dict):
            merged[key] = {**old["extra"], **value}
        else:
            merged[key] = value
    for section in SECTIONS:
        old_entries = dict(old.get(section) or {})
        new_entries = dict(new.get(section) or {})
        if section == "repos":
            new_roots = {e.get("root") for e in new_entries.values() if isinstance(e, dict)}
            new_roots.discard(None)
            old_entries = {
                k: v
                for k, v in old_entries.items()
                if k in new_entries or not (isinstance(v, dict) and v.get("root") in new_roots)
            }
        if old_entries or new_entries or section in old or section in new:
            merged[section] = {**old_entries, **new_entries}
    return order_record(merged)


def write_text(path: Path, text: str, *, durable: bool = True) -> None:
    """Write a run.lock's text atomically (:func:`naga.lock.atomic.write_atomic`).

    Raises:
        LockError: The directory cannot be created or written.
    """
    try:
        write_atomic(path, text, durable=durable)
    except OSError as exc:
        raise LockError(
            f"cannot write {path}: {exc.strerror or exc}; check that its directory is writable "
            "and has space, or choose another save_dir or runlock_path="
        ) from exc


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the inter-process lock guarding read-merge-write of ``path``.

    Raises:
        LockError: The directory cannot be created, or another writer held the lock for
            longer than :data:`LOCK_TIMEOUT_S`.
    """
    from naga.lock._flock import LockTimeout, exclusive

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LockError(
            f"cannot create {path.parent}: {exc.strerror or exc}; "
            "choose another save_dir or runlock_path="
        ) from exc
    # A hidden sibling of the run.lock, so the lock also works between the nodes of a
    # cluster sharing the filesystem; it is removed again on release.
    lock_file = path.parent / f".{path.name}.lock"
    try:
        with exclusive(lock_file, timeout=LOCK_TIMEOUT_S):
            yield
    except LockTimeout as exc:
        raise LockError(
            f"timed out after {LOCK_TIMEOUT_S:.0f} s waiting for another process writing {path}; "
            f"if no naga process is running, delete {lock_file}"
        ) from exc
    except OSError as exc:
        if exc.filename != str(lock_file):
            raise
        raise LockError(
            f"cannot create the lock file {lock_file}: {exc.strerror or exc}; "
            "check that the directory is writable or choose another save_dir or runlock_path="
        ) from exc


#: The record this process last wrote to each path, with the file's stat stamps then: a run
#: writes its receipt at least twice, and re-parsing our own YAML (the package list makes it
#: long) is most of a write's cost. Another writer replaces the file, which changes the stamps.
_OWN: dict[Path, tuple[tuple[int, int, int, int], dict[str, Any]]] = {}


def _stamps(path: Path) -> tuple[int, int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _remember(path: Path, record: dict[str, Any]) -> None:
    stamps = _stamps(path)
    if stamps is not None:
        _OWN[path] = (stamps, record)
    if len(_OWN) > 256:  # a long sweep in one process: keep the recent ones
        del _OWN[next(iter(_OWN))]


def _read_own(path: Path) -> dict[str, Any]:
    mine = _OWN.get(path)
    if mine is not None and mine[0] == _stamps(path):
        return mine[1]
    return read_lock(path, fix=OVERWRITE_FIX)


def drop_previous(path: Path) -> None:
    """Remove the kept receipt of ``path`` (its newer run completed)."""
    with contextlib.suppress(FileNotFoundError):
        previous_path(path).unlink()


def _refuse_if_busy(path: Path, old: Mapping[str, Any]) -> None:
    from naga.errors import BusyError
    from naga.lock.liveness import is_alive

    if old.get("status") != RUNNING or is_alive(old) is False:
        return
    who = f"pid {old.get('pid', '?')} on {old.get('host', '?')}"
    if old.get("slurm_job_id"):
        who += f", Slurm job {old['slurm_job_id']}"
    raise BusyError(
        f"{path.parent} is in use by a run that is still running ({who}, started "
        f"{old.get('started_at', '?')}); wait for it to end or choose another save_dir, "
        f"and if that run is gone, delete {path}"
    )


def _keep_if_completed(path: Path, old: Mapping[str, Any]) -> None:
    # A new run must not destroy the receipt of the outputs that are still there until it
    # has produced its own: the last completed receipt stays beside it (hard link, so
    # run.lock itself never disappears) until the new run completes.
    if old.get("status") != COMPLETED:
        return
    keep = previous_path(path)
    # Named like run.lock's own temp files, so a writer killed here leaves nothing behind
    # that the next write's clean-up does not remove.
    tmp = path.with_name(f"{temp_prefix(path)}previous-{os.getpid()}.tmp")
    try:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        os.link(path, tmp)
        tmp.replace(keep)
    except OSError:  # a filesystem without hard links: copy
        with contextlib.suppress(OSError):
            write_atomic(keep, path.read_text(encoding="utf-8"))


def update_lock(
    path: Path,
    new: Mapping[str, Any],
    *,
    prepare: Callable[[dict[str, Any] | None, dict[str, Any]], dict[str, Any]] | None = None,
    durable: bool = True,
) -> dict[str, Any]:
    """Read the lock at ``path``, merge ``new`` into it and write it back atomically.

    Args:
        path: The run.lock to create or update.
        new: The record of this call (must hold ``run_id``).
        prepare: Optional hook called under the lock with ``(old record of the same run
            or None, new record)``; returns the record to merge (used to re-apply sticky
            redactions and to skip already-recorded repositories).
        durable: Wait for the directory's fsync (see :func:`naga.lock.atomic.write_atomic`).

    Returns:
        The record as written.

    Raises:
        LockError: The existing file is not a naga run.lock, or writing failed.
    """
    from naga.lock.interrupt import critical

    with critical(), locked(path):
        old: dict[str, Any] | None = None
        try:
            is_file = stat.S_ISREG(path.stat().st_mode)
        except FileNotFoundError:
            is_file = None
        if is_file is False:
            raise LockError(f"{path} exists and is not a regular file; {OVERWRITE_FIX}")
        if is_file:
            old = _read_own(path)
        same_run = old if old is not None and old.get("run_id") == new.get("run_id") else None
        if old is not None and same_run is None:
            _refuse_if_busy(path, old)
            _keep_if_completed(path, old)
        record = prepare(same_run, dict(new)) if prepare is not None else dict(new)
        merged = merge(old, record)
        merged[VERSION_KEY] = SCHEMA_VERSION
        merged.pop(DIGEST_KEY, None)
        merged = order_record(merged)
        # Sealed last, over exactly what is written: `naga verify` tells a receipt edited
        # after the fact (a copied result "fixed" by hand) from one naga wrote.
        merged[DIGEST_KEY] = receipt_digest(merged)
        remove_stale_temps(path)
        write_text(path, dumps(merged), durable=durable)
        _remember(path, merged)
        return merged
