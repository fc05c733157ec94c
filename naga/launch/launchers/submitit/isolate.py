"""Jobs import the code that was submitted, not the work tree as it is when they start.

A Slurm job may start an hour after submission, when the user has edited or switched
branches. naga writes the submitted commit (or dirty work tree's snapshot commit) once to
``<sweep>/.naga-sweep/code/<commit>/``; each job puts it where the repository was on
``sys.path`` before unpickling the user's function, keeping the user's working directory (and
so relative data paths). Not copied: large untracked files (data) and submodule contents.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec
    from types import ModuleType

    import pygit2

    from naga.lock.origin import Origin

__all__ = ["CODE_DIR", "Isolation", "prepare"]

#: Where the submitted trees go, below the sweep root.
CODE_DIR = Path(".naga-sweep") / "code"
_COMPLETE = ".naga-complete"


@dataclass(frozen=True)
class Isolation:
    """How a job finds the submitted code (pickled with every job)."""

    live_root: str  # the user's work tree (real path), whose modules must not be imported
    checkout: str  # the copy of the submitted tree, at ``commit``
    paths: tuple[str, ...]  # the launcher's sys.path entries in live_root, mapped to checkout
    commit: str
    #: Top-level modules an editable install maps into live_root through an import hook
    #: (setuptools' ``MAPPING`` finders), mapped into checkout.
    modules: tuple[tuple[str, str], ...] = ()

    def enter(self) -> None:
        """Import the user's code from :attr:`checkout` from now on (call in the job)."""
        import importlib

        rest = [entry for entry in sys.path if not _inside(entry, self.live_root)]
        sys.path[:] = [*self.paths, *rest]
        if self.modules:
            sys.meta_path.insert(0, _SubmittedModules(dict(self.modules)))
        importlib.invalidate_caches()


class _SubmittedModules:
    """Finds the editable-installed top-level modules in the submitted tree first."""

    def __init__(self, modules: dict[str, str]) -> None:
        self.modules = modules

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        from importlib.util import spec_from_file_location

        location = self.modules.get(name) if path is None else None
        if location is None:
            return None
        package = Path(location)
        if package.is_dir():
            return spec_from_file_location(
                name, package / "__init__.py", submodule_search_locations=[str(package)]
            )
        return spec_from_file_location(name, package)


def prepare(
    origin: Origin, sweep_root: Path
) -> tuple[Isolation, tuple[str, dict[str, object]]] | None:
    """Take the code state of the user's repository and write its tree below the sweep.

    Returns:
        The isolation for the jobs and the ``(key, repos entry)`` their run.locks record,
        or ``None`` when the script is in no git repository (nothing to isolate).

    Raises:
        RepoError: The repository's state cannot be read or its tree not written.
    """
    from naga.lock.git import repo_state
    from naga.lock.origin import repo_root_of

    script = origin.script
    root = repo_root_of(script) if script is not None else None
    if root is None:
        return None
    state = repo_state(root)
    snapshot = state.get("snapshot") or {}
    commit = snapshot.get("commit") or state.get("commit")
    if not commit:
        return None  # a repository without a commit: nothing to check out
    key = Path(os.path.relpath(root, Path.cwd())).as_posix()
    checkout = sweep_root / CODE_DIR / str(commit)
    _export(Path(state["root"]), str(commit), checkout)
    live = os.path.realpath(root)
    paths = tuple(
        dict.fromkeys(
            str(checkout / os.path.relpath(os.path.realpath(entry or Path.cwd()), live))
            for entry in sys.path
            if _inside(entry, live)
        )
    )
    isolation = Isolation(
        live_root=live,
        checkout=str(checkout),
        paths=paths,
        commit=str(commit),
        modules=_editable_modules(live, checkout),
    )
    return isolation, (key, {"path": key, **state})


def _editable_modules(live: str, checkout: Path) -> tuple[tuple[str, str], ...]:
    # setuptools' editable installs of some layouts add an import hook whose module holds
    # MAPPING = {top-level name: source path}; those imports never go through sys.path.
    found: dict[str, str] = {}
    for finder in sys.meta_path:
        module = sys.modules.get(getattr(finder, "__module__", "") or "")
        mapping = getattr(module, "MAPPING", None)
        if not isinstance(mapping, dict):
            continue
        for name, source in mapping.items():
            if isinstance(name, str) and isinstance(source, str) and _inside(source, live):
                relative = os.path.relpath(os.path.realpath(source), live)
                found.setdefault(name, str(checkout / relative))
    return tuple(sorted(found.items()))


def _inside(entry: str, root: str) -> bool:
    real = os.path.realpath(entry or Path.cwd())
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def _export(repo_root: Path, commit: str, target: Path) -> None:
    """Write the tree of ``commit`` to ``target`` (once: a finished copy is reused)."""
    if (target / _COMPLETE).exists():
        return
    import pygit2

    from naga.errors import RepoError

    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        repo = pygit2.Repository(str(repo_root))
        tree = repo[commit].peel(pygit2.Tree)
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        # A results directory inside the work tree must not make the copy part of it.
        (tmp / ".gitignore").write_text("*\n", encoding="utf-8")
        _write_tree(repo, tree, tmp)
        (tmp / _COMPLETE).write_text(commit + "\n", encoding="utf-8")
        try:
            tmp.rename(target)
        except OSError:
            if not (target / _COMPLETE).exists():  # not another sweep's finished copy
                raise
    except (OSError, pygit2.GitError, KeyError, ValueError) as exc:
        raise RepoError(
            f"could not write the submitted code ({commit[:12]} of {repo_root}) to {target}: "
            f"{exc}; check that the sweep directory is writable, or pass --no-isolate"
        ) from exc
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)


def _write_tree(repo: pygit2.Repository, tree: pygit2.Tree, directory: Path) -> None:
    import pygit2

    for entry in tree:
        path = directory / str(entry.name)
        if entry.filemode == pygit2.GIT_FILEMODE_TREE:
            path.mkdir()
            _write_tree(repo, cast("pygit2.Tree", repo[entry.id]), path)
        elif entry.filemode == pygit2.GIT_FILEMODE_LINK:
            path.symlink_to(os.fsdecode(cast("pygit2.Blob", repo[entry.id]).data))
        elif entry.filemode == pygit2.GIT_FILEMODE_COMMIT:
            path.mkdir()  # a submodule: its files are not in this repository
        else:
            path.write_bytes(cast("pygit2.Blob", repo[entry.id]).data)
            if entry.filemode == pygit2.GIT_FILEMODE_BLOB_EXECUTABLE:
                path.chmod(0o755)
