"""The run.lock tests run in a hostile directory (spaces, quotes, ``;``, ``$``, a newline,
unicode): see ``weird_tmp_path`` in tests/conftest.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import HOSTILE_NAME


@pytest.fixture
def tmp_path(tmp_path: Path) -> Path:
    """pytest's ``tmp_path``, one hostile directory further down (see tests/conftest.py)."""
    path = tmp_path / HOSTILE_NAME
    path.mkdir()
    return path
