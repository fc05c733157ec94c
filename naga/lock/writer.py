"""Read, merge and atomically write run.lock files.

Writes go to a temp file in the same directory, are fsynced, and replace the target
with ``os.replace`` (then the directory is fsynced), so a reader or a crash at any
moment sees the old complete file or the new complete file. A file lock around
read-merge-write keeps concurrent writers of one run (threads, a launcher's callback,
clicfg's automatic record) from losing each other's sections.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from naga.errors import LockError
from naga.lock.record import SECTIONS, order_record

SCHEMA_VERSION = 1
#: Suffix of the last completed receipt kept while a newer run of the directory is open.
PREVIOUS_SUFFIX = ".previous"
_TMP_MARK = ".naga-tmp-"
#: Seconds to wait for another writer of the same run.lock before giving up.
LOCK_TIMEOUT_S = 60.0


def _yaml() -> Any:
    import yaml

    return yaml


def dumps(record: Mapping[str, Any]) -> str:
    """Serialise a record as readable block-style YAML (key order kept).

    Equal lists of installed packages (this run's and its upstream stages', usually all
    from one environment) are written once: YAML writes an object met twice as an anchor
    (``&id001``) and then aliases (``*id001``), which every YAML reader expands.
    """
    out, uses = _share_packages(record)
    env = out.get("environment")
    packages = env.get("packages") if isinstance(env, Mapping) else None
    if not isinstance(env, Mapping) or not isinstance(packages, dict) or not packages:
        return _dump(out)
    if uses.get(id(packages)) != 1:  # shared with upstream stages: anchors and aliases
        return _dump(out)
    # The run's own package list, met once: its YAML text (~150 lines, most of a write's
    # YAML work) is the same in every write of the process, so it is made once.
    block = _packages_block(packages)
    text = _dump({**out, "environment": {**env, "packages": _SLOT}})
    return text.replace(f"  packages: {_SLOT}\n", block, 1)


def _dump(data: Any) -> str:
    yaml = _yaml()
    return yaml.dump(
        data,
        Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=120,
    )


#: Stands for the package map while the rest of the record is dumped; the first line
#: `  packages: <_SLOT>` is the record's own (environment comes before config and repos).
_SLOT = "NAGA-PACKAGES-SLOT-7c1e"
#: The YAML text of recent package maps, as it sits at ``environment.packages``.
_BLOCKS: dict[tuple[tuple[Any, Any], ...], str] = {}


def _packages_block(packages: Mapping[str, Any]) -> str:
    key = tuple(packages.items())
    block = _BLOCKS.get(key)
    if block is None:
        text = _dump({"environment": {"packages": dict(packages)}})
        block = text.split("\n", 1)[1]  # the lines below `environment:`
        if len(_BLOCKS) >= 4:
            _BLOCKS.pop(next(iter(_BLOCKS)))
        _BLOCKS[key] = block
    return block


def _share_packages(record: Mapping[str, Any]) -> tuple[dict[str, Any], dict[int, int]]:
    """A copy of ``record`` in which equal ``environment.packages`` maps are one object.

    Returns:
        The copy, and how many records of it use each package map (by ``id``).
    """
    shared: dict[tuple[tuple[Any, Any], ...], Any] = {}
    uses: dict[int, int] = {}

    def with_shared(lock: Any) -> Any:
        if not isinstance(lock, Mapping):
            return lock
        env = lock.get("environment")
        if not isinstance(env, Mapping) or not isinstance(env.get("packages"), Mapping):
            return lock
        packages = env["packages"]
        try:
            key = tuple(sorted(packages.items()))
        except TypeError:  # not name -> version strings: leave it as it is
            return lock
        one = shared.setdefault(key, packages)
        uses[id(one)] = uses.get(id(one), 0) + 1
        return {**lock, "environment": {**env, "packages": one}}

    out = with_shared(dict(record))
    upstream = out.get("upstream")
    if isinstance(upstream, Mapping):
        out["upstream"] = {
            run_id: {**entry, "lock": with_shared(entry.get("lock"))}
            if isinstance(entry, Mapping)
            else entry
            for run_id, entry in upstream.items()
        }
    return out, uses


def loads(text: str | bytes) -> Any:
    """Parse YAML text with the safe loader (libyaml when available)."""
    yaml = _yaml()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)


def read_lock(
    path: str | os.PathLike[str], *, error: type[LockError] = LockError
) -> dict[str, Any]:
    """Read and validate a run.lock.

    Args:
        path: The run.lock file.
        error: The exception class to raise (``LineageError`` when reading upstreams).

    Returns:
        The record as a dict.

    Raises:
        LockError: The file cannot be read, is not YAML, or is not a naga run.lock.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise error(f"Cannot read {path}: {reason}. Check the path and its permissions.") from exc
    try:
        data = loads(text)
    except Exception as exc:  # yaml.YAMLError and its C twin
        raise error(
            f"{path} is not valid YAML, so it is not a naga run.lock. "
            "Move it away (or pass another runlock_path=) so naga does not overwrite it."
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("naga_lock"), int):
        raise error(
            f"{path} is not a naga run.lock (no 'naga_lock' version key). "
            "Move it away (or pass another runlock_path=) so naga does not overwrite it."
        )
    return data


def merge(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> dict[str, Any]:
    """Merge a new record into the one on disk.

    A lock of another run (different ``run_id``) is replaced whole. For the same run,
    sections ``repos``/``data``/``prevs``/``upstream`` are united by key (the new entry
    wins), ``repos`` entries are also de-duplicated by repository root, ``redacted`` is
    united, ``extra`` is merged by key, and every other field (``config`` included) takes
    the new value when the new record has it.

    Args:
        old: The record on disk, or ``None``.
        new: The record being written.

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


def _remove_stale_temps(path: Path) -> None:
    """Delete temp files left by writers killed mid-write (we hold the lock, so none is live)."""
    prefix = f".{path.name}{_TMP_MARK}"
    with contextlib.suppress(OSError), os.scandir(path.parent) as entries:
        for entry in entries:
            if entry.name.startswith(prefix) and entry.name.endswith(".tmp"):
                with contextlib.suppress(OSError):
                    Path(entry.path).unlink()


def write_atomic(path: Path, text: str, *, durable: bool = True) -> None:
    """Write ``text`` to ``path`` atomically and durably, with a mode following the umask.

    Args:
        path: The file to replace.
        text: Its new content.
        durable: Also fsync the directory, so the new file survives a power cut from the
            moment this returns. Without it the write is as atomic (the content is
            fsynced before the rename, so a crash leaves the old file or the new one,
            whole), and the rename reaches the disk with the file system's next commit.

    Raises:
        LockError: The directory cannot be created or written.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}{_TMP_MARK}", suffix=".tmp"
        )
    except OSError as exc:
        raise LockError(
            f"Cannot write {path}: {exc.strerror or exc}. Check that its directory is writable "
            "or pass another runlock_path=."
        ) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            # mkstemp creates 0600; a run.lock is shared with the lab like any output file.
            os.fchmod(handle.fileno(), 0o666 & ~_current_umask())
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        if isinstance(exc, OSError):
            raise LockError(
                f"Cannot write {path}: {exc.strerror or exc}. Check disk space and permissions."
            ) from exc
        raise
    if durable:
        _fsync_dir(path.parent)


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
            f"Cannot create {path.parent}: {exc.strerror or exc}. Pass another runlock_path=."
        ) from exc
    # A hidden sibling of the run.lock, so the lock also works between the nodes of a
    # cluster sharing the filesystem; it is removed again on release.
    lock_file = path.parent / f".{path.name}.lock"
    try:
        with exclusive(lock_file, timeout=LOCK_TIMEOUT_S):
            yield
    except LockTimeout as exc:
        raise LockError(
            f"Timed out after {LOCK_TIMEOUT_S:.0f} s waiting for another process writing {path}. "
            f"If no naga process is running, delete {lock_file}."
        ) from exc
    except OSError as exc:
        if exc.filename != str(lock_file):
            raise
        raise LockError(
            f"Cannot create the lock file {lock_file}: {exc.strerror or exc}. "
            "Check that the directory is writable or pass another runlock_path=."
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
    return read_lock(path)


def previous_path(path: Path) -> Path:
    """Where the last completed receipt waits while a newer run in its directory is open."""
    return path.with_name(path.name + PREVIOUS_SUFFIX)


def drop_previous(path: Path) -> None:
    """Remove the kept receipt of ``path`` (its newer run completed)."""
    with contextlib.suppress(FileNotFoundError):
        previous_path(path).unlink()


def _refuse_if_busy(path: Path, old: Mapping[str, Any]) -> None:
    from naga.errors import BusyError
    from naga.lock.liveness import is_alive

    if old.get("status") != "running" or is_alive(old) is False:
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
    if old.get("status") != "completed":
        return
    keep = previous_path(path)
    # Named like run.lock's own temp files, so a writer killed here leaves nothing behind
    # that the next write's clean-up does not remove.
    tmp = path.with_name(f".{path.name}{_TMP_MARK}previous-{os.getpid()}.tmp")
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
        durable: Wait for the directory's fsync (see :func:`write_atomic`).

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
            raise LockError(
                f"{path} exists and is not a regular file. "
                "Move it away or pass another runlock_path=."
            )
        if is_file:
            old = _read_own(path)
        same_run = old if old is not None and old.get("run_id") == new.get("run_id") else None
        if old is not None and same_run is None:
            _refuse_if_busy(path, old)
            _keep_if_completed(path, old)
        record = prepare(same_run, dict(new)) if prepare is not None else dict(new)
        merged = merge(old, record)
        merged["naga_lock"] = SCHEMA_VERSION
        merged = order_record(merged)
        _remove_stale_temps(path)
        write_atomic(path, dumps(merged), durable=durable)
        _remember(path, merged)
        return merged
