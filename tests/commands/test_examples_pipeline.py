"""The subcommands on the project's own example pipeline (examples/pipeline), end to end.

prepare -> a train sweep (-m lr=...) -> evaluate, copied into a fresh git repository and
run as a user would; then ls, diff, lineage, verify and rerun on those runs, including a
rerun after the raw data changed.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def example(make_project, examples_dir: Path):
    files = {p.name: p.read_text() for p in sorted((examples_dir / "pipeline").glob("*.py"))}
    project = make_project(files)
    project.stage("prepare")
    project.stage("train", "-m", "lr=0.01,0.1")
    project.stage("evaluate")
    return project


@pytest.mark.slow
def test_example_pipeline_end_to_end(example, tmp_path: Path):
    listed = example.naga("ls", "results")
    assert listed.returncode == 0, listed.stderr
    titles = [block.splitlines()[0] for block in listed.stdout.strip().split("\n\n")]
    assert titles == ["evaluate.py  (1 run)", "train.py  (2 runs)", "prepare.py  (1 run)"]
    train = listed.stdout.strip().split("\n\n")[1].splitlines()
    assert train[1].split()[4:] == ["lr", "train_mse"]  # the key that differs, the metric
    names = {line.split()[0] for line in train[2:]}
    assert names == {"results/train/lr=0.01", "results/train/lr=0.1"}

    diff = example.naga("diff", "results/train/lr=0.01", "results/train/lr=0.1")
    assert diff.returncode == 1
    assert "  lr: 0.01 → 0.1" in diff.stdout.splitlines()

    tree = example.naga("lineage", "results/evaluate").stdout.splitlines()
    assert tree[0].startswith("results/evaluate  completed")
    assert sum("results/prepare" in line for line in tree) == 3  # direct + under each model
    assert sum("results/train/lr=" in line for line in tree) == 2

    # A deterministic stage re-created from its run.lock is bit-identical, and so is the
    # stage that globs its upstream directory.
    for run, verdict in (
        ("results/train/lr=0.1", "1 metric identical, 2 output files identical"),
        ("results/evaluate", "no metrics, 1 output file identical"),
    ):
        result = example.naga("rerun", run, "--workdir", str(tmp_path / Path(run).name))
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.splitlines()[-1] == f"reproduced: config identical, {verdict}"

    # Now the raw data changes under the recorded hash.
    raw = example.root / "data" / "raw.csv"
    raw.write_text(raw.read_text().replace("0.", "1.", 5))
    verify = example.naga("verify", "results/prepare")
    assert verify.returncode == 1
    # (columns are aligned to the widest cell, now the `receipt` row's: compare words)
    assert ["CHANGED", "data", "raw"] in [line.split()[:3] for line in verify.stdout.splitlines()]
    rerun = example.naga("rerun", "results/prepare", "--workdir", str(tmp_path / "changed"))
    assert rerun.returncode == 1, rerun.stdout + rerun.stderr
    assert "  data    changed  raw  data/raw.csv" in rerun.stdout
    assert rerun.stdout.splitlines()[-1] == (
        "not reproduced: 1 recorded input drifted; 1 of 2 output files differs"
    )
