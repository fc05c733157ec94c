"""A real sweep for the results tests (tests/results_lab.py holds the lab itself).

``python train.py -m lr=0.01,0.1,0.3 seed=0,1,2`` (nine jobs), then ``python score.py``.
Read-only tests share one session-scoped lab (``lab``); tests that edit receipts build
their own (``make_lab``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from results_lab import LRS, SEEDS, Lab, new_lab


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    """The shared lab: the 3 x 3 sweep in results/train/<job>, one score run in results/score."""
    base = tmp_path_factory.mktemp("results lab")
    lab = new_lab(base / "lab ü", base / "home")
    lrs, seeds = ",".join(map(str, LRS)), ",".join(map(str, SEEDS))
    lab.python("train.py", "-m", f"lr={lrs}", f"seed={seeds}")
    lab.python("score.py")
    return lab


@pytest.fixture
def make_lab(tmp_path: Path) -> Callable[[], Lab]:
    """Factory of private labs (nothing run yet) for tests that change receipts."""

    def factory() -> Lab:
        return new_lab(tmp_path / "private lab", tmp_path / "home")

    return factory
