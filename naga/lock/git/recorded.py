"""The commits and snapshots a run.lock records: look them up, diff them, check them out.

Code identity is a git *tree*: two runs ran the same code exactly when their trees are
equal, whichever commits held them. :func:`resolve_tree` is the one place that looks a
commit's tree up in git. ``git worktree`` goes through the git CLI: it is the one tool
guaranteed to leave git's worktree bookkeeping as git expects, and with ``--detach`` it
never touches the user's HEAD, index or branches.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from naga.errors import RepoError
from naga.lock.git._snapshot import SNAPSHOT_REF_PREFIX

if TYPE_CHECKING:
    import pygit2


def open_repo(root: str | Path) -> pygit2.Repository:
    """Open the repository whose work tree (or git dir) is ``root``.

    Raises:
        RepoError: ``root`` is not (or no longer) a git repository.
    """
    import pygit2

    try:
        return pygit2.Repository(str(root))
    except (pygit2.GitError, KeyError, OSError) as exc:
        raise RepoError(
            f"recorded repository '{root}' is not a git repository any more; "
            "restore or clone it at that path"
        ) from exc


def try_open_repo(root: str | Path | None) -> pygit2.Repository | None:
    """Like :func:`open_repo`, but ``None`` when the repository is gone."""
    if not root:
        return None
    try:
        return open_repo(root)
    except RepoError:
        return None


def get_commit(repo: pygit2.Repository, sha: str | None) -> pygit2.Commit | None:
    """The commit ``sha`` from ``repo``'s object database, or ``None`` when absent."""
    import pygit2

    if not sha:
        return None
    try:
        obj = repo.get(sha)
    except (ValueError, pygit2.GitError):
        return None
    return obj if isinstance(obj, pygit2.Commit) else None


def has_commit(repo: pygit2.Repository, sha: str | None) -> bool:
    """Whether ``sha`` names a commit present in ``repo``'s object database."""
    return get_commit(repo, sha) is not None


def kept_by_a_ref(repo: pygit2.Repository, sha: str) -> bool:
    """Whether a ref (a branch, tag, remote-tracking branch, snapshot ref, or HEAD) reaches
    commit ``sha``: what ``git gc`` keeps for good.

    A commit no ref reaches (the old one after ``git commit --amend`` or a rebase) stays
    only while a reflog entry holds it (30 days by default), then ``git gc`` prunes it.
    """
    import pygit2

    target = get_commit(repo, sha)
    if target is None:
        return False
    tips: set[pygit2.Oid] = set()
    for name in [*repo.references, "HEAD"]:
        try:
            tip = repo.revparse_single(name).peel(pygit2.Commit)
        except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError):
            continue  # an unborn HEAD, a ref to a tree or blob: reaches no commit
        tips.add(tip.id)
    if target.id in tips:
        return True
    walker = repo.walk(None)
    for oid in tips:
        walker.push(oid)
    return any(commit.id == target.id for commit in walker)


def tree_id(repo: pygit2.Repository, sha: str) -> str | None:
    """The tree id of commit ``sha`` (``None`` when the commit is not in ``repo``)."""
    commit = get_commit(repo, sha)
    return None if commit is None else str(commit.tree_id)


def recorded_tree(entry: Mapping[str, Any]) -> str | None:
    """The tree of the code a ``repos`` entry ran, as the receipt records it.

    Receipts record it as ``tree`` (HEAD's tree when clean, the snapshot's
    when dirty, null when not captured); earlier ones only for a dirty run, as the snapshot's
    ``tree``. ``None`` when the receipt does not say (look the commit up with
    :func:`resolve_tree`, or the code was not captured).
    """
    tree = entry.get("tree")
    if tree:
        return str(tree)
    snapshot = entry.get("snapshot")
    if entry.get("dirty") and isinstance(snapshot, Mapping) and snapshot.get("tree"):
        return str(snapshot["tree"])
    return None


def code_identity(entry: Mapping[str, Any]) -> str | None:
    """What one ``repos`` entry ran, for a results table: ``tree:<id>``, or ``None``.

    A receipt from before trees were recorded, of a clean work tree, gives
    ``commit:<id>`` (the same commit is the same code; naga reads no git to say more).
    ``None`` when the code that ran is unknown: a dirty tree without a snapshot.
    """
    tree = recorded_tree(entry)
    if tree:
        return f"tree:{tree}"
    if "tree" not in entry and not entry.get("dirty") and entry.get("commit"):
        return f"commit:{entry['commit']}"
    return None


def run_code(repos: Mapping[str, Any]) -> str | None:
    """The ``code`` column of a run: the identity of every repository it recorded.

    One repository: its :func:`code_identity`. Several: ``key=identity`` for each, sorted
    by key, joined by ``", "``. ``None`` when no repository was recorded or one of them ran
    unknown code (a table must not group unknown code with known code).
    """
    found = {str(key): code_identity(e) for key, e in repos.items() if isinstance(e, Mapping)}
    if not found or any(value is None for value in found.values()):
        return None
    if len(found) == 1:
        return next(iter(found.values()))
    return ", ".join(f"{key}={found[key]}" for key in sorted(found))


@dataclass(frozen=True)
class ResolvedTree:
    """The tree of the code a ``repos`` entry ran, or why it cannot be known here.

    Attributes:
        tree: The tree id, or ``None``.
        problem: When ``tree`` is ``None``: why, as a phrase (``commit 1a2b3c4d is not
            in /home/me/project``).
        missing: The commit that was looked up and not found (fetching it would help).
    """

    tree: str | None
    problem: str | None = None
    missing: str | None = None


def resolve_tree(entry: Mapping[str, Any], *, roots: Iterable[object] = ()) -> ResolvedTree:
    """The tree of the code ``entry`` ran: recorded, else looked up from its commit.

    The one step that turns a recorded code state into a tree with git's help (a hook
    for fetching a missing commit belongs here). A commit id names the same content in
    every clone, so the commit is looked up in the entry's own repository, then in
    ``roots`` (e.g. the other run's repository, when this one was a removed worktree).

    Args:
        entry: A ``repos`` entry of a run.lock.
        roots: More repositories (work trees) to look the commit up in.
    """
    tree = recorded_tree(entry)
    if tree:
        return ResolvedTree(tree)
    commit = entry.get("commit")
    if entry.get("dirty"):
        return ResolvedTree(None, "its work tree was dirty and no snapshot was recorded")
    if not commit:
        return ResolvedTree(None, "no commit was recorded (an unborn branch)")
    where = [str(root) for root in dict.fromkeys((entry.get("root"), *roots)) if root]
    for root in where:
        repo = try_open_repo(root)
        found = None if repo is None else tree_id(repo, str(commit))
        if found is not None:
            return ResolvedTree(found)
    clones = " or ".join(where) or "any recorded repository"
    return ResolvedTree(None, f"commit {str(commit)[:8]} is not in {clones}", str(commit))


@dataclass(frozen=True)
class FileChange:
    """One file that differs between two code states."""

    status: str  # A, D, M, R (renamed), T (type change)
    path: str
    old_path: str | None = None

    def __str__(self) -> str:
        if self.old_path and self.old_path != self.path:
            return f"{self.status} {self.old_path} → {self.path}"
        return f"{self.status} {self.path}"


def changed_files(repo: pygit2.Repository, old: str, new: str) -> list[FileChange]:
    """The files that differ between the trees of commits ``old`` and ``new``.

    Raises:
        RepoError: One of the commits is not in ``repo``.
    """
    commits = []
    for sha in (old, new):
        commit = get_commit(repo, sha)
        if commit is None:
            raise RepoError(
                f"commit {sha[:12]} is not in repository '{repo.workdir or repo.path}'; "
                "fetch it or restore the snapshot ref (see `naga verify`)"
            )
        commits.append(commit)
    return _tree_changes(commits[0].tree, commits[1].tree)


def changed_paths(repo: pygit2.Repository, old_tree: str, new_tree: str) -> list[FileChange]:
    """The files that differ between two trees of ``repo`` (a snapshot's, a commit's).

    Raises:
        RepoError: One of the trees is not in ``repo`` (a snapshot whose ref was deleted
            and whose objects git has pruned).
    """
    import pygit2

    trees = []
    for sha in (old_tree, new_tree):
        try:
            trees.append(repo[sha].peel(pygit2.Tree))
        except (KeyError, ValueError, pygit2.GitError) as exc:
            raise RepoError(
                f"tree {sha[:12]} is not in repository '{repo.workdir or repo.path}'"
            ) from exc
    return _tree_changes(trees[0], trees[1])


def _tree_changes(old: pygit2.Tree, new: pygit2.Tree) -> list[FileChange]:
    import pygit2

    diff = old.diff_to_tree(new)
    diff.find_similar()
    letters = {
        pygit2.enums.DeltaStatus.ADDED: "A",
        pygit2.enums.DeltaStatus.DELETED: "D",
        pygit2.enums.DeltaStatus.MODIFIED: "M",
        pygit2.enums.DeltaStatus.RENAMED: "R",
        pygit2.enums.DeltaStatus.TYPECHANGE: "T",
        pygit2.enums.DeltaStatus.COPIED: "C",
    }
    changes = []
    for delta in diff.deltas:
        status = letters.get(delta.status, "M")
        old_path = delta.old_file.path if status in {"R", "C"} else None
        changes.append(FileChange(status, delta.new_file.path, old_path))
    return sorted(changes, key=lambda change: change.path)


def snapshot_refs(repo: pygit2.Repository) -> dict[str, str]:
    """Every ``refs/naga/snapshots/*`` ref of ``repo`` and the commit it points to."""
    refs = {}
    for name in repo.references:
        if name.startswith(SNAPSHOT_REF_PREFIX):
            target = repo.references[name].target
            refs[name] = str(target)
    return refs


def delete_ref(repo: pygit2.Repository, name: str) -> None:
    """Delete one ref (the commit it pointed to stays until git's own gc prunes it)."""
    repo.references.delete(name)


def git_cli(
    repo_root: Path,
    *args: str,
    check: bool = True,
    env: dict[str, str] | None = None,
    what: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the git CLI in ``repo_root``.

    Args:
        repo_root: The repository (work tree or git dir) to run in.
        *args: git's arguments.
        check: Raise RepoError (git's message on one line, URL credentials removed) when
            git fails; False returns the failed result for the caller to judge.
        env: Variables added to this process's environment.
        what: How to name the failed step in the error (default: ``git <first args>``).

    Raises:
        RepoError: git is not installed, or (with ``check``) it failed.
    """
    import os

    try:
        result = subprocess.run(
            ["git", "-C", str(repo_root), *args],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, **env} if env else None,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError as exc:
        raise RepoError(
            "the git command is not installed; install git (naga rerun, push, export and "
            "import run it)"
        ) from exc
    if check and result.returncode != 0:
        step = what or f"git {' '.join(args[:2])}"
        raise RepoError(f"{step} in '{repo_root}' failed: {git_message(result)}")
    return result


def git_message(result: subprocess.CompletedProcess[str]) -> str:
    """git's complaint on one line, without credentials in URLs (``fatal:`` kept)."""
    from naga.lock.redact import strip_url_credentials

    text = " ".join((result.stderr or "").split()) or f"exit code {result.returncode}"
    return strip_url_credentials(text)


def add_worktree(repo_root: Path, target: Path, commit: str) -> None:
    """Check ``commit`` out, detached, into a new linked worktree at ``target``."""
    git_cli(repo_root, "worktree", "add", "--detach", "--quiet", str(target), commit)


def remove_worktree(repo_root: Path, target: Path) -> None:
    """Remove a linked worktree made by :func:`add_worktree` (and its bookkeeping)."""
    git_cli(repo_root, "worktree", "remove", "--force", str(target))
