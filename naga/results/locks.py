"""Find, read and take apart the run.lock files on disk (the results table's walk too).

Every ``naga`` subcommand starts from a RUN argument (a run directory or a run.lock file) or
from directories to search; this module turns those into :class:`Run` objects. A file that
is not a readable run.lock of a known format version is a one-line ``LockError`` from
:func:`naga.lock.format.read_lock`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from naga.errors import LockError
from naga.lock.format import LOCK_NAME, read_lock
from naga.lock.metrics import flatten
from naga.lock.timestamps import parse_timestamp

# Directories that never hold runs but can be huge: walking them would make `naga ls` slow;
# MLflow's artifact stores hold copies of logged run.locks, which are not runs of their own,
# and so may a sweep's `.naga-sweep/code/<commit>/` (the code its jobs imported).
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        "__pycache__",
        "node_modules",
        "mlruns",
        "mlartifacts",
        ".naga-sweep",
    }
)


@dataclass(frozen=True)
class Run:
    """One run.lock read from disk.

    Attributes:
        path: The run.lock file (absolute).
        lock: Its parsed content.
    """

    path: Path
    lock: dict[str, Any]

    @property
    def dir(self) -> Path:
        """The directory holding the run.lock (the run's save_dir)."""
        return self.path.parent

    @property
    def run_id(self) -> str:
        return str(self.lock.get("run_id") or "")

    @property
    def status(self) -> str:
        """The recorded status, ``lost`` for a run that says running but is gone."""
        from naga.lock.liveness import effective_status

        return effective_status(self.lock)

    @property
    def config(self) -> dict[str, Any]:
        return as_dict(self.lock.get("config"))

    def section(self, name: str) -> dict[str, Any]:
        """Return a mapping section (``repos``, ``data``, ``prevs``, ``upstream``), or ``{}``."""
        return as_dict(self.lock.get(name))

    @property
    def cwd(self) -> Path:
        """The working directory the run was started from (relative data paths start here)."""
        cwd = self.lock.get("cwd")
        return Path(cwd) if cwd else self.dir

    def when(self) -> datetime | None:
        """The finish time (or the start time while running), for sorting newest first."""
        return parse_time(self.lock.get("finished_at")) or parse_time(self.lock.get("started_at"))

    def display(self, base: Path | None = None) -> str:
        """The run directory as a short path: relative to ``base`` (default: cwd) when below it."""
        return display_path(self.dir, base)


def display_path(path: Path, base: Path | None = None) -> str:
    """Show ``path`` relative to ``base`` (default: the current directory) when it is below it."""
    base = (base or Path.cwd()).resolve()
    try:
        rel = path.resolve().relative_to(base)
    except ValueError:
        return str(path)
    return str(rel) if str(rel) != "." else "."


def parse_time(value: object) -> datetime | None:
    """Parse an ISO 8601 timestamp as written in run.lock; ``None`` when absent or malformed."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        return None


def lock_file(arg: str | Path) -> Path:
    """Resolve a RUN argument (a run directory or a run.lock file) to the run.lock path.

    Raises:
        LockError: The path does not exist or the directory holds no run.lock.
    """
    path = Path(arg).expanduser()
    if not path.exists():
        raise LockError(
            f"run '{arg}' does not exist; pass a run directory or its run.lock "
            "(`naga ls` lists the runs below the current directory)"
        )
    if path.is_dir():
        candidate = path / LOCK_NAME
        if not candidate.is_file():
            raise LockError(
                f"'{arg}' is a directory without a {LOCK_NAME}; pass a run's save_dir "
                f"(`naga ls {arg}` lists the runs below it)"
            )
        path = candidate
    return path.absolute()


def load_run(arg: str | Path) -> Run:
    """Load the run named by a RUN argument (a run directory or a run.lock file)."""
    path = lock_file(arg)
    return Run(path=path, lock=read_lock(path))


# (st_dev, st_ino, st_size, st_mtime_ns, st_ctime_ns) of a run.lock
Stamps = tuple[int, int, int, int, int]
Walked = list[tuple[str, str, Stamps]]


def find_lock_files(
    roots: Sequence[str | os.PathLike[str]],
) -> tuple[Walked, list[str], list[str]]:
    """Every run.lock below ``roots`` (directories or run.lock files), each once, in walk order.

    Returns:
        ``(path, directory relative to its root, stamps)`` of every run.lock (absolute,
        symlinks kept); the directories walked (``/``-terminated); the files named.

    Raises:
        LockError: A root does not exist.
    """
    walked: Walked = []
    ranges: list[str] = []  # prefixes of the directories walked completely
    files: list[str] = []
    seen: set[tuple[int, int]] = set()
    for root in roots:
        top = os.path.abspath(os.fspath(root))  # noqa: PTH100 - keep symlinks, as users name paths
        if not os.path.exists(top):  # noqa: PTH110
            raise LockError(f"directory '{root}' does not exist; pass a directory that holds runs")
        if os.path.isdir(top):  # noqa: PTH112
            ranges.append(top.rstrip("/") + "/")
            locks = _walk(top)
        else:
            files.append(top)
            locks = _one_file(top)
        for path, rel, stamps in locks:
            if (stamps[0], stamps[1]) not in seen:
                seen.add((stamps[0], stamps[1]))
                walked.append((path, rel, stamps))
    return walked, ranges, files


def _walk(top: str) -> Iterator[tuple[str, str, Stamps]]:
    """Every run.lock below ``top`` with its stamps, directories in sorted order.

    Like os.walk without following symlinked directories, but one ``scandir`` per
    directory and one ``stat`` per run.lock: nothing else is asked of the file system.
    """
    skip_len = len(top.rstrip("/")) + 1
    stack = [top]
    while stack:
        directory = stack.pop()
        lock = None
        subdirs = []
        try:
            with os.scandir(directory) as listing:
                for entry in listing:
                    name = entry.name
                    if name == LOCK_NAME:
                        lock = entry
                    elif name not in SKIP_DIRS and entry.is_dir(follow_symlinks=False):
                        subdirs.append(entry.path)
            if lock is not None and lock.is_file():
                yield lock.path, directory[skip_len:] or ".", _stamps(lock.stat())
        except OSError:
            pass  # unreadable, or vanished meanwhile: nothing to list there
        if subdirs:
            subdirs.sort(reverse=True)
            stack += subdirs


def _one_file(path: str) -> Iterator[tuple[str, str, Stamps]]:
    try:
        st = os.stat(path)  # noqa: PTH116
    except OSError:
        return
    yield path, ".", _stamps(st)


def _stamps(st: os.stat_result) -> Stamps:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def find_runs(roots: Iterable[Path], *, warn: bool = True, skip: tuple[str, ...] = ()) -> list[Run]:
    """Load every run.lock below ``roots``; unreadable ones are reported on stderr and skipped.

    ``skip`` names top-level blocks the caller does not need (``environment``,
    ``upstream``): see :func:`naga.lock.format.read_lock`.

    Raises:
        LockError: A root does not exist.
    """
    runs = []
    for found, _, _ in find_lock_files(list(roots))[0]:
        path = Path(found)
        try:
            runs.append(Run(path=path, lock=read_lock(path, skip=skip)))
        except LockError as exc:
            # One broken file must not hide every other run from `naga ls`/`naga gc`.
            if warn:
                print(f"naga: warning: skipped {exc}", file=sys.stderr)
    return runs


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a mapping, else ``{}`` (hand-edited locks may hold anything)."""
    return value if isinstance(value, dict) else {}


# The run's own output directory: it differs between any two runs by construction.
VOLATILE_CONFIG_KEYS = frozenset({"save_dir"})


def comparable_config(run: Run) -> dict[str, Any]:
    """The run's config as dotted keys, without the volatile top-level ``save_dir``."""
    config = {k: v for k, v in run.config.items() if k not in VOLATILE_CONFIG_KEYS}
    return flatten(config)


def data_abspath(run: Run, path: str) -> Path:
    """Resolve a recorded ``data`` path: relative paths start at the run's recorded cwd."""
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else run.cwd / candidate


def code_state(entry: dict[str, Any]) -> tuple[str | None, str]:
    """The commit that holds a recorded repo's code, and how to call it.

    Returns:
        ``(snapshot commit, "snapshot")`` for a dirty repo with a snapshot,
        ``(HEAD commit, "commit")`` otherwise (``None`` on an unborn branch).
    """
    snapshot = entry.get("snapshot")
    if entry.get("dirty") and isinstance(snapshot, dict) and snapshot.get("commit"):
        return str(snapshot["commit"]), "snapshot"
    commit = entry.get("commit")
    return (str(commit) if commit else None), "commit"
