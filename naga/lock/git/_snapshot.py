"""Build the snapshot commit of a dirty work tree without touching anything of the user's.

The tree is built in an in-memory index seeded from HEAD's tree, re-reading only the paths
``git status`` reports: unchanged files are never hashed, which is what makes this faster
than ``git add -A`` into a temporary index. The only writes are new objects and one ref
under ``refs/naga/snapshots/``.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from naga.errors import RepoError

if TYPE_CHECKING:
    import pygit2

SNAPSHOT_REF_PREFIX = "refs/naga/snapshots/"
SNAPSHOT_MESSAGE = "naga snapshot of the working tree\n"
# A fixed identity so snapshots work without user.name/user.email and never depend on who ran.
SNAPSHOT_NAME = "naga"
SNAPSHOT_EMAIL = "naga@localhost"
_REF_LOCK_TIMEOUT_S = 10.0


@dataclass
class TreeResult:
    """What ``build_worktree_tree`` produced."""

    tree: Any  # pygit2.Oid of the work tree's tree
    untracked_large: list[dict[str, Any]] = field(default_factory=list)
    not_captured: list[str] = field(default_factory=list)


def open_nested_repo(path: Path) -> pygit2.Repository | None:
    """Open the repository checked out at exactly ``path`` (a submodule), or None."""
    import pygit2

    if not (path / ".git").exists():
        return None  # not checked out; a searching open would find the superproject
    try:
        return pygit2.Repository(str(path), pygit2.enums.RepositoryOpenFlag.NO_SEARCH)
    except pygit2.GitError:
        return None


def checked_out_commit(path: Path) -> str | None:
    """Return the HEAD commit checked out in the repository at ``path`` (a submodule), or None."""
    sub = open_nested_repo(path)
    if sub is None or sub.head_is_unborn:
        return None
    return str(sub.head.peel().id)


def build_worktree_tree(
    repo: pygit2.Repository,
    head_tree: pygit2.Tree | None,
    status: dict[str, int],
    *,
    large_file_limit: int,
    gitlinks: set[str],
) -> TreeResult:
    """Write the tree of the work tree (HEAD's tree plus every change ``status`` reports).

    Args:
        repo: The repository (non-bare).
        head_tree: HEAD's tree, or None on an unborn branch.
        status: ``repo.status(untracked_files="all")`` without ignored files.
        large_file_limit: Untracked regular files bigger than this many bytes are not stored.
        gitlinks: Paths of submodules (gitlinks in HEAD or .gitmodules).

    Returns:
        The tree id, the large untracked files left out (with blake3 hashes) and notes on
        anything else that could not be stored.
    """
    import pygit2

    index = pygit2.Index()
    if head_tree is not None:
        index.read_tree(head_tree)
    result = TreeResult(tree=None)
    plan = _Plan()
    root = Path(repo.workdir)
    for raw_path, flags in status.items():
        path = raw_path.rstrip("/")
        _plan_path(root, path, flags, plan, result, limit=large_file_limit, gitlinks=gitlinks)
    _apply_plan(repo, index, plan)
    result.tree = index.write_tree(repo)
    return result


@dataclass
class _Plan:
    """What to change in HEAD's tree to get the work tree's."""

    remove: list[str] = field(default_factory=list)
    add: list[tuple[str, os.stat_result]] = field(default_factory=list)
    #: path -> checked-out commit of a nested repository.
    gitlinks: dict[str, str] = field(default_factory=dict)


def _plan_path(
    root: Path,
    path: str,
    flags: int,
    plan: _Plan,
    result: TreeResult,
    *,
    limit: int,
    gitlinks: set[str],
) -> None:
    """Decide what one path ``git status`` reports becomes in the snapshot."""
    from pygit2.enums import FileStatus

    from naga.lock.hashing import hash_file  # through the hash cache: a 5 GB checkpoint once

    try:
        info = (root / path).lstat()
    except (FileNotFoundError, NotADirectoryError):
        # NotADirectory: a parent directory was replaced by a file.
        plan.remove.append(path)
        return
    if stat.S_ISDIR(info.st_mode):
        _plan_directory(root, path, plan, result, gitlinks=gitlinks)
        return
    new_untracked = bool(flags & FileStatus.WT_NEW) and not flags & FileStatus.INDEX_NEW
    if stat.S_ISREG(info.st_mode) and new_untracked and info.st_size > limit:
        plan.remove.append(path)
        result.untracked_large.append(
            {"path": path, "size": info.st_size, "hash": hash_file(root / path)}
        )
    elif not (stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode)):
        plan.remove.append(path)
        result.not_captured.append(f"special file '{path}' (not a regular file or symlink)")
    else:
        plan.add.append((path, info))


def _plan_directory(
    root: Path, path: str, plan: _Plan, result: TreeResult, *, gitlinks: set[str]
) -> None:
    """A directory in ``git status``: a submodule, an embedded repository, or a former file."""
    commit = checked_out_commit(root / path)
    embedded = path not in gitlinks and (root / path / ".git").exists()
    if embedded:
        # Like `git add -A`: an embedded repository is stored as a gitlink to its
        # checked-out commit; its own files and changes are not.
        result.not_captured.append(
            f"embedded repository '{path}' is stored as a gitlink to its checked-out "
            f"commit {commit} only, not its files (make it a submodule with "
            "`git submodule add` or commit it)"
        )
    if commit is not None and (embedded or path in gitlinks):
        plan.gitlinks[path] = commit
    elif path not in gitlinks:
        # A tracked file became a directory: its files are listed on their own.
        plan.remove.append(path)
    # (A submodule that is not checked out keeps the gitlink HEAD records.)


def _apply_plan(repo: pygit2.Repository, index: pygit2.Index, plan: _Plan) -> None:
    import pygit2
    from pygit2.enums import FileMode

    root = Path(repo.workdir)
    # core.fileMode=false means the file system's x bit is meaningless: keep HEAD's modes.
    trust_mode = _config_bool(repo, "core.filemode", default=True)
    # Removals first: a file replaced by a directory (or the reverse) must leave its old
    # entry before the new entries can be added without a file/directory conflict.
    for path in plan.remove:
        if path in index:
            index.remove(path)
        else:
            # A path that was a tree in HEAD (or never stored): drop whatever is under it.
            with contextlib.suppress(OSError):
                index.remove_directory(path)
    writer = _BlobWriter(repo, index)
    for path, commit in plan.gitlinks.items():
        index.add(pygit2.IndexEntry(path, pygit2.Oid(hex=commit), FileMode.COMMIT))
    for path, info in plan.add:
        if stat.S_ISLNK(info.st_mode):
            # bytes in, bytes out: a link target need not be valid UTF-8.
            target = os.readlink(os.fsencode(root / path))  # noqa: PTH115
            index.add(pygit2.IndexEntry(path, repo.create_blob(target), FileMode.LINK))
        else:
            blob = writer.write(path)
            index.add(pygit2.IndexEntry(path, blob, _file_mode(index, path, info, trust_mode)))


class _BlobWriter:
    """Store work-tree files as blobs, skipping the filter machinery when nothing can apply.

    ``create_blob_fromworkdir`` applies `git add`'s filters (autocrlf, ident, filter
    drivers) but pays ~10 attribute-file lookups per file and recompresses blobs that
    already exist. Filters come only from attributes or ``core.autocrlf``; when neither can
    apply to a path, the raw content's hash is its blob id, so an existing blob costs one
    read and one lookup (the common case: the same dirty state recorded run after run).
    """

    def __init__(self, repo: pygit2.Repository, head_index: pygit2.Index) -> None:
        self.repo = repo
        self.root = Path(repo.workdir)
        self.head_index = head_index
        self.odb = repo.odb
        self._dir_has_attributes: dict[str, bool] = {}
        self.global_filters = self._global_filters()

    def _global_filters(self) -> bool:
        config = self.repo.config
        if "core.autocrlf" in config and str(config["core.autocrlf"]).lower() in (
            "true",
            "input",
            "1",
            "yes",
            "on",
        ):
            return True
        candidates = [Path(self.repo.path) / "info" / "attributes"]
        if "core.attributesFile" in config:
            candidates.append(Path(str(config["core.attributesFile"])).expanduser())
        xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path("~/.config").expanduser())
        candidates.append(Path(xdg) / "git" / "attributes")
        return any(candidate.is_file() for candidate in candidates)

    def _may_filter(self, path: str) -> bool:
        if self.global_filters:
            return True
        parent = path
        while parent:
            parent = parent.rpartition("/")[0]
            if self._has_attributes(parent):
                return True
        return False

    def _has_attributes(self, directory: str) -> bool:
        known = self._dir_has_attributes.get(directory)
        if known is None:
            rel = f"{directory}/.gitattributes" if directory else ".gitattributes"
            known = rel in self.head_index or (self.root / rel).exists()
            self._dir_has_attributes[directory] = known
        return known

    def write(self, path: str) -> pygit2.Oid:
        import pygit2

        if self._may_filter(path):
            return self.repo.create_blob_fromworkdir(path)
        full = str(self.root / path)
        oid = pygit2.hashfile(full)
        if oid in self.odb:
            return oid
        return self.repo.create_blob_fromdisk(full)


def _file_mode(
    index: pygit2.Index, path: str, info: os.stat_result, trust_mode: bool
) -> pygit2.enums.FileMode:
    from pygit2.enums import FileMode

    if not trust_mode and path in index:
        old = index[path].mode
        if old in (FileMode.BLOB, FileMode.BLOB_EXECUTABLE):
            return FileMode(old)
    if trust_mode and info.st_mode & stat.S_IXUSR:
        return FileMode.BLOB_EXECUTABLE
    return FileMode.BLOB


def _config_bool(repo: pygit2.Repository, key: str, *, default: bool) -> bool:
    try:
        return bool(repo.config.get_bool(key))
    except (KeyError, ValueError):
        return default


def store_snapshot(
    repo: pygit2.Repository, tree: Any, head: pygit2.Commit | None
) -> dict[str, str]:
    """Commit ``tree`` on top of ``head`` and keep it alive under ``refs/naga/snapshots/``.

    The commit is deterministic for a given (tree, parent): fixed naga identity, the
    parent's commit time, a constant message. So the same dirty state always yields the
    same commit id, and concurrent runs (a Slurm array starting at once) converge on one
    object and one ref instead of racing to overwrite each other's ref.

    The ref is ``refs/naga/snapshots/<tree>``. When that ref already holds a snapshot of the
    same tree on a *different* parent (the code was committed, then the same edits redone),
    the older snapshot must stay reachable, so the new one goes to
    ``refs/naga/snapshots/<tree>-<commit>`` instead.

    Returns:
        ``{"commit", "tree", "ref"}`` as hex strings and the full ref name.
    """
    import pygit2

    if head is not None:
        when, offset = head.commit_time, head.commit_time_offset
        parents = [head.id]
    else:
        when, offset, parents = 0, 0, []
    signature = pygit2.Signature(SNAPSHOT_NAME, SNAPSHOT_EMAIL, when, offset)
    commit = repo.create_commit(None, signature, signature, SNAPSHOT_MESSAGE, tree, parents)
    tree_hex, commit_hex = str(tree), str(commit)
    for ref in (SNAPSHOT_REF_PREFIX + tree_hex, f"{SNAPSHOT_REF_PREFIX}{tree_hex}-{commit_hex}"):
        if _ensure_ref(repo, ref, commit):
            return {"commit": commit_hex, "tree": tree_hex, "ref": ref}
    # Unreachable: the second name embeds the commit id, so it can only hold this commit.
    raise AssertionError(f"snapshot ref for {commit_hex} is taken by another commit")


def _ensure_ref(repo: pygit2.Repository, name: str, commit: Any) -> bool:
    """Create ``name`` -> ``commit`` unless it exists; True when it points at ``commit``.

    Concurrent runs on one checkout (array jobs) race for the same ref: the loser either
    finds the ref already created (``AlreadyExistsError``) or finds git's ``<ref>.lock``
    held for a moment (``OSError``); both are retried briefly, then the ref is re-read.
    """
    import pygit2

    delay = 0.005
    deadline = time.monotonic() + _REF_LOCK_TIMEOUT_S
    while True:
        existing = repo.references.get(name)
        if existing is not None:
            return bool(existing.target == commit)
        try:
            # force=False: a concurrent process that won the race must not be overwritten.
            repo.references.create(name, commit, force=False)
            return True
        except pygit2.AlreadyExistsError:
            continue
        except OSError as exc:
            if time.monotonic() > deadline:
                raise RepoError(
                    f"repos: could not create ref {name} in {repo.path}: {exc}; if no other "
                    f"git process is running there, delete {repo.path}{name}.lock"
                ) from exc
            time.sleep(delay)
            delay = min(delay * 2, 0.2)
