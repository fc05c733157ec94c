"""Fixtures of the sweep tests: a user's @clicfg script (Slurm: tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import APPS, HOSTILE_NAME


@pytest.fixture
def tmp_path(tmp_path: Path) -> Path:
    """pytest's ``tmp_path``, one hostile directory further down (see tests/conftest.py):
    sweep roots, job directories and Hydra overrides must survive it."""
    path = tmp_path / HOSTILE_NAME
    path.mkdir()
    return path


@pytest.fixture
def sweep_project(tmp_path: Path, make_git_repo: Callable[..., Path]) -> Path:
    """A git repo holding the toy script; results are git-ignored, as they should be."""
    return make_git_repo(
        tmp_path / "proj",
        files={
            "job.py": (APPS / "sweep_job.py").read_text(),
            ".gitignore": "results/\nmultirun/\n",
        },
    )
