"""Runs that travel: which clone a run is read in, and the code it needs there.

A run.lock records absolute paths of the machine it ran on. :func:`locate` reads a run
against the clone it now sits in, moving the recorded root, working directory and data
paths below it into that clone (:attr:`Located.note` says so). :func:`ensure_code` is the
one call made before a recorded commit or snapshot is needed: present, fetched, or a
one-line error naming which ``naga push`` would publish it.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from naga.errors import RepoError
from naga.lock.git.remotes import Need
from naga.results.locks import Run, as_dict, code_state, display_path

#: Where a moved copy of a record keeps what it was moved from (never written to disk).
_MOVED = "_naga_moved"


@dataclass(frozen=True)
class Located:
    """A run read against the clone it is in.

    Attributes:
        run: The run, its recorded paths moved into this clone when it travelled.
        recorded_root: The repository root the run recorded (``None``: no repository).
        clone: The clone it is read against (``None``: read where it was recorded).
    """

    run: Run
    recorded_root: str | None
    clone: Path | None

    @property
    def moved(self) -> bool:
        return self.clone is not None

    @property
    def note(self) -> str | None:
        """One sentence for the user when the run is read in another clone."""
        if self.clone is None:
            return None
        host = self.run.lock.get("host") or "another machine"
        return (
            f"made in {self.recorded_root} on {host}; read in this clone, {self.clone} "
            "(recorded paths resolved here)"
        )


def script_root(run: Run) -> str | None:
    """The recorded root of the run's own repository (its script's, else the first one)."""
    script = as_dict(run.lock.get("script"))
    if script.get("repo"):
        return str(script["repo"])
    for entry in run.section("repos").values():
        if isinstance(entry, dict) and entry.get("root"):
            return str(entry["root"])
    return None


def locate(run: Run) -> Located:
    """Read ``run`` against the clone it sits in (see the module docstring).

    The clone is the git work tree holding the run directory, else the one holding the
    current directory. It counts as a clone of the recorded repository when it holds the
    recorded commit, or shares a remote URL with the recording; otherwise (say, results
    kept in a repository of their own) the recorded paths are kept.
    """
    moved = run.lock.get(_MOVED)
    if isinstance(moved, dict):  # located already
        return Located(run, moved["root"], Path(moved["clone"]))
    recorded = script_root(run)
    if recorded is None:
        return Located(run, None, None)
    clone = _clone_of(run.dir) or _clone_of(Path.cwd())
    if clone is None or _same_path(clone, Path(recorded)):
        return Located(run, recorded, None)
    entry = _entry_for(run, recorded)
    if not _same_repository(clone, entry):
        return Located(run, recorded, None)
    return Located(_moved(run, recorded, clone), recorded, clone)


#: The work-tree root of each directory looked at (None: in no work tree): the runs of a
#: sweep share their ancestors, so 1,000 runs cost a few lookups, not 1,000 walks.
_ROOTS: dict[str, Path | None] = {}


def _clone_of(path: Path) -> Path | None:
    """The work tree holding ``path`` (like :func:`naga.lock.git.find_repo_root`), cached."""
    start = Path(os.path.abspath(path))  # noqa: PTH100 - keep the route the user took
    walked = []
    found: Path | None = None
    for candidate in (start, *start.parents):
        key = str(candidate)
        if key in _ROOTS:
            found = _ROOTS[key]
            break
        walked.append(key)
        if (candidate / ".git").exists():
            found = candidate
            break
    for key in walked:
        _ROOTS[key] = found
    return found


@lru_cache(maxsize=256)
def _same_path(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return os.path.normpath(a) == os.path.normpath(b)


def _entry_for(run: Run, root: str) -> dict[str, Any]:
    for entry in run.section("repos").values():
        if isinstance(entry, dict) and entry.get("root") == root:
            return entry
    return {}


@lru_cache(maxsize=64)
def _clone_facts(clone: str) -> tuple[Any, frozenset[str]]:
    from naga.lock.git.recorded import try_open_repo
    from naga.lock.redact import strip_url_credentials

    repo = try_open_repo(clone)
    urls = frozenset(
        strip_url_credentials(remote.url or remote.push_url or "")
        for remote in (repo.remotes if repo is not None else [])
    )
    return repo, urls


def _same_repository(clone: Path, entry: dict[str, Any]) -> bool:
    from naga.lock.git.recorded import has_commit

    repo, urls = _clone_facts(str(clone))
    if repo is None:
        return False
    recorded_urls = {str(u) for u in as_dict(entry.get("remotes")).values()}
    if urls & recorded_urls:
        return True
    return bool(entry.get("commit")) and has_commit(repo, str(entry["commit"]))


def _move(path: Any, old: str, new: Path) -> Any:
    """``path`` moved from below ``old`` to below ``new`` (unchanged when not below)."""
    if not isinstance(path, str) or not Path(path).is_absolute():
        return path
    rel = os.path.relpath(os.path.normpath(path), os.path.normpath(old))
    if rel == ".":
        return str(new)
    if rel.startswith(os.pardir):
        return path
    return str(new / rel)


def _moved(run: Run, old: str, clone: Path) -> Run:
    lock = copy.deepcopy(run.lock)
    lock["cwd"] = _move(lock.get("cwd"), old, clone)
    script = lock.get("script")
    if isinstance(script, dict):
        script["repo"] = _move(script.get("repo"), old, clone)
    for entry in as_dict(lock.get("repos")).values():
        if isinstance(entry, dict):
            entry["root"] = _move(entry.get("root"), old, clone)
    for entry in as_dict(lock.get("data")).values():
        if isinstance(entry, dict):
            entry["path"] = _move(entry.get("path"), old, clone)
    lock[_MOVED] = {"root": old, "clone": str(clone)}
    return Run(path=run.path, lock=lock)


def needs_of(entry: dict[str, Any]) -> list[Need]:
    """The commits a ``repos`` entry needs: its snapshot (dirty) or its commit (clean)."""
    sha, kind = code_state(entry)
    if sha is None:
        return []
    if kind == "snapshot":
        snapshot = as_dict(entry.get("snapshot"))
        tree = snapshot.get("tree")
        return [Need.snapshot(sha, snapshot.get("ref"), str(tree) if tree else None)]
    return [Need.commit(sha)]


def ensure_code(
    located: Located, entry: dict[str, Any], others: Iterable[dict[str, Any]] = ()
) -> str:
    """Make sure the code of a recorded repository is in this clone; fetch it if need be.

    Args:
        located: The run (as :func:`locate` gives it).
        entry: Its ``repos`` entry (paths already moved into this clone): its snapshot when
            it was dirty, else its commit.
        others: ``repos`` entries of other runs of the same repository whose code is
            needed too (``naga diff`` compares two); their remotes are tried as well.

    Returns:
        A line saying where the code was fetched from, or ``""`` when it was here already.

    Raises:
        RepoError: The repository is gone, or no remote has the code: one line naming
            what is missing and the ``naga push`` that would publish it.
    """
    from naga.lock.git.recorded import open_repo
    from naga.lock.git.remotes import fetch_missing, sources

    root = Path(str(entry.get("root") or ""))
    entries = [entry, *others]
    needs = [need for one in entries for need in needs_of(one)]
    repo = open_repo(root)
    remotes = {
        str(k): str(v) for one in reversed(entries) for k, v in as_dict(one.get("remotes")).items()
    }
    tried = sources(repo, remotes, located.recorded_root)
    fetched, missing, problems = fetch_missing(repo, root, needs, tried)
    if missing:
        raise RepoError(_missing_message(located, root, missing, tried, problems))
    return "; ".join(f"fetched {need.label()} from {source.shown}" for need, source in fetched)


def _missing_message(
    located: Located, root: Path, missing: list[Need], tried: list[Any], problems: list[str]
) -> str:
    need = missing[0]
    what = f"{need.label()} ({need.ref})" if need.kind == "snapshot" else need.label()
    more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
    if problems:
        looked = f"not in {root} ({'; '.join(problems)})"
    elif tried:
        looked = f"not in {root}, and none of {', '.join(s.shown for s in tried)} has it"
    else:
        looked = f"not in {root}, which has no remote to fetch it from"
    run_dir = _path_there(located)
    host = located.run.lock.get("host") or "the machine that made it"
    made_in = located.recorded_root or "its repository"
    return (
        f"{what}{more} of run {display_path(located.run.dir)} is missing: {looked}; "
        f"publish it with `naga push {run_dir}` on {host} in {made_in} (or carry it with "
        "`naga export` / `naga import`)"
    )


def _path_there(located: Located) -> str:
    """The run directory as the recording machine names it (for the `naga push` hint)."""
    if located.clone is not None and located.recorded_root:
        try:
            rel = located.run.dir.resolve().relative_to(located.clone.resolve())
        except (ValueError, OSError):
            return display_path(located.run.dir)
        return str(Path(located.recorded_root) / rel)
    return display_path(located.run.dir)


@dataclass
class RepoCode:
    """The code that some runs need from one repository of this machine.

    Attributes:
        root: The repository's work tree here.
        needs: Each commit or snapshot needed, with the runs needing it.
        remotes: The remote URLs the runs recorded for it.
    """

    root: Path
    needs: dict[Need, list[Run]]
    remotes: dict[str, str]


def code_by_repository(runs: Iterable[Run]) -> tuple[dict[Path, RepoCode], list[str]]:
    """Group the commits and snapshots that ``runs`` need by repository (read in this clone).

    Returns:
        ``({root: RepoCode}, [recorded roots that are not on this machine])``.
    """
    found: dict[Path, RepoCode] = {}
    gone: list[str] = []
    for run in runs:
        moved = locate(run).run
        for entry in moved.section("repos").values():
            if not isinstance(entry, dict) or not entry.get("root"):
                continue
            needs = needs_of(entry)
            if not needs:
                continue
            root = _clone_of(Path(str(entry["root"])))
            if root is None or not _same_path(root, Path(str(entry["root"]))):
                gone.append(str(entry["root"]))
                continue
            code = found.setdefault(root, RepoCode(root, {}, {}))
            for need in needs:
                code.needs.setdefault(need, []).append(run)
            for name, url in as_dict(entry.get("remotes")).items():
                code.remotes.setdefault(str(name), str(url))
    return found, sorted(set(gone))


def count_code(needs: Iterable[Need]) -> str:
    """``2 snapshots and 1 commit`` (what a set of needs holds, for summaries)."""
    kinds = [need.kind for need in needs]
    parts = []
    for kind in ("snapshot", "commit"):
        n = kinds.count(kind)
        if n:
            parts.append(f"{n} {kind}{'s' * (n != 1)}")
    return " and ".join(parts) or "no code"
