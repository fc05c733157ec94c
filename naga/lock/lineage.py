"""Lineage: embed upstream run.locks (``prevs=``) and, transitively, their own upstreams.

A run.lock is self-contained: ``prevs`` names the direct upstream stages and
``upstream`` holds every upstream run.lock of the whole graph once, keyed by run_id
(so diamonds are stored once and two stages whose directories share a name never
collide). All ``path`` fields are relative to the directory of the run.lock that holds
them, so a results tree can be moved or mounted elsewhere as a whole.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from naga.errors import LineageError
from naga.lock.format import LOCK_NAME, read_lock
from naga.lock.record import abspath

#: What to do about an upstream stage whose run.lock is missing or unreadable.
UPSTREAM_FIX = "run the upstream stage first or fix the prevs path"


def upstream_lock_file(given: str | os.PathLike[str]) -> Path:
    """Return the run.lock file of an upstream stage given as a directory or a file.

    Raises:
        LineageError: Neither the file nor ``<dir>/run.lock`` exists.
    """
    path = abspath(given)
    if path.is_dir():
        candidate = path / LOCK_NAME
        if candidate.is_file():
            return candidate
        raise LineageError(
            f"prevs: no run.lock in {os.fspath(given)!s} ({candidate}); {UPSTREAM_FIX}"
        )
    if path.is_file():
        return path
    raise LineageError(f"prevs: {os.fspath(given)!s} does not exist ({path}); {UPSTREAM_FIX}")


def _rel(target: Path, base_dir: Path) -> str:
    return Path(os.path.relpath(target, base_dir)).as_posix()


def _location(lock_file: Path) -> Path:
    """A lock named run.lock is referred to by its directory, any other by its file."""
    return lock_file.parent if lock_file.name == LOCK_NAME else lock_file


def _same(a: Path, b: Path) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def resolve_prevs(
    prevs: Mapping[str, str | os.PathLike[str]], lock_path: Path, run_id: str
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Read the upstream stages and build this lock's ``prevs`` and ``upstream`` sections.

    Args:
        prevs: ``{key: directory or run.lock path}`` (paths relative to the cwd).
        lock_path: The absolute path of the run.lock being written.
        run_id: This run's id (an upstream with the same id would be a cycle).

    Returns:
        ``(prevs section, upstream section)``.

    Raises:
        LineageError: An upstream run.lock is missing or invalid, or the graph loops
            back to this run.
    """
    here = lock_path.parent
    prevs_section: dict[str, dict[str, Any]] = {}
    upstream: dict[str, dict[str, Any]] = {}
    for key, given in prevs.items():
        lock_file = upstream_lock_file(given)
        if _same(lock_file, lock_path):
            raise LineageError(
                f"prevs: {os.fspath(given)!s} is this run's own run.lock ({lock_path}): "
                "a stage cannot be its own upstream; "
                "point prevs at the stage that produced this run's inputs"
            )
        lock = read_lock(lock_file, error=LineageError, fix=UPSTREAM_FIX)
        up_id = str(lock.get("run_id"))
        location = _location(lock_file)
        prevs_section[str(key)] = {"path": _rel(location, here), "run_id": up_id}
        own_upstream = lock.get("upstream") or {}
        if up_id == run_id:
            raise LineageError(
                f"prevs: {os.fspath(given)!s} was written by this very run (run_id {run_id}), "
                "so it cannot be its upstream; fix the prevs path"
            )
        upstream[up_id] = {
            "path": _rel(location, here),
            "lock": {k: v for k, v in lock.items() if k != "upstream"},
        }
        for trans_id, entry in own_upstream.items():
            if not isinstance(entry, Mapping):
                continue
            # Paths inside the upstream lock are relative to *its* directory.
            rel = entry.get("path")
            target = (
                Path(os.path.normpath(lock_file.parent / rel)) if isinstance(rel, str) else None
            )
            if str(trans_id) == run_id or (
                target is not None and _same_location(target, lock_path)
            ):
                shown = rel if rel is not None else trans_id
                raise LineageError(
                    f"prevs: cycle — this run ({_rel(lock_path, Path.cwd())}) depends on "
                    f"{os.fspath(given)!s}, whose upstream {shown} is this run's own stage; "
                    "remove the prev that points back"
                )
            upstream.setdefault(
                str(trans_id),
                {
                    "path": _rel(target, here) if target is not None else rel,
                    "lock": entry.get("lock"),
                },
            )
    return prevs_section, upstream


def _same_location(target: Path, lock_path: Path) -> bool:
    return _same(target, lock_path) or _same(target, lock_path.parent)
