"""A user's project for the receipt suite (tests/receipt): tests/apps/receipt in a git repo.

The repository is committed and then edited (an uncommitted line in every script), so each
receipt must name the commit *and* a snapshot holding the edit. Two layouts of the
virtualenv are offered, as users have them: outside the project (the test's own
interpreter, whose venv sits inside the naga clone: a receipt naming that clone is the
bug this suite exists for) and inside it (``<project>/.venv``, a link to the same venv).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml
from helpers import git

__all__ = ["APPS", "EDIT", "EDITED", "Project", "git", "load", "wait_for"]


APPS = Path(__file__).resolve().parent / "apps" / "receipt"
#: Appended, uncommitted, to every script: the snapshot must hold it.
EDIT = "# an uncommitted edit\n"
EDITED = ("job.py", "hydra_app.py", "mypkg/train.py")


@dataclass
class Project:
    """A user's repository and the interpreter that runs its code."""

    root: Path
    python: str
    bin_dir: Path

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        path = os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(self.root)]))
        return {**os.environ, "PYTHONPATH": path, **(extra or {})}

    def run(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 180
    ) -> subprocess.CompletedProcess[str]:
        """Run ``python ARGS`` in the project, as the user types it."""
        return subprocess.run(
            [self.python, *args],
            cwd=self.root,
            env=self.env(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )

    def start(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        """Start ``python ARGS`` in the background (for signal tests)."""
        return subprocess.Popen(
            [self.python, *args],
            cwd=self.root,
            env=self.env(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )

    def head(self) -> str:
        return git(self.root, "rev-parse", "HEAD").strip()


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def wait_for(predicate: Callable[[], object], *, timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
