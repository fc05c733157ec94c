"""Carry commits and snapshots offline in a git bundle (``naga export`` / ``naga import``).

The bundle holds exactly the refs the exported runs need (snapshot refs, and
``refs/naga/commits/<sha>`` for clean runs' commits) with their whole history, and ``git
bundle verify`` checks it before anything is written. The refs are set up in a throw-away
bare repository borrowing the user's objects (``objects/info/alternates``), so the user's
repository never gets a new ref, not even for a moment.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from naga.errors import RepoError
from naga.lock.git.recorded import get_commit, git_cli, git_message
from naga.lock.git.remotes import Need, keep_alive

if TYPE_CHECKING:
    import pygit2


def create(repo: pygit2.Repository, needs: Iterable[Need], target: Path) -> list[str]:
    """Write a bundle of ``needs`` (and their history) to ``target``.

    Returns:
        The root commits of the bundled history: an importing clone must hold one of them
        (it is then a clone of the same repository).

    Raises:
        RepoError: A need is not in ``repo``, or git failed.
    """
    wanted = list(dict.fromkeys(needs))
    for need in wanted:
        if get_commit(repo, need.sha) is None:
            raise RepoError(
                f"{need.label()} is not in {repo.workdir or repo.path}, so it cannot be "
                "exported; fetch it (`naga verify` on the run tries) or leave that run out"
            )
    scratch = Path(tempfile.mkdtemp(prefix="naga-bundle-"))
    try:
        git_cli(scratch, "init", "--quiet", "--bare", str(scratch))
        objects = Path(repo.path) / "objects"
        (scratch / "objects" / "info" / "alternates").write_text(_quoted(objects.resolve()) + "\n")
        lines = "".join(f"create {need.ref} {need.sha}\n" for need in wanted)
        _stdin_git(scratch, ["update-ref", "--stdin"], lines)
        git_cli(scratch, "bundle", "create", "--quiet", str(target), "--all")
        roots = git_cli(scratch, "rev-list", "--max-parents=0", "--all").stdout.split()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return sorted(roots)


def _quoted(path: Path) -> str:
    """A path as one line of ``objects/info/alternates``: C-quoted (git >= 2.11)."""
    text = str(path).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text.replace("\n", "\\n").replace("\t", "\\t") + '"'


def _stdin_git(root: Path, args: list[str], text: str) -> None:
    import subprocess

    result = subprocess.run(
        ["git", "-C", str(root), *args],
        input=text,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RepoError(f"git {args[0]} in '{root}' failed: {git_message(result)}")


def heads(root: Path, bundle: Path) -> dict[str, str] | str:
    """The ``{ref: sha}`` a bundle carries once git has verified it, or why it is refused.

    ``git bundle verify`` checks the file and that this repository has the commits it
    assumes (none, for naga's bundles).
    """
    checked = git_cli(root, "bundle", "verify", "--quiet", str(bundle), check=False)
    if checked.returncode != 0:
        return git_message(checked)
    listed = git_cli(root, "bundle", "list-heads", str(bundle), check=False)
    if listed.returncode != 0:
        return git_message(listed)
    found = {}
    for line in listed.stdout.splitlines():
        sha, _, ref = line.partition(" ")
        found[ref] = sha
    return found


def shares_history(repo: pygit2.Repository, roots: Iterable[str]) -> bool:
    """Whether ``repo`` holds one of ``roots``: it is a clone of the same repository."""
    return any(get_commit(repo, sha) is not None for sha in roots)


def unbundle(repo: pygit2.Repository, root: Path, bundle: Path, needs: Iterable[Need]) -> list[str]:
    """Add a verified bundle's objects to ``repo`` and a ref for each need.

    Returns:
        The refs created: every snapshot's (unless it is there already), and one for each
        commit this clone did not have (a commit already here is kept alive by its branch).
    """
    wanted = list(needs)
    new = {need for need in wanted if get_commit(repo, need.sha) is None}
    result = git_cli(root, "bundle", "unbundle", str(bundle), check=False)
    if result.returncode != 0:
        raise RepoError(
            f"git bundle unbundle into {root} failed: {git_message(result)}; "
            "check that the repository is writable (`git fsck`)"
        )
    return keep_alive(repo, [n for n in wanted if n.kind == "snapshot" or n in new])
