"""Output into a pipe whose reader goes away (``| head``) ends quietly, as ``git log | head``.

Every case is a real pipe between two real processes: naga (or a user's @clicfg script) writes
more than the pipe and ``head`` can hold, ``head`` exits after its first line or bytes, and the
writer's next write fails. It must then stop without a traceback or an "Exception ignored"
message, with the exit status of a command stopped by SIGPIPE (141), which is what the shell
reports for ``git log | head`` too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from helpers import copy_app, git, isolated_env

SIGPIPE_STATUS = 141
#: Receipts in the `naga ls` case: about 150 KiB of table, more than pipe and head hold.
MANY_RUNS = 2500


def piped(
    argv: Sequence[str], reader: Sequence[str], project: tuple[Path, dict[str, str]]
) -> tuple[int, str, bytes]:
    """``python argv | reader`` through an OS pipe: (python's status, its stderr, head's out)."""
    cwd, env = project
    with subprocess.Popen(
        [sys.executable, *argv],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as writer:
        assert writer.stdout is not None and writer.stderr is not None
        with subprocess.Popen(list(reader), stdin=writer.stdout, stdout=subprocess.PIPE) as head:
            writer.stdout.close()  # head holds the only read end: when it exits, the pipe closes
            out, _ = head.communicate(timeout=120)
        err = writer.stderr.read().decode()
        writer.wait(timeout=120)
    return writer.returncode, err, out


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A repository with one run of a very wide config and MANY_RUNS small receipts."""
    base = tmp_path_factory.mktemp("pipes")
    env = isolated_env(base / "home")
    root = base / "a project ü 'q'"
    copy_app("pipes/wide.py", root / "wide.py")
    copy_app("clicfg/train.py", root / "train.py")
    (root / ".gitignore").write_text("results/\n")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"]):
        git(root, *args, env=env)
    git(root, "-c", "user.name=T", "-c", "user.email=t@x.invalid", "commit", "-qm", "i", env=env)
    for script in ("wide.py", "train.py"):
        done = subprocess.run(
            [sys.executable, script], cwd=root, env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
    # Copies of a real receipt, each another run (run_id) with another param value.
    lock = (root / "results" / "run" / "run.lock").read_text()
    run_id = next(line for line in lock.splitlines() if line.startswith("run_id: "))
    for i in range(MANY_RUNS):
        copy = lock.replace(run_id, f"run_id: copy{i:05d}").replace(
            "  param: 1\n", f"  param: {i}\n"
        )
        target = root / "results" / "many" / f"r{i:05d}" / "run.lock"
        target.parent.mkdir(parents=True)
        target.write_text(copy)
    return root, env


@pytest.mark.parametrize(
    ("argv", "reader", "first"),
    [
        (["-m", "naga", "show", "results/wide"], ["head", "-1"], b"run       results/wide"),
        (["-m", "naga", "show", "--json", "results/wide"], ["head", "-c", "10"], b'{\n  "naga_'),
        (["-m", "naga", "ls", "results/many"], ["head", "-2"], b"train.py  (2500 runs)\n"),
        (["-m", "naga", "ls", "--json", "results/many"], ["head", "-c", "1"], b"["),
        (["wide.py", "-m", "key_0000=a,b,c", "--cfg"], ["head", "-1"], b"# job 0 (key_0000=a) in"),
    ],
    ids=["show", "show --json", "ls", "ls --json", "clicfg -m --cfg"],
)
def test_a_closed_pipe_ends_quietly_with_sigpipe_status(
    project: tuple[Path, dict[str, str]], argv: list[str], reader: list[str], first: bytes
) -> None:
    status, stderr, out = piped(argv, reader, project)
    assert out.startswith(first)
    assert stderr == ""  # no BrokenPipeError traceback, no "Exception ignored in ..."
    assert status == SIGPIPE_STATUS


@pytest.mark.parametrize(
    "argv",
    [
        ["-m", "naga", "show", "results/wide"],
        ["-m", "naga", "ls", "results/many"],
        ["wide.py", "--help"],
        ["wide.py", "--cfg"],
    ],
    ids=["show", "ls", "clicfg --help", "clicfg --cfg"],
)
def test_a_reader_gone_before_the_first_write(
    project: tuple[Path, dict[str, str]], argv: list[str]
) -> None:
    """As ``... | true``: the pipe's read end is closed before the writer even starts."""
    cwd, env = project
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, *argv],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    assert done.stderr == ""
    assert done.returncode == SIGPIPE_STATUS


def test_a_pipe_read_to_the_end_is_untouched(project: tuple[Path, dict[str, str]]) -> None:
    status, stderr, out = piped(["-m", "naga", "ls", "results/many"], ["cat"], project)
    assert (status, stderr) == (0, "")
    assert out.count(b"\n") > MANY_RUNS
