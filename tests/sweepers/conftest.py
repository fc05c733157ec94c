"""Fixtures of the search tests: the user's tuning script (tests/apps/search) in a git repo.

The tests run below a hostile directory name: ``tmp_path`` here is
:func:`helpers.hostile_tmp_path`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import APPS, hostile_tmp_path  # noqa: F401  # study folders, trial dirs, overrides


@pytest.fixture
def search_project(tmp_path: Path, make_git_repo: Callable[..., Path]) -> Path:
    """tests/apps/search (the script and its own sweeper plugin) in a fresh git repo."""
    root = tmp_path / "tune proj"
    shutil.copytree(APPS / "search", root, ignore=shutil.ignore_patterns("__pycache__"))
    return make_git_repo(root, files={".gitignore": "results/\n"})
