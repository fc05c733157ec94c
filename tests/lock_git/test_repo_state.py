"""repo_state(): git state and dirty snapshots, checked against the real git CLI.

The oracle for a snapshot's tree is git itself: a throwaway index seeded from HEAD,
``git add -A`` and ``git write-tree`` give the tree git would store for the work tree.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import git

from naga.errors import ConfigError, RepoError
from naga.lock.git import (
    DEFAULT_LARGE_FILE_LIMIT,
    LargeFileWarning,
    find_repo_root,
    repo_state,
    snapshot_exists,
)

MakeRepo = Callable[..., Path]


def git_tree_of_worktree(repo: Path, tmp_path: Path) -> str:
    """The tree `git add -A` would record for the work tree, built in a throwaway index."""
    index = tmp_path / "oracle-index"
    env = {**os.environ, "GIT_INDEX_FILE": str(index)}
    has_head = subprocess.run(
        ["git", "rev-parse", "-q", "--verify", "HEAD"], cwd=repo, capture_output=True, check=False
    )
    if has_head.returncode == 0:
        git(repo, "read-tree", "HEAD", env=env)
    git(repo, "add", "-A", env=env)
    tree = git(repo, "write-tree", env=env).strip()
    index.unlink()
    return tree


def untouched_fingerprint(repo: Path) -> dict[str, object]:
    """Everything of the user's that naga must never change."""
    index = repo / ".git" / "index"
    return {
        "index": index.read_bytes() if index.exists() else None,
        "index_mtime": index.stat().st_mtime_ns if index.exists() else None,
        "HEAD": (repo / ".git" / "HEAD").read_bytes(),
        "branches": git(repo, "for-each-ref", "refs/heads", "refs/tags", "refs/stash"),
        # --no-optional-locks: git status would otherwise refresh (rewrite) the index itself.
        "status": git(repo, "--no-optional-locks", "status", "--porcelain", "-uall", "--ignored"),
        "stash": git(repo, "stash", "list"),
        "files": sorted(
            (str(p.relative_to(repo)), p.is_symlink() or p.read_bytes())
            for p in repo.rglob("*")
            if ".git" not in p.relative_to(repo).parts and (p.is_file() or p.is_symlink())
        ),
    }


def assert_fsck_clean(repo: Path) -> None:
    result = subprocess.run(
        ["git", "fsck", "--strict", "--no-dangling"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "error" not in result.stderr.lower(), result.stderr


@pytest.fixture
def dirty_repo(weird_tmp_path: Path, make_git_repo: MakeRepo) -> Path:
    """A committed repo (unicode/space paths, exec bit, symlink, ignores) made dirty."""
    repo = make_git_repo(
        weird_tmp_path / "projet à",
        files={
            "README.md": "hello\n",
            "src/model.py": "x = 1\n",
            "src/gone.py": "bye\n",
            "données/ß file.txt": "unicode\n",
            ".gitignore": "*.log\nbuild/\n",
            "run.sh": "#!/bin/sh\necho hi\n",
        },
        commit=False,
    )
    (repo / "run.sh").chmod(0o755)
    (repo / "link").symlink_to("src/model.py")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    # Now the edits of a researcher mid-experiment:
    (repo / "src" / "model.py").write_text("x = 2\n")  # unstaged modification
    (repo / "src" / "gone.py").unlink()  # unstaged deletion of a tracked file
    (repo / "README.md").write_text("staged\n")
    git(repo, "add", "README.md")  # staged modification
    (repo / "README.md").write_text("staged then edited\n")
    (repo / "new dir ü").mkdir()
    (repo / "new dir ü" / "notes 実験.txt").write_text("untracked\n")  # untracked file
    (repo / "tool.sh").write_text("#!/bin/sh\n")
    (repo / "tool.sh").chmod(0o755)  # untracked executable
    (repo / "newlink").symlink_to("données/ß file.txt")  # untracked symlink
    (repo / "debug.log").write_text("ignored\n")  # ignored by pattern
    (repo / "build").mkdir()
    (repo / "build" / "out.bin").write_bytes(b"\0" * 10)  # ignored directory
    (repo / "run.sh").chmod(0o644)  # exec bit dropped
    return repo


def test_clean_repo_records_head_without_snapshot(tmp_path: Path, make_git_repo: MakeRepo) -> None:
    repo = make_git_repo(tmp_path / "r")
    refs_before = git(repo, "for-each-ref")
    state = repo_state(repo)
    assert state["root"] == str(repo.resolve())
    assert state["commit"] == git(repo, "rev-parse", "HEAD").strip()
    assert state["tree"] == git(repo, "rev-parse", "HEAD^{tree}").strip()
    assert state["branch"] == "main"
    assert state["dirty"] is False
    assert state["snapshot"] is None
    assert state["remotes"] == {}
    assert state["untracked_large"] == []
    assert state["submodules"] == {}
    assert state["not_captured"] == []
    assert git(repo, "for-each-ref") == refs_before  # a clean repo gets no ref


def test_path_inside_repo_finds_root(tmp_path: Path, make_git_repo: MakeRepo) -> None:
    repo = make_git_repo(tmp_path / "r", files={"pkg/mod.py": "x\n"})
    assert repo_state(repo / "pkg" / "mod.py")["root"] == str(repo.resolve())
    assert repo_state(str(repo / "pkg"))["root"] == str(repo.resolve())


def test_dirty_snapshot_matches_git_and_touches_nothing(dirty_repo: Path, tmp_path: Path) -> None:
    repo = dirty_repo
    head = git(repo, "rev-parse", "HEAD").strip()
    before = untouched_fingerprint(repo)
    state = repo_state(repo)
    after = untouched_fingerprint(repo)
    assert after == before  # index bytes+mtime, HEAD, branches, stash, status, files

    snap = state["snapshot"]
    assert state["dirty"] is True
    assert state["commit"] == head
    assert snap["tree"] == git_tree_of_worktree(repo, tmp_path)
    assert state["tree"] == snap["tree"]  # the tree of the code that ran
    assert snap["ref"] == f"refs/naga/snapshots/{snap['tree']}"
    assert git(repo, "rev-parse", snap["ref"]).strip() == snap["commit"]
    assert git(repo, "rev-parse", f"{snap['commit']}^{{tree}}").strip() == snap["tree"]
    assert git(repo, "log", "--format=%P", "-1", snap["commit"]).strip() == head
    assert git(repo, "log", "--format=%an <%ae>", "-1", snap["commit"]).strip() == (
        "naga <naga@localhost>"
    )
    # The git CLI reads every kind of change back out of the snapshot.
    assert git(repo, "show", f"{snap['commit']}:src/model.py") == "x = 2\n"
    assert git(repo, "show", f"{snap['commit']}:README.md") == "staged then edited\n"
    assert git(repo, "show", f"{snap['commit']}:new dir ü/notes 実験.txt") == "untracked\n"
    listing = git(repo, "ls-tree", "-r", "-z", snap["commit"]).split("\0")
    modes = {line.split("\t", 1)[1]: line.split()[0] for line in listing if line}
    assert "src/gone.py" not in modes
    assert "debug.log" not in modes
    assert not any(path.startswith("build/") for path in modes)
    assert modes["tool.sh"] == "100755"
    assert modes["run.sh"] == "100644"
    assert modes["link"] == "120000"
    assert modes["newlink"] == "120000"
    assert git(repo, "show", f"{snap['commit']}:newlink") == "données/ß file.txt"
    diff = git(repo, "diff", "--name-status", head, snap["commit"])
    assert "D\tsrc/gone.py" in diff
    assert_fsck_clean(repo)
    assert snapshot_exists(repo, snap["commit"])
    assert snapshot_exists(repo, snap["commit"][:12])


def test_same_state_reuses_snapshot(dirty_repo: Path) -> None:
    first = repo_state(dirty_repo)
    second = repo_state(dirty_repo)
    assert second["snapshot"] == first["snapshot"]
    refs = git(dirty_repo, "for-each-ref", "--format=%(refname)", "refs/naga").split()
    assert refs == [first["snapshot"]["ref"]]
    # A further edit gives a new snapshot; the old one stays referenced.
    (dirty_repo / "src" / "model.py").write_text("x = 3\n")
    third = repo_state(dirty_repo)
    assert third["snapshot"]["commit"] != first["snapshot"]["commit"]
    refs = git(dirty_repo, "for-each-ref", "--format=%(objectname)", "refs/naga").split()
    assert sorted(refs) == sorted([first["snapshot"]["commit"], third["snapshot"]["commit"]])


def test_same_tree_on_new_parent_keeps_old_snapshot(
    tmp_path: Path, make_git_repo: MakeRepo
) -> None:
    repo = make_git_repo(tmp_path / "r", files={"a.txt": "1\n"})
    (repo / "a.txt").write_text("2\n")
    old = repo_state(repo)["snapshot"]
    # Commit something unrelated, remove it again in the work tree: same tree, new parent.
    (repo / "b.txt").write_text("b\n")
    git(repo, "add", "b.txt")
    git(repo, "commit", "-q", "-m", "b")
    (repo / "b.txt").unlink()
    new = repo_state(repo)["snapshot"]
    assert new["tree"] == old["tree"]
    assert new["commit"] != old["commit"]
    assert new["ref"] != old["ref"]
    assert git(repo, "rev-parse", old["ref"]).strip() == old["commit"]
    assert git(repo, "rev-parse", new["ref"]).strip() == new["commit"]
    assert (
        git(repo, "log", "--format=%P", "-1", new["commit"]).strip()
        == git(repo, "rev-parse", "HEAD").strip()
    )
    assert_fsck_clean(repo)


def test_unborn_head(tmp_path: Path, make_git_repo: MakeRepo) -> None:
    repo = make_git_repo(tmp_path / "r", files={"a.py": "print(1)\n"}, commit=False)
    state = repo_state(repo)
    assert state["commit"] is None
    assert state["branch"] == "main"
    assert state["dirty"] is True
    snap = state["snapshot"]
    assert git(repo, "log", "--format=%P", "-1", snap["commit"]).strip() == ""
    assert git(repo, "show", f"{snap['commit']}:a.py") == "print(1)\n"
    assert snap["tree"] == git_tree_of_worktree(repo, tmp_path)
    # The branch is still unborn: naga made no commit on it.
    probe = subprocess.run(["git", "rev-parse", "-q", "--verify", "HEAD"], cwd=repo, check=False)
    assert probe.returncode != 0
    assert_fsck_clean(repo)


def test_empty_unborn_repo_is_clean(tmp_path: Path) -> None:
    repo = tmp_path / "empty"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "trunk")
    state = repo_state(repo)
    assert (state["commit"], state["branch"], state["dirty"], state["snapshot"]) == (
        None,
        "trunk",
        False,
        None,
    )


def test_detached_head(tmp_path: Path, make_git_repo: MakeRepo) -> None:
    repo = make_git_repo(tmp_path / "r")
    head = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "--detach")
    state = repo_state(repo)
    assert state["branch"] is None
    assert state["commit"] == head


def test_missing_identity_still_snapshots(tmp_path: Path) -> None:
    # The autouse fixture points GIT_CONFIG_GLOBAL at an empty file: no user.name anywhere.
    repo = tmp_path / "anon"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "f.txt").write_text("1\n")
    git(repo, "add", "f.txt")
    git(repo, "-c", "user.name=x", "-c", "user.email=x@y", "commit", "-q", "-m", "c")
    no_name = subprocess.run(
        ["git", "config", "user.name"], cwd=repo, capture_output=True, check=False
    )
    assert no_name.returncode != 0  # really no identity configured
    (repo / "f.txt").write_text("2\n")
    state = repo_state(repo)
    assert git(repo, "show", f"{state['snapshot']['commit']}:f.txt") == "2\n"


def test_remote_credentials_never_recorded(tmp_path: Path, make_git_repo: MakeRepo) -> None:
    repo = make_git_repo(tmp_path / "r")
    git(repo, "remote", "add", "origin", "https://alice:ghp_SECRET123@github.com/lab/p.git")
    git(repo, "remote", "add", "mirror", "https://glpat-SECRET456@gitlab.example.org/lab/p")
    git(repo, "remote", "add", "ssh", "ssh://git:SECRET789@host.example/lab/p.git")
    git(repo, "remote", "add", "scp", "git@github.com:lab/p.git")
    state = repo_state(repo)
    assert state["remotes"] == {
        "mirror": "https://gitlab.example.org/lab/p",
        "origin": "https://github.com/lab/p.git",
        "scp": "git@github.com:lab/p.git",
        "ssh": "ssh://git@host.example/lab/p.git",
    }
    assert "SECRET" not in repr(state)


def test_submodules_recorded_not_snapshotted(tmp_path: Path, make_git_repo: MakeRepo) -> None:
    lib = make_git_repo(tmp_path / "lib", files={"lib.py": "v = 1\n"})
    repo = make_git_repo(tmp_path / "main")
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib), "libs/lib")
    git(repo, "commit", "-q", "-m", "add submodule")
    pinned = git(repo / "libs" / "lib", "rev-parse", "HEAD").strip()
    clean = repo_state(repo)
    assert clean["dirty"] is False
    assert clean["submodules"] == {"libs/lib": {"commit": pinned, "dirty": False}}

    # New commit checked out in the submodule plus uncommitted edits inside it.
    sub = repo / "libs" / "lib"
    (sub / "lib.py").write_text("v = 2\n")
    git(sub, "-c", "user.name=x", "-c", "user.email=x@y", "commit", "-q", "-am", "v2")
    moved = git(sub, "rev-parse", "HEAD").strip()
    (sub / "lib.py").write_text("v = 3 uncommitted\n")
    state = repo_state(repo)
    assert state["dirty"] is True
    assert state["submodules"] == {"libs/lib": {"commit": moved, "dirty": True}}
    assert any("submodules" in note and "libs/lib" in note for note in state["not_captured"])
    snap = state["snapshot"]
    assert snap["tree"] == git_tree_of_worktree(repo, tmp_path)
    gitlink = git(repo, "ls-tree", snap["commit"], "libs/lib").split()
    assert gitlink[:3] == ["160000", "commit", moved]
    assert_fsck_clean(repo)


def test_uninitialized_submodule_uses_gitlink(tmp_path: Path, make_git_repo: MakeRepo) -> None:
    lib = make_git_repo(tmp_path / "lib", files={"lib.py": "v = 1\n"})
    main = make_git_repo(tmp_path / "main")
    git(main, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib), "lib")
    git(main, "commit", "-q", "-m", "sub")
    pinned = git(main, "rev-parse", "HEAD:lib").strip()
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(main), str(clone))  # submodule not checked out
    state = repo_state(clone)
    assert state["submodules"] == {"lib": {"commit": pinned, "dirty": False}}
    assert state["dirty"] is False


def test_embedded_repository_stored_as_gitlink(tmp_path: Path, make_git_repo: MakeRepo) -> None:
    repo = make_git_repo(tmp_path / "r")
    inner = make_git_repo(repo / "vendored", files={"v.py": "1\n"})
    state = repo_state(repo)
    inner_head = git(inner, "rev-parse", "HEAD").strip()
    assert git(repo, "ls-tree", state["snapshot"]["commit"], "vendored").split()[2] == inner_head
    assert any("vendored" in note for note in state["not_captured"])


def test_file_and_directory_swaps(tmp_path: Path, make_git_repo: MakeRepo) -> None:
    repo = make_git_repo(tmp_path / "r", files={"a": "file\n", "d/x": "1\n", "d/y": "2\n"})
    (repo / "a").unlink()
    (repo / "a").mkdir()
    (repo / "a" / "inside").write_text("now a dir\n")
    for child in (repo / "d").iterdir():
        child.unlink()
    (repo / "d").rmdir()
    (repo / "d").write_text("now a file\n")
    state = repo_state(repo)
    assert state["snapshot"]["tree"] == git_tree_of_worktree(repo, tmp_path)
    assert git(repo, "show", f"{state['snapshot']['commit']}:d") == "now a file\n"


def test_large_untracked_files_hashed_not_stored(
    tmp_path: Path, make_git_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_git_repo(tmp_path / "r")
    big = repo / "data dir" / "big é.bin"
    big.parent.mkdir()
    big.write_bytes(os.urandom(5000))
    (repo / "small.txt").write_text("fits\n")
    monkeypatch.setenv("NAGA_LARGE_FILE_LIMIT", "4096")
    with pytest.warns(LargeFileWarning, match=r"data dir/big é\.bin \(5000 bytes\)"):
        state = repo_state(repo)
    b3sum = subprocess.run(
        ["b3sum", "--no-names", str(big)], capture_output=True, text=True, check=False
    )
    assert state["untracked_large"] == [
        {"path": "data dir/big é.bin", "size": 5000, "hash": f"blake3:{b3sum.stdout.strip()}"}
    ]
    names = git(repo, "ls-tree", "-r", "--name-only", state["snapshot"]["commit"]).splitlines()
    assert "small.txt" in names
    assert not any("big" in name for name in names)
    assert any("big é.bin" in note for note in state["not_captured"])
    # The explicit argument wins over the environment variable.
    state = repo_state(repo, large_file_limit=DEFAULT_LARGE_FILE_LIMIT)
    assert state["untracked_large"] == []
    names = git(repo, "ls-tree", "-r", "--name-only", state["snapshot"]["commit"]).splitlines()
    assert "data dir/big é.bin" in names


def test_only_large_files_changed_gives_no_snapshot(
    tmp_path: Path, make_git_repo: MakeRepo
) -> None:
    repo = make_git_repo(tmp_path / "r")
    (repo / "big.bin").write_bytes(b"x" * 200)
    with pytest.warns(LargeFileWarning):
        state = repo_state(repo, large_file_limit=100)
    assert state["dirty"] is True
    assert state["snapshot"] is None  # the stored tree would equal HEAD's
    assert [entry["path"] for entry in state["untracked_large"]] == ["big.bin"]


def test_snapshot_disabled(tmp_path: Path, make_git_repo: MakeRepo) -> None:
    repo = make_git_repo(tmp_path / "r")
    (repo / "README.md").write_text("changed\n")
    state = repo_state(repo, snapshot=False)
    assert state["dirty"] is True
    assert state["snapshot"] is None
    assert state["tree"] is None  # what ran was not captured, so its tree is unknown
    assert state["not_captured"]
    assert git(repo, "for-each-ref", "refs/naga") == ""


def test_filemode_false_keeps_recorded_mode(tmp_path: Path, make_git_repo: MakeRepo) -> None:
    repo = make_git_repo(tmp_path / "r", files={"s.sh": "#!/bin/sh\n"})
    git(repo, "config", "core.fileMode", "false")
    (repo / "s.sh").chmod(0o755)
    (repo / "s.sh").write_text("#!/bin/sh\necho 2\n")
    state = repo_state(repo)
    assert state["snapshot"]["tree"] == git_tree_of_worktree(repo, tmp_path)


def test_not_a_repository_error(tmp_path: Path) -> None:
    plain = tmp_path / "plain dir"
    plain.mkdir()
    with pytest.raises(RepoError, match=r"'.*plain dir' is not inside a git repository.*git init"):
        repo_state(plain)


def test_missing_path_error(tmp_path: Path) -> None:
    with pytest.raises(RepoError, match=r"'.*nowhere' does not exist.*fix the path"):
        repo_state(tmp_path / "nowhere")


def test_bare_repository_error(tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    with pytest.raises(RepoError, match="bare git repository"):
        repo_state(bare)


@pytest.mark.parametrize("value", ["ten", "-1", "1.5"])
def test_bad_limit_env(
    value: str, tmp_path: Path, make_git_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_git_repo(tmp_path / "r")
    monkeypatch.setenv("NAGA_LARGE_FILE_LIMIT", value)
    with pytest.raises(ConfigError, match=r"NAGA_LARGE_FILE_LIMIT=.* non-negative integer"):
        repo_state(repo)


def test_bad_limit_argument(tmp_path: Path, make_git_repo: MakeRepo) -> None:
    repo = make_git_repo(tmp_path / "r")
    with pytest.raises(ConfigError, match="large_file_limit=-5"):
        repo_state(repo, large_file_limit=-5)


def test_find_repo_root(tmp_path: Path, make_git_repo: MakeRepo) -> None:
    repo = make_git_repo(tmp_path / "r", files={"pkg/a.py": "x\n"})
    assert find_repo_root(repo) == repo.resolve()
    assert find_repo_root(repo / "pkg" / "a.py") == repo.resolve()
    assert find_repo_root(repo / "pkg" / "not yet.txt") == repo.resolve()
    outside = tmp_path / "outside"
    outside.mkdir()
    assert find_repo_root(outside) is None


def test_snapshot_exists_unknown(tmp_path: Path, make_git_repo: MakeRepo) -> None:
    repo = make_git_repo(tmp_path / "r")
    assert not snapshot_exists(repo, "0" * 40)
    assert not snapshot_exists(repo, "not-a-sha")
    blob = git(repo, "rev-parse", "HEAD:README.md").strip()
    assert not snapshot_exists(repo, blob)
    with pytest.raises(RepoError):
        snapshot_exists(tmp_path, "0" * 40)


@pytest.mark.parametrize(
    ("config", "attributes"),
    [
        ({"core.autocrlf": "input"}, None),
        ({}, "*.txt text eol=lf\n*.c ident\n"),
        ({}, None),
    ],
    ids=["autocrlf", "gitattributes", "no-filters"],
)
def test_filters_applied_like_git_add(
    config: dict[str, str],
    attributes: str | None,
    tmp_path: Path,
    make_git_repo: MakeRepo,
) -> None:
    files = {"sub/a.txt": "line\n", "b.c": "/* $Id$ */\n"}
    if attributes:
        files["sub/.gitattributes"] = attributes
        files[".gitattributes"] = attributes
    repo = make_git_repo(tmp_path / "r", files=files)
    for key, value in config.items():
        git(repo, "config", key, value)
    (repo / "sub" / "a.txt").write_bytes(b"crlf line\r\nsecond\r\n")
    (repo / "sub" / "new.txt").write_bytes(b"new\r\n")
    (repo / "b.c").write_bytes(b"/* $Id$ */\r\nint x;\r\n")
    state = repo_state(repo)
    assert state["snapshot"]["tree"] == git_tree_of_worktree(repo, tmp_path)


def test_linked_worktree(tmp_path: Path, make_git_repo: MakeRepo) -> None:
    repo = make_git_repo(tmp_path / "main repo", files={"a.txt": "1\n"})
    other = tmp_path / "other wt"
    git(repo, "worktree", "add", "-q", "-b", "exp", str(other))
    (other / "a.txt").write_text("2\n")
    index = Path(git(other, "rev-parse", "--git-path", "index").strip())
    index = index if index.is_absolute() else other / index
    index_before = (index.read_bytes(), index.stat().st_mtime_ns)
    state = repo_state(other)
    assert state["root"] == str(other.resolve())
    assert state["branch"] == "exp"
    assert (index.read_bytes(), index.stat().st_mtime_ns) == index_before
    # Snapshot refs are shared by all worktrees of the repository.
    assert git(repo, "show", f"{state['snapshot']['ref']}:a.txt") == "2\n"
    assert find_repo_root(other / "a.txt") == other.resolve()
