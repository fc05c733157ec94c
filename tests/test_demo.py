"""`make demo` end to end, in a tmp dir: every step succeeds and the receipts are the demo's."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_demo_runs_end_to_end_and_its_receipts_name_the_demo_repository(tmp_path: Path) -> None:
    work = tmp_path / "demo project"
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "examples" / "demo.py")],
        env={**os.environ, "NAGA_DEMO_DIR": str(work)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (
        "reproduced: config identical, 1 metric identical, 2 output files identical" in done.stdout
    )
    for job in sorted((work / "results" / "train").glob("lr=*/run.lock")):
        lock = yaml.safe_load(job.read_text())
        assert lock["launcher"] == "joblib"
        assert lock["script"] == {"path": "train.py", "repo": str(work), "function": "main"}
        assert [entry["root"] for entry in lock["repos"].values()] == [str(work)]
    # The demo ends with the report, named by its path.
    report = work / "report.html"
    assert done.stdout.rstrip().endswith(
        f"The report: {report} (open it in a browser; it needs no network)"
    )
    page = report.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    data = re.search(r"<script type='application/json' id='naga-data'>(.*?)</script>", page)
    assert data is not None
    document = json.loads(data.group(1))
    # Its cards link the pipeline's lineage both ways: evaluate <- 6 train jobs + prepare.
    runs = [row[document["columns"].index("run")] for row in document["runs"]]
    evaluate = document["cards"][runs.index("results/evaluate")]
    upstream = sorted(runs[prev["target"]] for prev in evaluate["prevs"])
    train = [r for r in runs if r.startswith("results/train/")]
    assert upstream == sorted([*train, "results/prepare"])
    prepare = document["cards"][runs.index("results/prepare")]
    assert runs.index("results/evaluate") in prepare["downstream"]
    # naga's own lines and the example scripts' only: no library chatter.
    noise = [line for line in (done.stdout + done.stderr).splitlines() if "INFO" in line]
    assert not noise, noise
