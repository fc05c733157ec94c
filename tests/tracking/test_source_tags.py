"""The MLflow UI's Source and Git Commit show the user's script and commit from run.lock.

MLflow fills ``mlflow.source.*`` from the logging process (``naga log`` is naga's
``__main__.py``); naga sets them from the receipt, and names its own git tags readably.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

APPS = Path(__file__).resolve().parents[1] / "apps"
REMOTE = "https://alice:s3cret@example.com/lab/proj.git"


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture
def project(tmp_path: Path, make_git_repo: Callable[..., Path], template_db: Path, run_py) -> Path:
    """A project with a credentialed origin remote, trained once, and a migrated ./mlflow.db."""
    root = make_git_repo(tmp_path / "proj", {".gitignore": "results/\nmlflow.db*\nmlruns/\n"})
    for app in ("train_run.py", "log_run.py"):
        shutil.copy(APPS / app, root / app)
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "scripts")
    _git(root, "remote", "add", "origin", REMOTE)
    shutil.copyfile(template_db, root / "mlflow.db")
    trained = run_py("train_run.py", cwd=root)
    assert trained.returncode == 0, trained.stderr
    return root


def _tags(project: Path, run_id: str) -> dict[str, str]:
    from mlflow import MlflowClient

    client: Any = MlflowClient("sqlite:///" + (project / "mlflow.db").as_posix())
    return dict(client.get_run(run_id).data.tags)


def _check(tags: dict[str, str], project: Path) -> None:
    head = _git(project, "rev-parse", "HEAD")
    assert tags["mlflow.source.name"] == (project / "train_run.py").as_posix()
    assert tags["mlflow.source.type"] == "LOCAL"
    assert tags["mlflow.source.git.commit"] == head
    assert tags["mlflow.source.git.branch"] == "main"
    assert tags["mlflow.source.git.repoURL"] == "https://example.com/lab/proj.git"
    assert tags["naga.git.commit"] == head
    assert tags["naga.git.branch"] == "main"
    assert tags["naga.git.dirty"] == "false"
    assert not [key for key in tags if key.startswith("naga.git..")]
    assert "s3cret" not in " ".join(tags.values())


def test_naga_log_sets_source_and_git_tags_from_run_lock(project: Path, run_naga) -> None:
    result = run_naga("log", "results/run", cwd=project)
    assert result.returncode == 0, result.stderr
    run_id = result.stdout.split(" -> run ")[1].split()[0]
    _check(_tags(project, run_id), project)


def test_mlflow_lock_in_a_logging_script_names_the_training_script(project: Path, run_py) -> None:
    result = run_py("log_run.py", "results/run", cwd=project)
    assert result.returncode == 0, result.stderr
    run_id = result.stdout.split("logged as ")[1].split()[0]
    _check(_tags(project, run_id), project)
