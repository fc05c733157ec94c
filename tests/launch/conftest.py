"""Fixtures of the sweep tests: a user's @clicfg script (Slurm: tests/conftest.py)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import HOSTILE_NAME

SCRIPT = '''
import sys
from naga import clicfg

class Config:
    param = 1
    name = "a"
    save_dir = "results/sweep"
    tasks = [{"param": 7}, {"param": 8, "name": "b"}]

@clicfg(config_class=Config)
def main(cfg):
    """Toy job: param 2 fails, param 5 calls sys.exit(3)."""
    import os
    from pathlib import Path
    print(f"job param={cfg.param} name={cfg.name} slurm={os.environ.get('SLURM_JOB_ID')}")
    Path(cfg.save_dir, "out.txt").write_text(f"{cfg.param} {cfg.name}")
    if cfg.param == 2:
        raise ZeroDivisionError("param 2 divides by zero")
    if cfg.param == 5:
        sys.exit(3)

if __name__ == "__main__":
    main()
'''


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
        files={"job.py": textwrap.dedent(SCRIPT), ".gitignore": "results/\nmultirun/\n"},
    )
