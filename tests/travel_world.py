"""Machines for the travel tests (tests/travel): clones of one project, and a remote.

A :class:`World` is a directory with a shared home (git config, naga's cache); it makes bare
remotes, projects (tests/apps/travel/train.py and a tracked data file, committed) and
clones made with ``git clone --no-local``, so a clone holds only what git sent it, as over
a network. A :class:`Machine` runs the script and the ``naga`` command in its clone.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from helpers import APPS, git, isolated_env

TRAIN = APPS / "travel" / "train.py"


class Machine:
    """One clone of the project (a cluster's checkout, a laptop's) and the runs made in it."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = env

    def py(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """``python train.py ARGS`` in the clone, as a user runs it."""
        result = subprocess.run(
            [sys.executable, "train.py", *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        if check:
            assert result.returncode == 0, result.stderr
        return result

    def naga(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """``python -m naga ARGS`` in the clone."""
        return subprocess.run(
            [sys.executable, "-m", "naga", *args],
            cwd=cwd or self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
            stdin=subprocess.DEVNULL,
            check=False,
        )

    def git(self, *args: str, check: bool = True) -> str:
        return git(self.root, *args, env=self.env, check=check)

    def refs(self, prefix: str = "refs/naga/") -> dict[str, str]:
        out = self.git("for-each-ref", "--format=%(refname) %(objectname)", prefix)
        return dict(line.split(" ", 1) for line in out.splitlines())


class World:
    """A place for machines: their shared home (git config, naga cache) and factories."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.env = isolated_env(base / "home")
        (base / "home").mkdir(parents=True, exist_ok=True)

    def bare(self, name: str = "remote.git") -> Path:
        """A bare repository to serve as the remote (branch main)."""
        path = self.base / name
        git(self.base, "init", "-q", "--bare", "-b", "main", str(path), env=self.env)
        return path

    def project(self, name: str, remote: Path | None = None) -> Machine:
        """A new repository holding train.py and a tracked data file, committed (and pushed)."""
        root = self.base / name
        if remote is not None:
            git(self.base, "clone", "-q", "--no-local", str(remote), str(root), env=self.env)
        else:
            git(self.base, "init", "-q", "-b", "main", str(root), env=self.env)
        machine = Machine(root, self.env)
        machine.git("config", "user.name", "Naga Test")
        machine.git("config", "user.email", "naga@example.invalid")
        (root / "train.py").write_text(TRAIN.read_text())
        (root / "data").mkdir()
        (root / "data" / "input.csv").write_text("1\n2\n3\n")
        (root / ".gitignore").write_text("results/\n*.tar\n*.tar.gz\n")
        machine.git("add", "-A")
        machine.git("commit", "-q", "-m", "the project")
        if remote is not None:
            machine.git("push", "-q", "origin", "main")
        return machine

    def clone(self, source: Path, name: str) -> Machine:
        """``git clone --no-local SOURCE`` (only what git sends travels)."""
        root = self.base / name
        git(self.base, "clone", "-q", "--no-local", str(source), str(root), env=self.env)
        return Machine(root, self.env)


def run_sweeps(cluster: Machine) -> None:
    """A basic sweep on the committed code, then a joblib sweep with an uncommitted edit."""
    cluster.py("-m", "lr=0.1,0.2", "save_dir=results/basic")
    train = cluster.root / "train.py"
    train.write_text(train.read_text().replace("OFFSET = 0\n", "OFFSET = 1  # not committed\n"))
    cluster.py("-m", "lr=0.1,0.2", "--n_jobs", "2", "save_dir=results/joblib")
