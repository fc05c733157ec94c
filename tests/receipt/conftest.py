"""Fixture of the receipt suite: the user's project, with the venv outside or inside it."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from receipt_project import APPS, EDIT, EDITED, Project


@pytest.fixture(params=["venv-outside", "venv-inside"])
def project(request: pytest.FixtureRequest, tmp_path: Path, make_git_repo: Callable) -> Project:
    """The user's project, committed then edited, with the venv outside or inside it."""
    root = tmp_path / "my project"
    shutil.copytree(APPS, root, ignore=shutil.ignore_patterns("__pycache__"))
    (root / ".gitignore").write_text(".venv\nresults/\nmultirun/\noutputs/\n")
    (root / "tasks.txt").write_text("7\n8\n")
    (root / "slurm.yaml").write_text("partition: debug\ntimeout_min: 5\ncpus_per_task: 1\n")
    make_git_repo(root, files={})
    for name in EDITED:
        with (root / name).open("a") as handle:
            handle.write(EDIT)
    python = sys.executable
    if request.param == "venv-inside":
        # A link keeps the suite fast; Python takes the venv from the path it is started
        # with, so sys.prefix and site-packages are inside the project all the same.
        (root / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
        python = str(root / ".venv" / "bin" / "python")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # What pip writes for `[project.scripts] train-cli = "mypkg.train:main"`.
    script = bin_dir / "train-cli"
    script.write_text(
        f"#!{python}\nimport sys\nfrom mypkg.train import main\n"
        "if __name__ == '__main__':\n    sys.exit(main())\n"
    )
    script.chmod(0o755)
    return Project(root=root, python=python, bin_dir=bin_dir)
