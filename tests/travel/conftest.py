"""Runs that travel between clones: a "cluster" clone makes runs, a "laptop" clone re-creates them.

Everything is real: bare repositories as remotes, clones made with ``git clone --no-local``,
the user's script (tests/apps/travel/train.py) run as a subprocess, and the ``naga`` command
as users run it (see tests/travel_world.py). The tests run below a hostile directory name:
``tmp_path`` here is :func:`helpers.hostile_tmp_path`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import hostile_tmp_path  # noqa: F401  # this folder's tmp_path
from travel_world import World


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)
