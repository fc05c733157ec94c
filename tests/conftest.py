"""Fixtures shared by the whole suite (plain helpers are in tests/helpers.py).

Every test runs with a clean environment (:func:`helpers.isolated_env`): no MLFLOW_*,
NAGA_*, GIT_*, HYDRA_* variables leak in from the developer's shell, git reads no global
or system config (so identity and hooks are what the test sets), and naga's hash cache
lives in the test's tmp dir.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import HOSTILE_NAME, REPO_ROOT, git, isolated_env
from hypothesis import settings

# CI must be reproducible: the same examples on every run (new ones are found locally), and
# no per-example deadline, which a loaded 2-core machine would turn into flaky failures.
settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

START = REPO_ROOT / "scripts" / "slurm" / "start.sh"
STOP = REPO_ROOT / "scripts" / "slurm" / "stop.sh"


@pytest.fixture(autouse=True)
def _isolated_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    env = isolated_env(tmp_path_factory.mktemp("home"))
    for name in list(os.environ):
        if name not in env:
            monkeypatch.delenv(name)
    for name, value in env.items():
        if os.environ.get(name) != value:
            monkeypatch.setenv(name, value)


@pytest.fixture
def weird_tmp_path(tmp_path: Path) -> Path:
    """A tmp dir whose name holds spaces, quotes, ``;``, ``$``, a newline and non-ASCII
    letters (as submitit's): every path naga writes, quotes or passes on must survive it."""
    path = tmp_path / HOSTILE_NAME
    path.mkdir()
    return path


@pytest.fixture
def make_git_repo() -> Callable[..., Path]:
    """Factory: ``make_git_repo(path, files={"a.txt": "x"}, commit=True)`` -> a real repo."""

    def factory(path: Path, files: dict[str, str] | None = None, *, commit: bool = True) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        git(path, "init", "-q", "-b", "main")
        git(path, "config", "user.name", "Naga Test")
        git(path, "config", "user.email", "naga@example.invalid")
        for name, text in (files or {"README.md": "hello\n"}).items():
            target = path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        if commit:
            git(path, "add", "-A")
            git(path, "commit", "-q", "-m", "initial")
        return path

    return factory


@pytest.fixture
def run_py() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run a Python script in a subprocess exactly as a user would: ``python script.py args``."""

    def runner(
        script: str | Path,
        *args: str,
        cwd: Path,
        env: dict[str, str] | None = None,
        timeout: float = 120,
        stdin: int | None = subprocess.DEVNULL,
    ) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, **(env or {})}
        return subprocess.run(
            [sys.executable, str(script), *args],
            cwd=cwd,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=stdin,
            check=False,
        )

    return runner


@pytest.fixture
def run_naga() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the ``naga`` command (as ``python -m naga``) in a subprocess."""

    def runner(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120):
        full_env = {**os.environ, **(env or {})}
        return subprocess.run(
            [sys.executable, "-m", "naga", *args],
            cwd=cwd,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )

    return runner


@pytest.fixture(scope="session")
def examples_dir() -> Iterator[Path]:
    yield REPO_ROOT / "examples"


def _slurm_skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "the local Slurm cluster needs root (slurmd, munged); run the suite as root or in CI"
    missing = [
        b
        for b in ("slurmctld", "slurmd", "munged", "sbatch")
        if not shutil.which(b, path="/usr/sbin:/usr/bin")
    ]
    if missing:
        return (
            f"Slurm binaries missing ({', '.join(missing)}); "
            "install with: sudo bash scripts/setup-system.sh"
        )
    return None


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[dict[str, str]]:
    """A running one-node cluster; yields the environment its clients need (SLURM_CONF).

    Starts scripts/slurm/start.sh (reusing a cluster that is already up) and stops it at
    the end if this session started it. In CI (CI=true) failing to start is an error.
    """
    in_ci = os.environ.get("CI", "").lower() == "true"
    reason = _slurm_skip_reason()
    if reason is not None:
        if in_ci:
            pytest.fail(f"CI must run the Slurm tests, but {reason}")
        pytest.skip(reason)
    already = (
        subprocess.run(
            ["sinfo", "-h"],
            env={**os.environ, "SLURM_CONF": "/tmp/naga-slurm/slurm.conf"},
            capture_output=True,
            text=True,
            check=False,
        ).returncode
        == 0
    )
    result = subprocess.run(
        ["bash", str(START)], capture_output=True, text=True, timeout=120, check=False
    )
    if result.returncode != 0:
        message = f"could not start the local Slurm cluster: {result.stderr.strip()}"
        if in_ci:
            pytest.fail(message)
        pytest.skip(message)
    conf = result.stdout.strip().splitlines()[-1].split("=", 1)[1]
    yield {"SLURM_CONF": conf}
    if not already:
        subprocess.run(["bash", str(STOP)], capture_output=True, timeout=60, check=False)
