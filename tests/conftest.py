"""Fixtures shared by the whole suite.

Every test runs with a clean environment: no MLFLOW_*, NAGA_*, GIT_* variables leak in
from the developer's shell, git reads no global or system config (so identity and
hooks are what the test sets), and naga's hash cache lives in the test's tmp dir.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from hypothesis import settings

# CI must be reproducible: the same examples on every run (new ones are found locally), and
# no per-example deadline, which a loaded 2-core machine would turn into flaky failures.
settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

REPO_ROOT = Path(__file__).resolve().parents[1]
START = REPO_ROOT / "scripts" / "slurm" / "start.sh"
STOP = REPO_ROOT / "scripts" / "slurm" / "stop.sh"
_CLEARED_PREFIXES = ("MLFLOW_", "NAGA_", "GIT_", "HYDRA_")


@pytest.fixture(autouse=True)
def _isolated_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    for name in list(os.environ):
        if name.startswith(_CLEARED_PREFIXES):
            monkeypatch.delenv(name)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
    monkeypatch.setenv("NAGA_CACHE_DIR", str(home / "naga-cache"))
    # Tests drive naga through subprocesses; make sure they import this checkout.
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    )


@pytest.fixture
def weird_tmp_path(tmp_path: Path) -> Path:
    """A tmp dir whose name has spaces and non-ASCII characters, as users' paths do."""
    path = tmp_path / "my exp ü 実験"
    path.mkdir()
    return path


def git(repo: Path, *args: str, check: bool = True) -> str:
    """Run the real git CLI in ``repo`` and return its stdout."""
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {result.stderr}")
    return result.stdout


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


def one_line_error(stderr: str) -> str:
    """Assert stderr is a single user-facing error line (no traceback) and return it."""
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1, stderr
    return lines[0]


def argv(*items: str | Path) -> Sequence[str]:
    return [str(item) for item in items]


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
