"""Helpers shared by the whole suite (a plain module: pyproject puts tests/ on ``sys.path``).

- :func:`isolated_env`: the environment every test runs in (the autouse fixture in
  conftest.py applies it; session-scoped builders pass it to their subprocesses);
- :func:`one_line_error`: the check that a user-facing error is one line on stderr;
- :func:`git`: the real git CLI, to check what naga wrote with pygit2;
- :func:`hostile_tmp_path`: a ``tmp_path`` below a hostile directory name, for the folders
  whose conftest.py imports it (git, hashing, lock, command-line and sweep tests);
- :data:`APPS`: the scripts the subprocess tests run (``tests/apps``), and
  :func:`copy_app` to put one into a test's project.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
APPS = Path(__file__).resolve().parent / "apps"
#: Variables of the developer's shell that would change what naga, git, Hydra or MLflow do.
CLEARED_PREFIXES = ("MLFLOW_", "NAGA_", "GIT_", "HYDRA_")
#: A directory name with everything a shell, a YAML writer, git or Hydra may trip on:
#: spaces, both quotes, ``;``, ``$``, a newline, non-ASCII letters.
HOSTILE_NAME = "my exp ü 実験 'q' \"dq\" ;x $HOME\nnl"


@pytest.fixture(name="tmp_path")
def hostile_tmp_path(tmp_path: Path) -> Path:
    """pytest's ``tmp_path``, one directory named :data:`HOSTILE_NAME` further down.

    A test folder opts in with ``from helpers import hostile_tmp_path`` in its conftest.py:
    every path its tests make, pass on, quote or record then holds the hostile name.
    """
    path = tmp_path / HOSTILE_NAME
    path.mkdir()
    return path


def isolated_env(home: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a test: no MLFLOW_*, NAGA_*, GIT_*, HYDRA_* from the developer's
    shell, git without global or system config, naga's caches in ``home``, and this
    checkout first on PYTHONPATH so that subprocesses import it.

    Args:
        home: A directory of the test's own for git's global config and naga's caches.
        base: The environment to start from (default: ``os.environ``).

    Returns:
        A new environment mapping.
    """
    env = {k: v for k, v in (base or os.environ).items() if not k.startswith(CLEARED_PREFIXES)}
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env["GIT_CONFIG_GLOBAL"] = str(home / "gitconfig")
    env["NAGA_CACHE_DIR"] = str(home / "naga-cache")
    pythonpath = env.get("PYTHONPATH", "").split(os.pathsep)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT), *(p for p in pythonpath if p and p != str(REPO_ROOT))]
    )
    return env


def one_line_error(stderr: str) -> str:
    """Assert stderr is a single user-facing error line (no traceback) and return it."""
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1, stderr
    return lines[0]


def git(repo: Path, *args: str, env: dict[str, str] | None = None, check: bool = True) -> str:
    """Run the real git CLI in ``repo`` and return its stdout (paths unquoted)."""
    result = subprocess.run(
        ["git", "-c", "core.quotePath=false", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if check:
        assert result.returncode == 0, f"git {' '.join(args)} failed: {result.stderr}"
    return result.stdout


def copy_app(name: str, dest: Path) -> Path:
    """Copy ``tests/apps/<name>`` (a file or a folder) to ``dest``; returns the copy."""
    source = APPS / name
    dest.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, dest, dirs_exist_ok=True, ignore=_IGNORED)
    else:
        shutil.copyfile(source, dest)
    return dest


_IGNORED = shutil.ignore_patterns("__pycache__")
