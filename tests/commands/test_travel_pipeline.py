"""A pipeline stage exported alone takes its upstream stage along, and reruns in another clone."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
from helpers import git


@pytest.mark.slow
def test_an_exported_stage_brings_its_upstream_and_reruns_elsewhere(make_pipeline, tmp_path):
    p = make_pipeline()
    target = tmp_path / "train.tar.gz"
    exported = p.naga("export", "results/train", "-o", str(target))
    assert exported.returncode == 0, exported.stdout + exported.stderr
    assert exported.stdout.startswith(f"exported 2 runs to {target} (")
    assert "  with the upstream stage results/prepare\n" in exported.stdout
    with tarfile.open(target) as tar:
        assert "runs/results/prepare/prepared.txt" in tar.getnames()

    laptop = tmp_path / "laptop"
    git(tmp_path, "clone", "-q", "--no-local", str(p.root), str(laptop), env=p.env)
    git(laptop, "remote", "remove", "origin", env=p.env)
    imported = p.naga("import", str(target), cwd=laptop)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    rerun = p.naga("rerun", "results/train", "--workdir", str(tmp_path / "w"), cwd=laptop)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert f"  linked  results → {laptop / 'results'}" in rerun.stdout  # this clone's
    assert rerun.stdout.rstrip().endswith(
        "reproduced: config identical, no metrics, 2 output files identical"
    )
    verified = p.naga("verify", "results/train", cwd=laptop)
    assert verified.returncode == 0, verified.stdout
    assert "ok  lineage  results/prepare" in verified.stdout
    assert Path(laptop / "results/prepare/prepared.txt").is_file()
