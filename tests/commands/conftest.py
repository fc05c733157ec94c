"""A real three-stage pipeline (prepare -> train -> evaluate) for the ``naga`` subcommand tests.


The stages (tests/apps/pipeline) are @clicfg scripts calling runlock() with repos, data and
prevs, run as subprocesses in a fresh git repository, exactly as a user runs them. Building
runs costs about a second each, so read-only tests share one session-scoped pipeline
(``pipeline``) and tests that change data, refs or files build their own (``make_pipeline``).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import APPS, HOSTILE_NAME, git, isolated_env

PIPELINE = {name: APPS / "pipeline" / name for name in ("prepare.py", "train.py", "evaluate.py")}


class Pipeline:
    """A git repository holding the three stage scripts and the runs made in it."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = env

    def stage(
        self, name: str, *overrides: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run ``<name>.py`` with overrides, as a user would."""
        result = subprocess.run(
            [sys.executable, f"{name}.py", *overrides],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if check:
            assert result.returncode == 0, result.stderr
        return result

    def naga(self, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None):
        """Run ``python -m naga ...`` in the pipeline's repository."""
        return subprocess.run(
            [sys.executable, "-m", "naga", *args],
            cwd=cwd or self.root,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
            check=False,
        )

    def git(self, *args: str) -> str:
        return git(self.root, *args, env=self.env)


def new_project(root: Path, home: Path, files: dict[str, str]) -> Pipeline:
    """A fresh git repository holding ``files`` (data/ and results/ ignored), committed."""
    env = isolated_env(home)
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main", env=env)
    git(root, "config", "user.name", "Naga Test", env=env)
    git(root, "config", "user.email", "naga@example.invalid", env=env)
    for name, text in {".gitignore": "data/\nresults/\n", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    git(root, "add", "-A", env=env)
    git(root, "commit", "-q", "-m", "pipeline", env=env)
    return Pipeline(root, env)


def build_pipeline(root: Path, home: Path) -> Pipeline:
    """The test pipeline's repository with prepare and train run once each."""
    pipeline = new_project(root, home, {name: path.read_text() for name, path in PIPELINE.items()})
    (root / "data").mkdir()
    (root / "data" / "raw.csv").write_text("1\n2\n3\n")
    pipeline.stage("prepare")
    pipeline.stage("train")
    return pipeline


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[[dict[str, str]], Pipeline]:
    """Factory: ``make_project({"a.py": text})`` -> a committed repo to run scripts in."""

    def factory(files: dict[str, str]) -> Pipeline:
        return new_project(tmp_path / HOSTILE_NAME / "example", tmp_path / "home", files)

    return factory


@pytest.fixture
def make_pipeline(tmp_path: Path) -> Callable[[], Pipeline]:
    """Factory of private pipelines for tests that change data, refs or files."""

    def factory() -> Pipeline:
        return build_pipeline(tmp_path / HOSTILE_NAME / "lab", tmp_path / "home")

    return factory


@pytest.fixture(scope="session")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    """A shared, read-only pipeline with several train variants and an evaluate stage.

    Runs: results/prepare; results/train (lr 0.1); results/train_again (same config, an
    equivalent run); results/train_lr03 (lr 0.3); results/train_time2 (user key time=2);
    results/train_failed (failed); results/evaluate (prevs: train and prepare);
    results/train_dirty (lr 0.1, made after editing train.py: a snapshot).
    """
    base = tmp_path_factory.mktemp("shared pipeline")
    p = build_pipeline(base / "lab", base / "home")
    p.stage("train", "save_dir=results/train_again")
    p.stage("train", "lr=0.3", "save_dir=results/train_lr03")
    p.stage("train", "time=2", "save_dir=results/train_time2")
    failed = p.stage("train", "fail=true", "save_dir=results/train_failed", check=False)
    assert failed.returncode != 0
    p.stage("evaluate")
    with (p.root / "train.py").open("a") as stream:
        stream.write("# a comment: the work tree is now dirty\n")
    p.stage("train", "save_dir=results/train_dirty")
    return p
