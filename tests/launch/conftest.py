"""Fixtures of the sweep tests: a user's @clicfg script, and a real one-node Slurm cluster."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
START = REPO_ROOT / "scripts" / "slurm" / "start.sh"
STOP = REPO_ROOT / "scripts" / "slurm" / "stop.sh"

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
def sweep_project(tmp_path: Path, make_git_repo: Callable[..., Path]) -> Path:
    """A git repo holding the toy script; results are git-ignored, as they should be."""
    return make_git_repo(
        tmp_path / "proj",
        files={"job.py": textwrap.dedent(SCRIPT), ".gitignore": "results/\nmultirun/\n"},
    )


def _slurm_skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "the local Slurm cluster needs root (slurmd, munged); run the suite as root or in CI"
    missing = [
        b
        for b in ("slurmctld", "slurmd", "munged", "sbatch")
        if not shutil.which(b, path="/usr/sbin:/usr/bin")
    ]
    if missing:
        return (
            f"Slurm binaries missing ({', '.join(missing)}); "
            "install with: sudo bash scripts/setup-system.sh"
        )
    return None


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[dict[str, str]]:
    """A running one-node cluster; yields the environment its clients need (SLURM_CONF).

    Starts scripts/slurm/start.sh (reusing a cluster that is already up) and stops it at
    the end if this session started it. In CI (CI=true) failing to start is an error.
    """
    in_ci = os.environ.get("CI", "").lower() == "true"
    reason = _slurm_skip_reason()
    if reason is not None:
        if in_ci:
            pytest.fail(f"CI must run the Slurm tests, but {reason}")
        pytest.skip(reason)
    already = (
        subprocess.run(
            ["sinfo", "-h"],
            env={**os.environ, "SLURM_CONF": "/tmp/naga-slurm/slurm.conf"},
            capture_output=True,
            text=True,
            check=False,
        ).returncode
        == 0
    )
    result = subprocess.run(
        ["bash", str(START)], capture_output=True, text=True, timeout=120, check=False
    )
    if result.returncode != 0:
        message = f"could not start the local Slurm cluster: {result.stderr.strip()}"
        if in_ci:
            pytest.fail(message)
        pytest.skip(message)
    conf = result.stdout.strip().splitlines()[-1].split("=", 1)[1]
    yield {"SLURM_CONF": conf}
    if not already:
        subprocess.run(["bash", str(STOP)], capture_output=True, timeout=60, check=False)
