"""Publish the commits and snapshots that run.locks need to a git remote (``naga push``).

A :class:`Plan` lists, for one repository and one remote, the refs the remote lacks (one
``ls-remote``); one ``git push`` sends them, so pushing the same runs again sends nothing.
Credentials, hooks and transports stay git's business.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from naga.errors import RepoError
from naga.lock.git.recorded import get_commit, git_cli, git_message
from naga.lock.git.remotes import Need

if TYPE_CHECKING:
    import pygit2


@dataclass
class Plan:
    """What one ``git push`` must send so that a remote holds every need.

    Attributes:
        remote: The remote's name in this clone.
        url: Its URL (credentials removed), for messages.
        send: ``(need, ref name on the remote)`` pairs the remote lacks.
        present: Needs the remote already holds (by ref or on one of its branches).
        absent: Needs that are not in this repository either (nothing to push them from).
    """

    remote: str
    url: str
    send: list[tuple[Need, str]] = field(default_factory=list)
    present: list[Need] = field(default_factory=list)
    absent: list[Need] = field(default_factory=list)


def default_remote(repo: pygit2.Repository) -> str | None:
    """The remote ``naga push`` uses without ``--remote``: the branch's upstream, else origin."""
    names = [remote.name for remote in repo.remotes if remote.name]
    if not repo.head_is_detached and not repo.head_is_unborn:
        branch = repo.head.shorthand
        configured = repo.config.get_multivar(f"branch.{branch}.remote")
        upstream = next(iter(configured), None)
        if upstream in names:
            return upstream
    if "origin" in names:
        return "origin"
    return names[0] if len(names) == 1 else None


def remote_url(repo: pygit2.Repository, name: str) -> str:
    """The URL of remote ``name`` without credentials."""
    from naga.lock.redact import strip_url_credentials

    remote = repo.remotes[name]
    return strip_url_credentials(remote.push_url or remote.url or "")


def plan(repo: pygit2.Repository, root: Path, remote: str, needs: Iterable[Need]) -> Plan:
    """Find which needs ``remote`` lacks (one ``git ls-remote``).

    A snapshot is present when the remote holds its ref (or the ``<tree>-<commit>`` name
    used when another snapshot holds the plain name). A commit is present when a ref of
    the remote points to it, when a remote branch known here contains it, or when a
    snapshot being pushed has it as its parent.

    Raises:
        RepoError: The remote cannot be reached (git's reason, one line).
    """
    from naga.lock.git.remotes import COMMIT_REF_PREFIX

    result = Plan(remote=remote, url=remote_url(repo, remote))
    wanted = list(dict.fromkeys(needs))
    listing = git_cli(root, "ls-remote", remote, check=False)
    if listing.returncode != 0:
        raise RepoError(
            f"remote '{remote}' ({result.url}) of {root} cannot be read: "
            f"{git_message(listing)}; check the URL (`git remote -v`) and your access to it"
        )
    tips: dict[str, str] = {}
    for line in listing.stdout.splitlines():
        sha, _, name = line.partition("\t")
        tips[name] = sha
    tip_shas = set(tips.values())
    parents: set[str] = set()
    for need in wanted:
        commit = get_commit(repo, need.sha)
        if commit is None:
            result.absent.append(need)
            continue
        if need.kind == "commit":
            continue
        if tips.get(need.ref) == need.sha or (
            need.alternate_ref and tips.get(need.alternate_ref) == need.sha
        ):
            result.present.append(need)
        else:
            # The plain name holds another snapshot of this tree there: use the long name.
            taken = need.ref in tips and need.alternate_ref is not None
            result.send.append((need, str(need.alternate_ref) if taken else need.ref))
        parents.update(str(parent) for parent in commit.parent_ids)
    for need in wanted:
        if need.kind != "commit" or need in result.absent:
            continue
        if need.sha in tip_shas or need.sha in parents or _on_remote_branch(repo, remote, need.sha):
            result.present.append(need)
        else:
            result.send.append((need, f"{COMMIT_REF_PREFIX}{need.sha}"))
    return result


def _on_remote_branch(repo: pygit2.Repository, remote: str, sha: str) -> bool:
    """Whether a remote-tracking branch of ``remote`` (as last fetched) contains ``sha``."""
    import pygit2

    prefix = f"refs/remotes/{remote}/"
    for name in repo.references:
        if not name.startswith(prefix):
            continue
        try:
            tip = repo.references[name].peel(pygit2.Commit).id
            if str(tip) == sha or repo.descendant_of(tip, sha):
                return True
        except (pygit2.GitError, KeyError, ValueError):
            continue
    return False


def push(root: Path, planned: Plan) -> None:
    """Send the planned refs in one ``git push``; the remote's hooks and rules apply.

    Raises:
        RepoError: The remote refused a ref, or the push failed (git's reason, one line).
    """
    if not planned.send:
        return
    refspecs = [f"{need.sha}:{ref}" for need, ref in planned.send]
    result = git_cli(root, "push", "--porcelain", planned.remote, *refspecs, check=False)
    refused = [
        line.split("\t")
        for line in result.stdout.splitlines()
        if line.startswith("!") and "\t" in line
    ]
    if refused:
        fields = refused[0]
        ref = fields[1].split(":", 1)[-1]
        reason = fields[2] if len(fields) > 2 else "rejected"
        more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
        raise RepoError(
            f"remote '{planned.remote}' ({planned.url}) refused {ref}{more}: {reason}; "
            "ask its owner to accept refs/naga/* or push to another remote with --remote NAME"
        )
    if result.returncode != 0:
        raise RepoError(
            f"git push to '{planned.remote}' ({planned.url}) from {root} failed: "
            f"{git_message(result)}; check the remote (`git remote -v`) and your access to it"
        )
