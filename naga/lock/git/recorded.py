"""The commits and snapshots a run.lock records: look them up, diff them, check them out.

Used by the ``naga`` subcommands (verify, diff, gc, rerun); recording the state is
:func:`naga.lock.git.repo_state`'s job. pygit2 answers questions about objects and refs
(fast, no subprocess); ``git worktree`` goes through the git CLI because it is the one tool
guaranteed to leave the repository's worktree bookkeeping exactly as git itself expects,
and it never touches the user's HEAD, index or branches when given ``--detach``.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

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


def tree_id(repo: pygit2.Repository, sha: str) -> str | None:
    """The tree id of commit ``sha`` (``None`` when the commit is not in ``repo``)."""
    commit = get_commit(repo, sha)
    return None if commit is None else str(commit.tree_id)


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


def git_cli(repo_root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the git CLI in ``repo_root``; raises RepoError with git's message on failure."""
    try:
        result = subprocess.run(
            ["git", "-C", str(repo_root), *args], capture_output=True, text=True, check=False
        )
    except FileNotFoundError as exc:
        raise RepoError("the git command is not installed; install git to use naga rerun") from exc
    if result.returncode != 0:
        message = " ".join(result.stderr.split()) or f"exit code {result.returncode}"
        raise RepoError(f"git {' '.join(args[:2])} in '{repo_root}' failed: {message}")
    return result


def add_worktree(repo_root: Path, target: Path, commit: str) -> None:
    """Check ``commit`` out, detached, into a new linked worktree at ``target``."""
    git_cli(repo_root, "worktree", "add", "--detach", "--quiet", str(target), commit)


def remove_worktree(repo_root: Path, target: Path) -> None:
    """Remove a linked worktree made by :func:`add_worktree` (and its bookkeeping)."""
    git_cli(repo_root, "worktree", "remove", "--force", str(target))
