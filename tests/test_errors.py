"""Every user-facing error path, run as users meet it: one line on stderr, exit 2, no traceback.

Each case starts a real process, a user's @clicfg script (tests/apps/clicfg/train.py in a
git repository below a hostile directory name) or the ``naga`` command, with the mistake
in its command line, its files or its environment. The message must say what went wrong
and how to fix it (``what: why; how to fix``, checked on a fragment of it).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from helpers import copy_app, one_line_error

from naga.lock.liveness import pid_start


@dataclass(frozen=True)
class Mistake:
    """One way to get it wrong."""

    argv: tuple[str, ...]  # after `python train.py` or `python -m naga`
    expected: str  # a fragment of the one line
    env: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # written into the project first
    setup: str | None = None  # the name of a function below preparing the project


def _busy(project: Path) -> None:
    """results/run holds the receipt of a run still running (this very test process)."""
    lock = project / "results" / "run" / "run.lock"
    lock.parent.mkdir(parents=True)
    lock.write_text(
        f"naga_lock: 1\nrun_id: other\nstatus: running\npid: {os.getpid()}\n"
        f"pid_start: '{pid_start()}'\nhost: {os.uname().nodename}\n"
        "started_at: '2026-01-01T00:00:00+00:00'\n"
    )


def _save_dir_is_a_file(project: Path) -> None:
    (project / "results").write_text("a file where the runs should go\n")


SETUPS: dict[str, Callable[[Path], None]] = {
    "busy": _busy,
    "save_dir_is_a_file": _save_dir_is_a_file,
}

SCRIPT = {
    # overrides and the config
    "unknown key": Mistake(("paramm=3",), "unknown key 'paramm'. Did you mean 'param'?"),
    "wrong type": Mistake(("param=abc",), "could not be converted to Integer"),
    "sweep without -m": Mistake(("param=1,2",), "add -m/--multirun"),
    "unresolvable": Mistake(("name=${nope}",), "config key 'name'"),
    "keyword-style flag": Mistake(("--bogus",), "unrecognized arguments: --bogus"),
    # config files and experiments
    "missing --config": Mistake(("--config", "missing.yml"), "--config missing.yml: no such file"),
    "broken --config": Mistake(
        ("--config", "broken.yml"), "broken.yml: invalid YAML", files={"broken.yml": "a: [\n"}
    ),
    "--experiment alone": Mistake(("--experiment", "small"), "needs --config FILE"),
    # sweeps and launchers
    "--n_jobs without a sweep": Mistake(("--n_jobs", "2"), "--n_jobs only applies to sweeps"),
    "--n_jobs 0": Mistake(("-m", "param=1,2", "--n_jobs", "0"), "expected at least 1 job"),
    "missing --tasks": Mistake(("--tasks", "nope.txt"), "--tasks nope.txt: no such file"),
    "--task_to alone": Mistake(("--task_to", "param"), "--task_to needs --tasks FILE"),
    "bad --slurm_config": Mistake(
        ("-m", "param=1,2", "--slurm_config", "slurm.yaml"),
        "unknown parameter 'timout_min'. Did you mean 'timeout_min'?",
        files={"slurm.yaml": "timout_min: 5\n"},
    ),
    "--tasks-key typo": Mistake(("--tasks-key", "nope"), "--tasks-key nope: no such key"),
    # the run cannot start: nothing of the user's code runs
    "busy save_dir": Mistake((), "is in use by a run that is still running", setup="busy"),
    "save_dir is a file": Mistake((), "cannot create", setup="save_dir_is_a_file"),
    "foreign run.lock": Mistake(
        (), "is not valid YAML", files={"results/run/run.lock": "my notes: [\n"}
    ),
    # the environment
    "bad NAGA_NO_CACHE": Mistake(
        (), "NAGA_NO_CACHE='maybe' is not understood", {"NAGA_NO_CACHE": "maybe"}
    ),
    "bad NAGA_LARGE_FILE_LIMIT": Mistake(
        (),
        "NAGA_LARGE_FILE_LIMIT='10MB' is not a number of bytes",
        {"NAGA_LARGE_FILE_LIMIT": "10MB"},
    ),
}

COMMAND = {
    "no subcommand": Mistake((), "the following arguments are required: COMMAND"),
    "unknown subcommand": Mistake(("shwo",), "invalid choice: 'shwo'"),
    "missing run": Mistake(("show", "nowhere"), "run 'nowhere' does not exist"),
    "not a run.lock": Mistake(
        ("show", "notes.txt"), "notes.txt is not valid YAML", files={"notes.txt": "a: [\n"}
    ),
    "future format": Mistake(
        ("show", "future"),
        "has run.lock format version 9, but naga",
        files={"future/run.lock": "naga_lock: 9\nrun_id: x\n"},
    ),
    "diff of one run": Mistake(("diff", "a"), "the following arguments are required: B"),
    "ls of a missing dir": Mistake(("ls", "nowhere"), "directory 'nowhere' does not exist"),
    "bad --tag": Mistake(("log", "--tag", "owner", "."), "--tag 'owner' is not KEY=VALUE"),
    "log of a missing dir": Mistake(("log", "nope"), "run directory 'nope' does not exist"),
    "lineage format": Mistake(("lineage", ".", "--format", "png"), "invalid choice: 'png'"),
    "gc of a missing dir": Mistake(("gc", "nowhere"), "directory 'nowhere' does not exist"),
}


@pytest.fixture
def project(weird_tmp_path: Path, make_git_repo: Callable[..., Path]) -> Path:
    """A user's repository holding the @clicfg script, in a hostile directory."""
    root = weird_tmp_path / "project"
    copy_app("clicfg/train.py", root / "train.py")
    return make_git_repo(root, files={".gitignore": "results/\n"})


def _prepare(project: Path, mistake: Mistake) -> None:
    for name, text in mistake.files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    if mistake.setup is not None:
        SETUPS[mistake.setup](project)


def _run(argv: list[str], project: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        cwd=project,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.mark.parametrize(
    ("prog", "mistake"),
    [("train.py", m) for m in SCRIPT.values()] + [("naga", m) for m in COMMAND.values()],
    ids=[f"script: {k}" for k in SCRIPT] + [f"naga: {k}" for k in COMMAND],
)
def test_a_mistake_is_one_line_exit_2(project: Path, prog: str, mistake: Mistake) -> None:
    _prepare(project, mistake)
    command = ["train.py"] if prog == "train.py" else ["-m", "naga"]
    result = _run([sys.executable, *command, *mistake.argv], project, mistake.env)
    line = one_line_error(result.stderr)
    assert result.returncode == 2, result.stderr
    assert line.startswith((f"{prog}: error: ", "naga ")), line
    assert mistake.expected in line
    assert "CFG=" not in result.stdout  # the user's function never ran
