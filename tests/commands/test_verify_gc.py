"""``naga verify`` and ``naga gc`` on private pipelines (they change data and refs)."""

from __future__ import annotations

import shutil

import pytest
import yaml


def rows(stdout: str) -> list[list[str]]:
    """verify's finding rows, without the run's own status row and an intact receipt's row
    (both checked on their own below)."""
    found = [line.split() for line in stdout.splitlines() if line.startswith("  ")]
    return [
        row
        for row in found
        if row[1:3] != ["run", "status"] and row[:3] != ["ok", "receipt", "digest"]
    ]


@pytest.mark.slow
def test_verify_clean_then_each_kind_of_drift(make_pipeline):
    p = make_pipeline()
    clean = p.naga("verify", "results/train")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert ["ok", "run", "status", "completed"] in [
        line.split() for line in clean.stdout.splitlines()
    ]
    assert ["ok", "receipt", "digest"] in [line.split()[:3] for line in clean.stdout.splitlines()]
    assert [r[:3] for r in rows(clean.stdout)] == [
        ["ok", "data", "results/prepare/prepared.txt"],
        ["ok", "code", "."],
        ["ok", "lineage", "results/prepare"],
    ]
    assert clean.stdout.rstrip().endswith(
        "clean: the receipt, every recorded data hash, commit, snapshot and upstream run match"
    )

    # an edited receipt: a result "fixed" by hand after the fact
    lock = p.root / "results/train/run.lock"
    original = lock.read_text()
    lock.write_text(original.replace("lr: 0.1\n", "lr: 0.01\n", 1))
    edited = p.naga("verify", "results/train")
    assert edited.returncode == 1
    assert rows(edited.stdout)[0][:3] == ["EDITED", "receipt", "digest"]
    assert "run.lock was changed after naga wrote it" in edited.stdout
    # a receipt written before naga sealed receipts still reads: no digest, no drift
    lock.write_text("".join(line for line in original.splitlines(True) if "digest:" not in line))
    old = p.naga("verify", "results/train")
    assert old.returncode == 0, old.stdout
    assert "receipt  digest" in old.stdout
    assert "no digest (written before naga sealed receipts)" in old.stdout
    lock.write_text(original)

    # changed data: prepare's input
    (p.root / "data/raw.csv").write_text("1\n2\n4\n")
    changed = p.naga("verify", "results/prepare")
    assert changed.returncode == 1
    assert rows(changed.stdout)[0][:3] == ["CHANGED", "data", "data/raw.csv"]
    assert changed.stdout.rstrip().endswith("1 drift found")

    # missing data
    (p.root / "data/raw.csv").unlink()
    missing = p.naga("verify", "results/prepare")
    assert missing.returncode == 1
    assert rows(missing.stdout)[0][:3] == ["MISSING", "data", "data/raw.csv"]

    # replaced upstream stage, and (with --upstream) the upstream's own drift
    (p.root / "data/raw.csv").write_text("1\n2\n3\n")
    p.stage("prepare")
    replaced = p.naga("verify", "results/train", "--upstream")
    assert replaced.returncode == 1
    statuses = {tuple(r[:3]) for r in rows(replaced.stdout)}
    assert ("REPLACED", "lineage", "results/prepare") in statuses
    # prepared.txt is byte-identical after the re-run: data is fine, lineage is not.
    assert ("ok", "data", "results/prepare/prepared.txt") in statuses
    assert "results/prepare [upstream]" in replaced.stdout


@pytest.mark.slow
def test_verify_reports_an_unreachable_snapshot(make_pipeline):
    p = make_pipeline()
    with (p.root / "train.py").open("a") as stream:
        stream.write("# uncommitted change\n")
    p.stage("train", "save_dir=results/dirty")
    lock = yaml.safe_load((p.root / "results/dirty/run.lock").read_text())
    snapshot = lock["repos"]["."]["snapshot"]
    assert p.naga("verify", "results/dirty").returncode == 0
    p.git("update-ref", "-d", snapshot["ref"])
    result = p.naga("verify", "results/dirty", "--quiet")
    assert result.returncode == 1
    assert rows(result.stdout) and rows(result.stdout)[0][:4] == [
        "UNREACHABLE",
        "code",
        ".",
        "snapshot",
    ]
    assert "git gc" in result.stdout
    # Once git prunes the object, the snapshot is gone for good.
    p.git("reflog", "expire", "--expire=now", "--all")
    p.git("gc", "-q", "--prune=now")
    gone = p.naga("verify", "results/dirty")
    assert "is not in" in gone.stdout and gone.returncode == 1


def test_verify_errors(tmp_path, run_naga):
    result = run_naga("verify", "nothing-here", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("naga verify: error: run 'nothing-here' does not exist")


@pytest.mark.slow
def test_gc_deletes_only_unreferenced_snapshot_refs(make_pipeline):
    p = make_pipeline()
    with (p.root / "train.py").open("a") as stream:
        stream.write("# change one\n")
    p.stage("train", "save_dir=results/keep")
    with (p.root / "train.py").open("a") as stream:
        stream.write("# change two\n")
    p.stage("train", "save_dir=results/drop")
    keep = yaml.safe_load((p.root / "results/keep/run.lock").read_text())["repos"]["."]["snapshot"]
    drop = yaml.safe_load((p.root / "results/drop/run.lock").read_text())["repos"]["."]["snapshot"]
    assert keep["ref"] != drop["ref"]
    shutil.rmtree(p.root / "results/drop")

    def refs() -> set[str]:
        return set(p.git("for-each-ref", "--format=%(refname)", "refs/naga/snapshots").split())

    assert refs() == {keep["ref"], drop["ref"]}
    dry = p.naga("gc", "--dry-run", "results")
    assert dry.returncode == 0, dry.stderr
    assert f"  would delete {drop['ref']}" in dry.stdout
    assert keep["ref"] not in dry.stdout.replace(f"would delete {drop['ref']}", "")
    assert refs() == {keep["ref"], drop["ref"]}

    done = p.naga("gc", "results")
    assert f"  deleted {drop['ref']}" in done.stdout
    assert refs() == {keep["ref"]}
    assert p.naga("verify", "results/keep").returncode == 0
    again = p.naga("gc", "results")
    assert "deleted 0 snapshot refs" in again.stdout


def test_gc_without_runs_does_nothing(tmp_path, run_naga):
    result = run_naga("gc", cwd=tmp_path)
    assert result.returncode == 0
    assert "no run.lock below ." in result.stdout
