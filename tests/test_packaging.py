"""The wheel ships naga (with py.typed) and the hydra_plugins namespace package."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_wheel_contents(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("naga-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "naga/__init__.py" in names and "naga/py.typed" in names
    assert "naga/clicfg.py" in names and "naga/lock/api.py" in names
    assert "hydra_plugins/naga_runlock/config.py" in names
    # The report's page is built from these files: its script, style and vendored table
    # library with its licence.
    assets = "naga/results/report/assets/"
    for asset in ("report.js", "report.css", "vendor/tabulator.min.js", "vendor/tabulator.LICENSE"):
        assert assets + asset in names
    assert "hydra_plugins/__init__.py" not in names  # a namespace package shared with others
    assert not any(name.startswith(("tests/", "bench/", "examples/")) for name in names)
    metadata = next(n for n in names if n.endswith("entry_points.txt"))
    assert "naga = naga.commands.main:main" in zipfile.ZipFile(wheel).read(metadata).decode()
