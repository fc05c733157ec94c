"""Property: for any committed tree and any edits, the snapshot is the tree `git add -A` makes."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from naga.lock.git import repo_state

_names = st.text(alphabet=st.sampled_from("abcXYZ09 _-.éü実験"), min_size=1, max_size=8).filter(
    lambda name: name not in (".", "..") and not name.lower().startswith(".git")
)
_paths = st.lists(_names, min_size=1, max_size=3).map("/".join)
_content = st.binary(max_size=64)


def _git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=repo,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _write(root: Path, rel: str, data: bytes, executable: bool) -> bool:
    """Write a file unless a file/directory clash makes the path impossible."""
    target = root / rel
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_dir():
            return False
        target.write_bytes(data)
    except (FileExistsError, NotADirectoryError):
        return False
    target.chmod(0o755 if executable else 0o644)
    return True


@pytest.mark.slow
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    committed=st.dictionaries(_paths, st.tuples(_content, st.booleans()), min_size=1, max_size=8),
    edits=st.lists(
        st.tuples(st.sampled_from(["write", "delete", "chmod"]), _paths, _content),
        max_size=8,
    ),
    pick=st.lists(st.integers(min_value=0, max_value=100), max_size=4),
)
def test_snapshot_tree_equals_git_add_all(
    committed: dict[str, tuple[bytes, bool]],
    edits: list[tuple[str, str, bytes]],
    pick: list[int],
) -> None:
    with tempfile.TemporaryDirectory(prefix="naga prop ü ") as tmp:
        repo = Path(tmp) / "repo"
        repo.mkdir()
        _git(repo, "init", "-q", "-b", "main")
        written = [p for p, (data, x) in committed.items() if _write(repo, p, data, x)]
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "--allow-empty", "-m", "base")
        # Edit some committed paths (by index) and some brand-new ones.
        targets = [written[i % len(written)] for i in pick] if written else []
        for (action, new_path, data), old in zip(
            edits, targets + [None] * len(edits), strict=False
        ):
            rel = old or new_path
            path = repo / rel
            if action == "delete":
                if path.is_file():
                    path.unlink()
            elif action == "chmod":
                if path.is_file():
                    path.chmod(path.stat().st_mode ^ 0o100)
            else:
                _write(repo, rel, data, executable=False)
        index_before = (repo / ".git" / "index").read_bytes()
        state = repo_state(repo)
        assert (repo / ".git" / "index").read_bytes() == index_before
        oracle_env = {"GIT_INDEX_FILE": str(Path(tmp) / "oracle-index")}
        _git(repo, "read-tree", "HEAD", env=oracle_env)
        _git(repo, "add", "-A", env=oracle_env)
        expected = _git(repo, "write-tree", env=oracle_env).strip()
        head_tree = _git(repo, "rev-parse", "HEAD^{tree}").strip()
        if expected == head_tree:
            assert state["snapshot"] is None
        else:
            assert state["snapshot"]["tree"] == expected
            assert _git(repo, "rev-parse", f"{state['snapshot']['commit']}^").strip() == (
                _git(repo, "rev-parse", "HEAD").strip()
            )
