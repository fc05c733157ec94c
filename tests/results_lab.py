"""The results tests' lab: tests/apps/results in a fresh git repo, run as users do."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
APPS = REPO_ROOT / "tests" / "apps" / "results"
LRS = (0.01, 0.1, 0.3)
SEEDS = (0, 1, 2)


def loss_of(lr: float, seed: int) -> float:
    """What tests/apps/results/train.py records as metrics.loss, computed independently."""
    return (lr - 0.1) ** 2 + seed / 100


class Lab:
    """A git repository holding the results apps and the runs made in it."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = env

    def python(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """``python ARGS`` in the lab, as a user types it."""
        result = subprocess.run(
            [sys.executable, *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        if check:
            assert result.returncode == 0, result.stdout + result.stderr
        return result

    def naga(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """``python -m naga ARGS`` in the lab."""
        return subprocess.run(
            [sys.executable, "-m", "naga", *args],
            cwd=self.root,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
            check=False,
        )


def _git(root: Path, env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        ["git", *args], cwd=root, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def new_lab(root: Path, home: Path) -> Lab:
    """A committed git repository holding train.py and score.py, nothing run yet."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MLFLOW_", "NAGA_", "GIT_", "HYDRA_"))
    }
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=str(home / "gitconfig"),
        NAGA_CACHE_DIR=str(home / "naga-cache"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
    )
    root.mkdir(parents=True)
    for app in ("train.py", "score.py"):
        shutil.copy(APPS / app, root / app)
    (root / ".gitignore").write_text("results/\n")
    _git(root, env, "init", "-q", "-b", "main")
    _git(root, env, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "add", "-A")
    _git(root, env, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "x")
    return Lab(root, env)
