"""Git state of a repository for the ``repos`` section of run.lock: where git state is read.

``repo_state(path)`` records HEAD, branch, remotes (credentials removed) and, when the work
tree is dirty, a snapshot commit kept under ``refs/naga/snapshots/<tree>``, never touching
the user's HEAD, index, branches, stash or work tree (docs/git-state.md). The room's modules
are listed in ``naga/lock/__init__.py``; pygit2 is imported inside the functions.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from naga.errors import ConfigError, RepoError
from naga.lock.git._snapshot import SNAPSHOT_REF_PREFIX
from naga.lock.redact import strip_url_credentials as strip_credentials

if TYPE_CHECKING:
    import pygit2

__all__ = [
    "DEFAULT_LARGE_FILE_LIMIT",
    "SNAPSHOT_REF_PREFIX",
    "LargeFileWarning",
    "find_repo_root",
    "repo_state",
    "snapshot_exists",
    "strip_credentials",
]

DEFAULT_LARGE_FILE_LIMIT = 10 * 1024 * 1024
LARGE_FILE_LIMIT_ENV = "NAGA_LARGE_FILE_LIMIT"


class LargeFileWarning(UserWarning):
    """Untracked files too large to store in a snapshot were recorded by hash only."""


def find_repo_root(path: str | os.PathLike[str], *, resolve: bool = True) -> Path | None:
    """Return the work-tree root of the git repository containing ``path``, or None.

    A cheap walk up the directory tree looking for ``.git`` (a directory, or a file as in
    submodules and worktrees); pygit2 is not imported. Bare repositories have no work tree
    and give None.

    Args:
        path: A file or directory; it need not exist (its existing ancestors are searched).
        resolve: Resolve symlinks first (the root is then the real directory). False keeps
            the route the caller took, so paths below it stay relative to the root.

    Returns:
        The absolute root directory, or None when ``path`` is not in a work tree.
    """
    start = Path(path).expanduser()
    start = start.resolve() if resolve else Path(os.path.abspath(start))  # noqa: PTH100
    current = start if start.is_dir() else start.parent
    for candidate in (current, *current.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def repo_state(
    path: str | os.PathLike[str],
    *,
    snapshot: bool = True,
    large_file_limit: int | None = None,
) -> dict[str, Any]:
    """State of the git repository containing ``path``, as a ``repos`` entry of run.lock.

    Keys (docs/run-lock.md): ``root, commit, tree, branch, dirty, remotes, snapshot,
    untracked_large, submodules, not_captured``; the caller adds ``path`` as the user gave
    it. ``tree`` is the git tree of the code that ran (HEAD's when clean, the snapshot's
    when dirty, ``None`` when not captured): two runs ran the same code exactly when their
    trees are equal, whichever commits they sat on. When the work tree differs from HEAD
    and ``snapshot`` is true, the work tree is stored as a commit on top of HEAD under
    ``refs/naga/snapshots/``; identical states give the identical commit.

    Args:
        path: A file or directory inside the repository's work tree.
        snapshot: Store a snapshot commit of a dirty work tree (False: only report ``dirty``).
        large_file_limit: Untracked files larger than this many bytes are recorded by blake3
            hash in ``untracked_large`` instead of being stored. Default: the environment
            variable ``NAGA_LARGE_FILE_LIMIT`` (bytes), else 10 MiB.

    Returns:
        A plain dict of str/int/bool/None/list/dict values, ready for YAML.

    Raises:
        RepoError: ``path`` does not exist, is not in a git work tree, or git refuses it.
        ConfigError: ``NAGA_LARGE_FILE_LIMIT`` is not a non-negative integer.

    Warns:
        LargeFileWarning: untracked files above the limit were left out of the snapshot.
    """
    import pygit2

    limit = _resolve_limit(large_file_limit)
    given = Path(path)
    if not given.exists():
        raise RepoError(
            f"repos: path '{os.fspath(path)}' does not exist (resolved to {given.absolute()}); "
            "fix the path in repos= or create the repository there"
        )
    repo = _open_repo(given, os.fspath(path))
    root = Path(repo.workdir).resolve()
    head = None if repo.head_is_unborn else repo.head.peel(pygit2.Commit)
    try:
        status = repo.status(untracked_files="all", ignored=False)
    except pygit2.GitError as exc:
        raise RepoError(
            f"repos: git status failed in {root}: {exc}; run `git status` there to see why"
        ) from exc
    gitlinks = _gitlink_paths(repo, root)
    state = _head_state(repo, root, head, gitlinks)
    state["dirty"] = bool(status)
    if not status:
        return state
    if not snapshot:
        state["tree"] = None  # what ran is not captured, so neither is its tree
        state["not_captured"].append(
            "uncommitted changes: snapshots were disabled (snapshot=False)"
        )
        return state
    _snapshot_work_tree(repo, root, head, status, state, limit=limit, gitlinks=gitlinks)
    return state


def _head_state(
    repo: pygit2.Repository, root: Path, head: pygit2.Commit | None, gitlinks: set[str]
) -> dict[str, Any]:
    """The ``repos`` entry of a clean work tree at ``head`` (submodules' commits included)."""
    submodules = _submodules(root, gitlinks, head)
    dirty_subs = [p for p, info in submodules.items() if info["dirty"]]
    not_captured = []
    if dirty_subs:
        not_captured.append(
            "uncommitted changes inside submodules are not snapshotted, only their "
            f"checked-out commits: {', '.join(dirty_subs)}"
        )
    return {
        "root": str(root),
        "commit": None if head is None else str(head.id),
        "tree": None if head is None else str(head.tree_id),
        "branch": _branch(repo),
        "dirty": False,
        "remotes": _remotes(repo),
        "snapshot": None,
        "untracked_large": [],
        "submodules": submodules,
        "not_captured": not_captured,
    }


def _snapshot_work_tree(
    repo: pygit2.Repository,
    root: Path,
    head: pygit2.Commit | None,
    status: dict[str, int],
    state: dict[str, Any],
    *,
    limit: int,
    gitlinks: set[str],
) -> None:
    """Store the dirty work tree as a snapshot commit and note in ``state`` what it left out."""
    import pygit2

    from naga.lock.git._snapshot import build_worktree_tree, store_snapshot

    try:
        built = build_worktree_tree(
            repo,
            head.tree if head is not None else None,
            status,
            large_file_limit=limit,
            gitlinks=gitlinks,
        )
        state["untracked_large"] = built.untracked_large
        state["not_captured"].extend(built.not_captured)
        state["tree"] = str(built.tree)
        if head is None or built.tree != head.tree_id:
            state["snapshot"] = store_snapshot(repo, built.tree, head)
    except pygit2.GitError as exc:
        raise RepoError(
            f"repos: could not snapshot the work tree of {root}: {exc}; check that "
            "the repository is writable (`git fsck`), or pass snapshot=False"
        ) from exc
    if built.untracked_large:
        _warn_large(root, built.untracked_large, limit)
        for entry in built.untracked_large:
            state["not_captured"].append(
                f"untracked file '{entry['path']}' ({entry['size']} bytes, above the "
                f"{limit}-byte limit) is recorded by hash only"
            )


def snapshot_exists(root: str | os.PathLike[str], sha: str) -> bool:
    """Whether the commit ``sha`` (a snapshot recorded in a run.lock) is in the repository.

    Args:
        root: The repository's work tree (or any path inside it).
        sha: A full or abbreviated commit id.

    Returns:
        True when the object exists and is a commit; False for unknown or malformed ids.

    Raises:
        RepoError: ``root`` is not inside a git repository.
    """
    import pygit2

    repo = _open_repo(Path(root), os.fspath(root))
    try:
        obj = repo.revparse_single(sha) if len(sha) < 40 else repo.get(sha)
    except (KeyError, ValueError, pygit2.GitError):
        return False
    return obj is not None and obj.type == pygit2.enums.ObjectType.COMMIT


def _open_repo(path: Path, as_given: str) -> pygit2.Repository:
    import pygit2

    try:
        discovered = pygit2.discover_repository(str(path))
    except pygit2.GitError as exc:
        raise RepoError(f"repos: cannot open a git repository at '{as_given}': {exc}") from exc
    if discovered is None:
        raise RepoError(
            f"repos: '{as_given}' is not inside a git repository; run `git init` there "
            "(and commit your code) or fix the path in repos="
        )
    try:
        repo = pygit2.Repository(discovered)
    except pygit2.GitError as exc:
        # e.g. libgit2's safe.directory ownership check on shared cluster file systems.
        raise RepoError(
            f"repos: cannot open the git repository at '{as_given}': {exc}; if it is owned by "
            "another user, run `git config --global --add safe.directory <path>`"
        ) from exc
    if repo.is_bare or repo.workdir is None:
        raise RepoError(
            f"repos: '{as_given}' is a bare git repository without a work tree; "
            "point repos= at a checkout instead"
        )
    return repo


def _branch(repo: pygit2.Repository) -> str | None:
    if repo.head_is_detached:
        return None
    target = repo.lookup_reference("HEAD").target  # symbolic: works on an unborn branch too
    name = str(target)
    return name.removeprefix("refs/heads/")


def _remotes(repo: pygit2.Repository) -> dict[str, str]:
    remotes: dict[str, str] = {}
    for remote in repo.remotes:
        url = remote.url or remote.push_url
        if url and remote.name:
            remotes[remote.name] = strip_credentials(url)
    return dict(sorted(remotes.items()))


def _gitlink_paths(repo: pygit2.Repository, root: Path) -> set[str]:
    # Submodules are declared in .gitmodules; without it there is nothing to look up, and
    # libgit2's submodule scan (index + HEAD + config) is not free on large repositories.
    if not (root / ".gitmodules").exists():
        return set()
    import pygit2

    try:
        return set(repo.listall_submodules())
    except (pygit2.GitError, ValueError, KeyError):
        # A broken .gitmodules must not block the run receipt; git status still reports.
        return set()


def _submodules(
    root: Path, gitlinks: set[str], head: pygit2.Commit | None
) -> dict[str, dict[str, Any]]:
    import pygit2

    from naga.lock.git._snapshot import open_nested_repo

    result: dict[str, dict[str, Any]] = {}
    for sub_path in sorted(gitlinks):
        sub = open_nested_repo(root / sub_path)
        if sub is None or sub.head_is_unborn:
            # Not checked out: all we know is the commit HEAD records for it.
            commit, dirty = _tree_entry_id(head, sub_path), False
        else:
            commit = str(sub.head.peel().id)
            try:
                dirty = bool(sub.status(untracked_files="all"))
            except pygit2.GitError:
                dirty = False
        result[sub_path] = {"commit": commit, "dirty": dirty}
    return result


def _tree_entry_id(head: pygit2.Commit | None, path: str) -> str | None:
    if head is None:
        return None
    try:
        return str(head.tree[path].id)
    except KeyError:
        return None


def _resolve_limit(limit: int | None) -> int:
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ConfigError(
                f"large_file_limit={limit!r} is not a number of bytes; pass a non-negative "
                f"integer such as {DEFAULT_LARGE_FILE_LIMIT}"
            )
        return limit
    raw = os.environ.get(LARGE_FILE_LIMIT_ENV, "").strip()
    if not raw:
        return DEFAULT_LARGE_FILE_LIMIT
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise ConfigError(
            f"{LARGE_FILE_LIMIT_ENV}={raw!r} is not a number of bytes; set it to a "
            f"non-negative integer such as {DEFAULT_LARGE_FILE_LIMIT} or unset it"
        )
    return value


def _warn_large(root: Path, large: list[dict[str, Any]], limit: int) -> None:
    shown = ", ".join(f"{e['path']} ({e['size']} bytes)" for e in large[:10])
    more = f" and {len(large) - 10} more" if len(large) > 10 else ""
    warnings.warn(
        f"naga: {len(large)} untracked file(s) in {root} exceed the {limit}-byte snapshot "
        f"limit and are recorded by blake3 hash only: {shown}{more}. Track them with data=, "
        f"ignore them in .gitignore, or raise {LARGE_FILE_LIMIT_ENV}.",
        LargeFileWarning,
        stacklevel=3,
    )
