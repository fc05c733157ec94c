"""A card per run: what the table row does not hold, read from the run.lock itself.

How and where the run ran, its error, code, data and upstream runs. Receipts are parsed
on :func:`naga.results._read.read_row`'s fast path and only once per change (cards are kept
in the receipt index, table ``cards``). Values are as recorded, so secrets stay redacted.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from naga.errors import LockError
from naga.lock.format import LOCK_NAME
from naga.results._read import read_without as _read  # every card read goes through it
from naga.results._read import row_of, text_or_none
from naga.results.locks import as_dict

__all__ = ["Cards", "card_of", "cards"]

#: How many characters of a traceback a card keeps (the end: where it was raised).
_TRACEBACK_CHARS = 4000


class Cards:
    """The cards of a report's runs, each receipt parsed at most once.

    Use :meth:`row` as the reader of the runs table (``rows_below(..., reader=cards.row)``):
    a receipt the index has no row of is parsed there, and its card is kept for
    :meth:`read`, which finds the other cards in the index (table ``cards``).
    """

    def __init__(self) -> None:
        self._changes = _Changes()
        self._parsed: dict[str, dict[str, Any]] = {}

    def row(self, path: Path) -> dict[str, Any]:
        """The row of one receipt (as :func:`naga.results._read.read_row`), its card kept.

        Raises:
            LockError: The file cannot be read as a run.lock.
        """
        lock = _read(path, _ROW_SKIPPED)
        self._parsed[os.path.abspath(path)] = _card(lock, self._changes)  # noqa: PTH100
        return row_of(lock)

    def _card_of(self, path: Path) -> dict[str, Any]:
        kept = self._parsed.pop(os.path.abspath(path), None)  # noqa: PTH100
        return kept if kept is not None else _card(_read(path, _SKIPPED), self._changes)

    def read(self, run_dirs: Sequence[str], run_ids: Sequence[Any]) -> list[dict[str, Any]]:
        """The card of every run, upstream runs linked to their index when in the report.

        Args:
            run_dirs: The run directories (absolute, or relative to the current directory).
            run_ids: Each run's ``run_id`` (upstream runs are found by id when their path
                moved).
        """
        from naga.results.index import collect

        absolute = {os.path.abspath(d): i for i, d in enumerate(run_dirs)}  # noqa: PTH100
        by_id = {rid: i for i, rid in enumerate(run_ids) if rid}
        found = collect(
            [os.path.join(d, LOCK_NAME) for d in run_dirs],  # noqa: PTH118
            reader=self._card_of,
            table="cards",
        )
        unreadable = {"unreadable": True, "prevs": [], "repos": [], "data": []}
        out = [{**(f.row or unreadable), "downstream": []} for f in found]
        for index, (directory, card) in enumerate(zip(run_dirs, out, strict=True)):
            here = os.path.abspath(directory)  # noqa: PTH100
            for prev in card["prevs"]:
                up = os.path.normpath(os.path.join(here, prev["path"] or ""))  # noqa: PTH118
                target = absolute.get(up)
                if target is None:
                    target = by_id.get(prev["run_id"])
                prev["target"] = target
                if target is not None and target != index:
                    out[target]["downstream"].append(index)
        return out


def cards(run_dirs: Sequence[str], run_ids: Sequence[Any]) -> list[dict[str, Any]]:
    """The card of every run (see :meth:`Cards.read`)."""
    return Cards().read(run_dirs, run_ids)


def card_of(path: Path) -> dict[str, Any]:
    """The card of one run.lock (see the module docstring).

    Raises:
        LockError: The file cannot be read as a run.lock.
    """
    return _card(_read(path, _SKIPPED), _Changes())


def _card(lock: Mapping[str, Any], changes: _Changes) -> dict[str, Any]:
    script = as_dict(lock.get("script"))
    error = lock.get("error")
    return {
        "host": text_or_none(lock.get("host")),
        "launcher": text_or_none(lock.get("launcher")),
        "slurm_job_id": text_or_none(lock.get("slurm_job_id")),
        "attempts": lock.get("attempts"),
        "command": _command(lock.get("command")),
        "cwd": text_or_none(lock.get("cwd")),
        "script": {k: text_or_none(script.get(k)) for k in ("path", "module", "function", "repo")},
        "error": _error(error) if isinstance(error, Mapping) else None,
        "redacted": [str(key) for key in lock.get("redacted") or []],
        "repos": [
            _repo(str(key), as_dict(entry), changes)
            for key, entry in as_dict(lock.get("repos")).items()
        ],
        "data": [
            {
                "key": str(key),
                "path": text_or_none(as_dict(entry).get("path")),
                "kind": text_or_none(as_dict(entry).get("kind")),
                "size": as_dict(entry).get("size"),
                "hash": text_or_none(as_dict(entry).get("hash")),
            }
            for key, entry in as_dict(lock.get("data")).items()
        ],
        "prevs": [
            {
                "key": str(key),
                "path": text_or_none(as_dict(entry).get("path")),
                "run_id": text_or_none(as_dict(entry).get("run_id")),
            }
            for key, entry in as_dict(lock.get("prevs")).items()
        ],
    }


#: Top-level blocks a card does not need: those a row skips, and what the row already has.
_SKIPPED = ("environment", "upstream", "config", "metrics")
_ROW_SKIPPED = ("environment", "upstream")


def _command(command: Any) -> str | None:
    import shlex

    if isinstance(command, list):
        return shlex.join(str(part) for part in command)
    return text_or_none(command)


def _error(error: Mapping[str, Any]) -> dict[str, Any]:
    message = str(error.get("message") or "")
    traceback = str(error.get("traceback") or "")
    return {
        "type": text_or_none(error.get("type")) or "Error",
        "line": next((line for line in message.splitlines() if line.strip()), ""),
        "message": message,
        "traceback": traceback[-_TRACEBACK_CHARS:],
    }


def _repo(key: str, entry: Mapping[str, Any], changes: _Changes) -> dict[str, Any]:
    snapshot = as_dict(entry.get("snapshot"))
    commit = text_or_none(entry.get("commit"))
    snapshot_commit = text_or_none(snapshot.get("commit"))
    dirty = bool(entry.get("dirty"))
    return {
        "key": key,
        "root": text_or_none(entry.get("root")),
        "commit": commit,
        "branch": text_or_none(entry.get("branch")),
        "dirty": dirty,
        "snapshot_commit": snapshot_commit,
        "snapshot_tree": text_or_none(snapshot.get("tree")),
        "changed": (
            changes.between(text_or_none(entry.get("root")), commit, snapshot_commit)
            if dirty
            else []
        ),
        "not_captured": [str(note) for note in entry.get("not_captured") or []],
    }


class _Changes:
    """The files a snapshot changes against its commit, looked up once per pair.

    ``None`` when the repository or one of the commits is not on this machine.
    """

    def __init__(self) -> None:
        self._known: dict[tuple[str, str, str], list[str] | None] = {}
        self._repos: dict[str, Any] = {}

    def between(self, root: str | None, old: str | None, new: str | None) -> list[str] | None:
        if not (root and old and new):
            return None
        key = (root, old, new)
        if key not in self._known:
            self._known[key] = self._lookup(root, old, new)
        return self._known[key]

    def _lookup(self, root: str, old: str, new: str) -> list[str] | None:
        from naga.lock.git.recorded import changed_files, try_open_repo

        if root not in self._repos:
            self._repos[root] = try_open_repo(root)
        repo = self._repos[root]
        if repo is None:
            return None
        try:
            return [str(change) for change in changed_files(repo, old, new)]
        except LockError:
            return None
