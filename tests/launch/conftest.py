"""Fixtures of the sweep tests: a user's @clicfg script (Slurm: tests/conftest.py).

The tests run below a hostile directory name: ``tmp_path`` here is
:func:`helpers.hostile_tmp_path`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import APPS, hostile_tmp_path  # noqa: F401  # sweep roots, job dirs, overrides


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
