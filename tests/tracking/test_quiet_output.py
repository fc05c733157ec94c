"""naga's MLflow commands print naga's lines; MLflow's own INFO chatter only when asked for.

A new SQLite store makes MLflow log "Creating initial MLflow database tables..." and
"Updating database tables" at INFO to stderr; these tests start from no store at all.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # each test builds a new MLflow store (~100 migrations)

APPS = Path(__file__).resolve().parents[1] / "apps"
SCHEMA_LINE = "Creating initial MLflow database tables"


@pytest.fixture
def project(tmp_path: Path, make_git_repo: Callable[..., Path], run_py) -> Path:
    """A git project whose training script has run once; no MLflow store yet."""
    root = make_git_repo(tmp_path / "proj", {".gitignore": "results/\nmlflow.db*\nmlruns/\n"})
    for app in ("train_run.py", "log_run.py"):
        shutil.copy(APPS / app, root / app)
    trained = run_py("train_run.py", cwd=root)
    assert trained.returncode == 0, trained.stderr
    assert not (root / "mlflow.db").exists()
    return root


def test_naga_log_on_a_new_store_prints_only_naga_lines(project: Path, run_naga) -> None:
    result = run_naga("log", "results/run", cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == 2, result.stdout
    assert lines[0].startswith("[1/1] logged results/run -> run ")
    assert lines[1].startswith("naga log: 1 logged, 0 skipped, 0 failed")


def test_naga_log_verbose_shows_mlflow_messages(project: Path, run_naga) -> None:
    result = run_naga("log", "-v", "results/run", cwd=project)
    assert result.returncode == 0, result.stderr
    assert SCHEMA_LINE in result.stderr


def test_mlflow_lock_on_a_new_store_prints_only_the_users_lines(project: Path, run_py) -> None:
    result = run_py("log_run.py", "results/run", cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith("logged as ") and len(result.stdout.splitlines()) == 1


def test_mlflow_logging_level_brings_mlflow_messages_back(project: Path, run_py) -> None:
    result = run_py("log_run.py", "results/run", cwd=project, env={"MLFLOW_LOGGING_LEVEL": "INFO"})
    assert result.returncode == 0, result.stderr
    assert SCHEMA_LINE in result.stderr
