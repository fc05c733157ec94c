"""Layer-one tests: repo_state driven from separate processes, as scripts and Slurm arrays do."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from helpers import copy_app
from hypothesis import given
from hypothesis import strategies as st

from naga.lock.git import strip_credentials


@pytest.mark.interpreter_independent
@pytest.mark.slow
def test_concurrent_processes_share_one_snapshot(
    tmp_path: Path, make_git_repo: Callable[..., Path]
) -> None:
    repo = make_git_repo(tmp_path / "r", files={f"f{i}.txt": f"{i}\n" for i in range(50)})
    for i in range(0, 50, 5):
        (repo / f"f{i}.txt").write_text("edited\n")
    (repo / "new.txt").write_text("new\n")
    script = copy_app("repo_state_at.py", tmp_path / "state.py")
    # Four processes start at once, like the tasks of an array job on one checkout.
    start = str(time.time() + 2.0)
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(repo), start],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(4)
    ]
    outputs = [proc.communicate(timeout=60) for proc in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()
    snapshots = {json.dumps(json.loads(out)["snapshot"], sort_keys=True) for out, _ in outputs}
    assert len(snapshots) == 1
    refs = subprocess.run(
        ["git", "for-each-ref", "refs/naga"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert len(refs) == 1
    fsck = subprocess.run(
        ["git", "fsck", "--strict"], cwd=repo, capture_output=True, text=True, check=False
    )
    assert fsck.returncode == 0, fsck.stderr


def test_find_repo_root_does_not_import_pygit2(tmp_path: Path) -> None:
    code = (
        "import sys; from naga.lock.git import find_repo_root; find_repo_root('.'); "
        "print(sorted(m for m in ('pygit2', 'blake3') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


_token = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FFF), min_size=4)


@given(user=_token, token=_token, scheme=st.sampled_from(["http", "https", "HTTPS"]))
def test_http_credentials_never_survive(user: str, token: str, scheme: str) -> None:
    secret = quote(token, safe="")
    url = f"{scheme}://{quote(user, safe='')}:{secret}@git.example.org/lab/repo.git"
    cleaned = strip_credentials(url)
    assert cleaned == f"{scheme.lower()}://git.example.org/lab/repo.git"


@given(token=_token)
def test_token_as_user_name_stripped(token: str) -> None:
    secret = quote(token, safe="")
    assert strip_credentials(f"https://{secret}@host/x") == "https://host/x"


@given(password=_token)
def test_ssh_password_stripped_user_kept(password: str) -> None:
    secret = quote(password, safe="")
    assert strip_credentials(f"ssh://git:{secret}@host:22/x.git") == "ssh://git@host:22/x.git"
