"""Code identity is a git tree: read from receipts, or looked up in any clone holding it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import git

from naga.lock.git import repo_state
from naga.lock.git.recorded import (
    code_identity,
    kept_by_a_ref,
    open_repo,
    resolve_tree,
    run_code,
)

MakeRepo = Callable[..., Path]
C, D, T, U = "c" * 40, "d" * 40, "e" * 40, "f" * 40


@pytest.mark.parametrize(
    ("entry", "identity"),
    [
        ({"commit": C, "tree": T, "dirty": False}, f"tree:{T}"),
        ({"commit": C, "tree": U, "dirty": True, "snapshot": {"tree": U}}, f"tree:{U}"),
        # Receipts from before `tree` was recorded: a snapshot's tree, or the commit.
        ({"commit": C, "dirty": True, "snapshot": {"commit": D, "tree": U}}, f"tree:{U}"),
        ({"commit": C, "dirty": False}, f"commit:{C}"),
        # What ran is unknown: never an identity another run could share.
        ({"commit": C, "tree": None, "dirty": True, "snapshot": None}, None),
        ({"commit": C, "dirty": True, "snapshot": None}, None),
    ],
)
def test_code_identity_of_one_repository(entry: dict, identity: str | None) -> None:
    assert code_identity(entry) == identity


def test_run_code_names_every_repository_and_refuses_unknown_code() -> None:
    clean = {"commit": C, "tree": T, "dirty": False}
    assert run_code({".": clean}) == f"tree:{T}"
    assert run_code({"lib": {**clean, "tree": U}, ".": clean}) == f".=tree:{T}, lib=tree:{U}"
    assert run_code({".": clean, "lib": {"commit": C, "dirty": True}}) is None
    assert run_code({}) is None


def test_a_commit_is_found_in_another_clone(tmp_path: Path, make_git_repo: MakeRepo) -> None:
    origin = make_git_repo(tmp_path / "origin")
    git(tmp_path, "clone", "-q", str(origin), "clone")
    (origin / "README.md").write_text("only in origin\n")
    git(origin, "commit", "-qam", "later")
    head = git(origin, "rev-parse", "HEAD").strip()
    entry = {"root": str(tmp_path / "clone"), "commit": head, "dirty": False}  # an old receipt

    missing = resolve_tree(entry)
    assert (missing.tree, missing.missing) == (None, head)
    assert missing.problem == f"commit {head[:8]} is not in {tmp_path / 'clone'}"
    found = resolve_tree(entry, roots=[origin])
    assert found.tree == git(origin, "rev-parse", "HEAD^{tree}").strip()
    # A receipt's recorded tree needs no git at all.
    assert resolve_tree({**entry, "root": "/gone", "tree": T}).tree == T


def test_a_commit_amended_away_is_kept_by_no_ref(tmp_path: Path, make_git_repo: MakeRepo) -> None:
    repo = make_git_repo(tmp_path / "r")
    first = repo_state(repo)
    git(repo, "commit", "-q", "--amend", "-m", "same tree, other message")
    second = repo_state(repo)
    assert second["tree"] == first["tree"] and second["commit"] != first["commit"]
    pygit2_repo = open_repo(repo)
    assert not kept_by_a_ref(pygit2_repo, first["commit"])
    assert kept_by_a_ref(pygit2_repo, second["commit"])
    git(repo, "tag", "keep", first["commit"])
    assert kept_by_a_ref(pygit2_repo, first["commit"])
    # A dirty run's snapshot ref keeps its parent, the run's commit, after an amend.
    (repo / "README.md").write_text("edited\n")
    dirty = repo_state(repo)
    git(repo, "checkout", "-q", "--", "README.md")
    git(repo, "commit", "-q", "--amend", "-m", "again")
    assert dirty["commit"] == second["commit"] != git(repo, "rev-parse", "HEAD").strip()
    assert kept_by_a_ref(pygit2_repo, second["commit"])
