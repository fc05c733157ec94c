"""Bring a recorded commit or snapshot into this clone from the remotes that may hold it.

:func:`fetch_missing` tries the remotes recorded in the run.lock, then the clone's own,
under the ref names ``naga push`` publishes (:mod:`naga.lock.git.publish`). Everything goes
through the git CLI without terminal prompts, so transport and credentials stay git's
business and a rerun never stops at a password question.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from naga.lock.git._snapshot import SNAPSHOT_REF_PREFIX
from naga.lock.git.recorded import get_commit, git_cli, git_message

if TYPE_CHECKING:
    import pygit2

#: Where a recorded commit that is on no branch of the remote is published by ``naga push``.
COMMIT_REF_PREFIX = "refs/naga/commits/"
#: A remote URL with a scheme (``https://``, ``ssh://``, ``file://``) or scp-style ``host:path``.
_URL_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://|^[^/]+:")


@dataclass(frozen=True)
class Need:
    """One commit a run.lock needs, and the ref that keeps it alive.

    Attributes:
        sha: The commit id (full hex).
        kind: ``snapshot`` (a dirty work tree) or ``commit`` (HEAD of a clean one).
        ref: The ref naming it: the snapshot ref recorded in the run.lock, or
            ``refs/naga/commits/<sha>`` for a commit.
        tree: The snapshot's tree id (``None`` for a commit).
    """

    sha: str
    kind: str
    ref: str
    tree: str | None = None

    @classmethod
    def snapshot(cls, sha: str, ref: str | None, tree: str | None) -> Need:
        name = ref or f"{SNAPSHOT_REF_PREFIX}{tree or sha}"
        return cls(sha=sha, kind="snapshot", ref=name, tree=tree)

    @classmethod
    def commit(cls, sha: str) -> Need:
        return cls(sha=sha, kind="commit", ref=f"{COMMIT_REF_PREFIX}{sha}")

    @property
    def alternate_ref(self) -> str | None:
        """Where ``naga push`` puts a snapshot whose ref name the remote holds for another."""
        if self.kind != "snapshot" or self.tree is None:
            return None
        return f"{SNAPSHOT_REF_PREFIX}{self.tree}-{self.sha}"

    @property
    def candidate_refs(self) -> list[str]:
        return [self.ref, *([self.alternate_ref] if self.alternate_ref else [])]

    def label(self) -> str:
        return f"{self.kind} {self.sha[:12]}"


@dataclass(frozen=True)
class Source:
    """A place to fetch from: a remote of this clone (by name) or a recorded URL."""

    target: str  # what git is given: a remote name or a URL
    shown: str  # how the user is told about it
    own: bool  # a remote of this clone (its credentials and prompts apply)


def sources(
    repo: pygit2.Repository, recorded: Mapping[str, str], recorded_root: str | None
) -> list[Source]:
    """Where to look, in order: the run's recorded remotes, then this clone's remotes.

    A recorded URL that is also one of this clone's remotes is used by the clone's remote
    name (its configured credentials then apply); relative local paths recorded on the
    other machine are taken relative to the repository they were recorded in.
    """
    from naga.lock.redact import strip_url_credentials

    own: dict[str, str] = {}
    for remote in repo.remotes:
        url = remote.url or remote.push_url
        if remote.name and url:
            own[strip_url_credentials(url)] = remote.name
    found: list[Source] = []
    seen: set[str] = set()
    for name, given in recorded.items():
        url = _absolute(str(given), recorded_root)
        name_here = own.get(url)
        if name_here is not None:
            candidate = Source(name_here, f"{name_here} ({url})", own=True)
        else:
            candidate = Source(url, f"{name} ({url}, recorded)", own=False)
        if candidate.target not in seen:
            seen.add(candidate.target)
            found.append(candidate)
    for url, name in own.items():
        if name not in seen:
            seen.add(name)
            found.append(Source(name, f"{name} ({url})", own=True))
    return found


def _absolute(url: str, root: str | None) -> str:
    if _URL_LIKE.match(url) or Path(url).is_absolute() or not root:
        return url
    return os.path.normpath(Path(root) / url)


def _env(source: Source) -> dict[str, str]:
    """Fetching on demand never waits for a prompt: git's own prompt is off everywhere.

    A command like ``naga verify`` must not stop at a password question; credential
    helpers and ssh agents still work, and when a remote cannot be asked, git's reason
    ends up in the one-line error. For a URL recorded on another machine (not a remote
    here), ssh (which asks on the terminal, not on stdin) also runs in batch mode with a
    short connect timeout, unless the user chose an ssh command of their own.
    """
    env = {"GIT_TERMINAL_PROMPT": "0"}
    if not source.own and not (os.environ.get("GIT_SSH_COMMAND") or os.environ.get("GIT_SSH")):
        env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes -o ConnectTimeout=10"
    return env


def ls_remote(root: Path, source: Source, refs: Iterable[str]) -> dict[str, str] | str:
    """The ``{ref: sha}`` that ``source`` holds among ``refs``, or git's complaint (one line)."""
    wanted = sorted(set(refs))
    result = git_cli(root, "ls-remote", source.target, *wanted, check=False, env=_env(source))
    if result.returncode != 0:
        return git_message(result)
    advertised = {}
    for line in result.stdout.splitlines():
        sha, _, name = line.partition("\t")
        if name in wanted:
            advertised[name] = sha
    return advertised


def fetch_missing(
    repo: pygit2.Repository, root: Path, needs: Iterable[Need], found_in: list[Source]
) -> tuple[list[tuple[Need, Source]], list[Need], list[str]]:
    """Fetch every need that is not in ``repo`` from the first source that has it.

    A need is fetched under the ref it is known by here (``Need.ref``), so the objects stay
    alive and ``naga verify`` finds the recorded snapshot ref. A commit that no source
    holds under a naga ref is asked for by its id (git serves commits reachable from the
    remote's refs, e.g. one on a branch).

    Returns:
        ``(fetched, still missing, what each source said when it could not be asked)``.
    """
    missing = [need for need in dict.fromkeys(needs) if get_commit(repo, need.sha) is None]
    fetched: list[tuple[Need, Source]] = []
    problems: list[str] = []
    for source in found_in:
        if not missing:
            break
        advertised = ls_remote(root, source, [r for n in missing for r in n.candidate_refs])
        if isinstance(advertised, str):
            problems.append(f"{source.shown}: {advertised}")
            continue
        by_ref = {}
        for need in missing:
            for ref in need.candidate_refs:
                if advertised.get(ref) == need.sha:
                    by_ref[need] = f"{ref}:{local_ref(repo, need)}"
                    break
        if by_ref:
            _fetch(root, source, list(by_ref.values()))
        for need in missing:
            if need not in by_ref:
                _fetch(root, source, [need.sha])  # reachable from a branch there, perhaps
        still = []
        for need in missing:
            if get_commit(repo, need.sha) is None:
                still.append(need)
            else:
                fetched.append((need, source))
        missing = still
    keep_alive(repo, [need for need, _ in fetched])
    return fetched, missing, problems


def _fetch(root: Path, source: Source, refspecs: list[str]) -> bool:
    result = git_cli(
        root,
        "fetch",
        "--quiet",
        "--no-tags",
        "--no-write-fetch-head",
        source.target,
        *refspecs,
        check=False,
        env=_env(source),
    )
    return result.returncode == 0


def local_ref(repo: pygit2.Repository, need: Need) -> str:
    """The ref that keeps ``need`` alive here: its own name unless another commit holds it.

    A snapshot ref of the same tree made here on another HEAD is never overwritten; the
    fetched one goes to ``<tree>-<commit>``, as :func:`naga.lock.git.repo_state` names it.
    """
    current = repo.references.get(need.ref)
    if current is None or str(current.target) == need.sha:
        return need.ref
    return need.alternate_ref or f"{COMMIT_REF_PREFIX}{need.sha}"


def keep_alive(repo: pygit2.Repository, needs: Iterable[Need]) -> list[str]:
    """Point a ref at each need's commit when none of its names does yet.

    Returns:
        The refs created.
    """
    made = []
    for need in needs:
        if get_commit(repo, need.sha) is None:
            continue
        name = local_ref(repo, need)
        if name in repo.references:
            continue
        repo.references.create(name, need.sha)
        made.append(name)
    return made
