"""Fixtures of the sweep tests: a user's @clicfg script (Slurm: tests/conftest.py).

The tests run below a hostile directory name: ``tmp_path`` here is
:func:`helpers.hostile_tmp_path`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
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


DETACH_APP = APPS / "detach"


@pytest.fixture
def detach_project(tmp_path: Path, make_git_repo: Callable[..., Path]) -> Path:
    """tests/apps/detach in a fresh git repo (results git-ignored), with a Slurm config."""
    root = tmp_path / "my proj"
    shutil.copytree(DETACH_APP, root, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "slurm.yaml").write_text("partition: debug\ntimeout_min: 5\ncpus_per_task: 1\n")
    return make_git_repo(root, files={".gitignore": "results/\nmultirun/\nfixed\n"})


SLURM_SCRIPTS = Path(__file__).resolve().parents[2] / "scripts" / "slurm"


@contextlib.contextmanager
def private_cluster(**settings: str) -> Iterator[dict[str, str]]:
    """A one-node cluster of its own (directory, ports), stopped and removed at the end.

    Yields the environment start.sh and stop.sh need for it (``NAGA_SLURM_*`` and
    ``SLURM_CONF``); ``settings`` adds start.sh variables such as
    ``NAGA_SLURM_MAX_ARRAY_SIZE``. The shared cluster is left alone.
    """
    ports = []
    for _ in range(2):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            ports.append(probe.getsockname()[1])
    directory = tempfile.mkdtemp(prefix="naga-slurm-own-")
    env = {
        **os.environ,
        "NAGA_SLURM_DIR": directory,
        "NAGA_SLURM_CTLD_PORT": str(ports[0]),
        "NAGA_SLURM_SLURMD_PORT": str(ports[1]),
        **settings,
    }
    try:
        result = start_cluster(env)
        if result.returncode != 0:
            pytest.fail(f"could not start a Slurm cluster of its own: {result.stderr.strip()}")
        conf = result.stdout.strip().splitlines()[-1].split("=", 1)[1]
        yield {**env, "SLURM_CONF": conf}
    finally:
        subprocess.run(
            ["bash", str(SLURM_SCRIPTS / "stop.sh")],
            env=env,
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(directory, ignore_errors=True)


def start_cluster(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run scripts/slurm/start.sh with ``env``."""
    return subprocess.run(
        ["bash", str(SLURM_SCRIPTS / "start.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def own_slurm_cluster(
    slurm_cluster: dict[str, str],
) -> Callable[..., contextlib.AbstractContextManager[dict[str, str]]]:
    """:func:`private_cluster`, for a test that needs a cluster to itself (skipped where
    the shared one cannot run)."""
    return private_cluster


@pytest.fixture(scope="session")
def small_slurm_cluster(slurm_cluster: dict[str, str]) -> Iterator[dict[str, str]]:
    """A second one-node cluster with MaxArraySize=4, in its own directory and ports.

    The shared cluster's configuration is left alone; this one is stopped at the end. The
    preemption tests use it too: a job on its partition ``high`` takes the whole node.
    """
    with private_cluster(NAGA_SLURM_MAX_ARRAY_SIZE="4") as env:
        yield {"SLURM_CONF": env["SLURM_CONF"]}
