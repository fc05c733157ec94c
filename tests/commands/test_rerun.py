"""``naga rerun`` end to end: worktree checkout, data check, real re-execution, comparison."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml


def repo_state(p) -> tuple[str, str, str, str]:
    """Everything rerun must leave alone in the user's repository."""
    return (
        p.git("rev-parse", "HEAD"),
        p.git("symbolic-ref", "HEAD"),
        p.git("status", "--porcelain", "--untracked-files=all"),
        p.git("worktree", "list", "--porcelain").count("worktree "),
    )


@pytest.mark.slow
def test_rerun_of_a_deterministic_stage_is_identical(pipeline, tmp_path: Path):
    before = repo_state(pipeline)
    workdir = tmp_path / "re run ü"
    result = pipeline.naga("rerun", "results/train", "--workdir", str(workdir))
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "  data    ok  results/prepare/prepared.txt" in out
    assert "  identical       model.txt" in out
    assert "  identical       metrics/loss.txt" in out
    assert "config: identical (4 keys; save_dir aside)" in out
    assert out.splitlines()[-1] == (
        "reproduced: config identical, no metrics, 2 output files identical"
    )
    assert repo_state(pipeline) == before
    assert not (workdir / "code").exists()  # the worktree is removed by default
    # The new run.lock records the same config (but its own save_dir) and the same lineage.
    old = yaml.safe_load((pipeline.root / "results/train/run.lock").read_text())
    new = yaml.safe_load((workdir / "out" / "run.lock").read_text())
    assert new["status"] == "completed"
    assert {**new["config"], "save_dir": None} == {**old["config"], "save_dir": None}
    assert new["config"]["save_dir"] == str(workdir / "out")
    assert new["prevs"]["results/prepare"]["run_id"] == old["prevs"]["results/prepare"]["run_id"]
    assert new["repos"]["."]["commit"] == old["repos"]["."]["commit"]


@pytest.mark.slow
def test_rerun_checks_out_the_snapshot_of_a_dirty_run(pipeline, tmp_path: Path):
    before = repo_state(pipeline)
    lock = yaml.safe_load((pipeline.root / "results/train_dirty/run.lock").read_text())
    snapshot = lock["repos"]["."]["snapshot"]["commit"]
    workdir = tmp_path / "w"
    result = pipeline.naga(
        "rerun", "results/train_dirty", "--workdir", str(workdir), "--keep-worktree"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"code    snapshot {snapshot[:12]}" in result.stdout
    # The kept worktree holds the snapshot's train.py (with the uncommitted comment).
    assert "# a comment: the work tree is now dirty" in (workdir / "code/train.py").read_text()
    assert pipeline.git("-C", str(workdir / "code"), "rev-parse", "HEAD").strip() == snapshot
    pipeline.git("worktree", "remove", "--force", str(workdir / "code"))
    assert repo_state(pipeline) == before


@pytest.mark.slow
def test_rerun_reports_changed_data_and_different_outputs(make_pipeline, tmp_path: Path):
    p = make_pipeline()
    (p.root / "data/raw.csv").write_text("1\n2\n30\n")
    strict = p.naga("rerun", "results/prepare", "--strict", "--workdir", str(tmp_path / "s"))
    assert strict.returncode == 1
    assert "  data    changed  data/raw.csv  blake3:" in strict.stdout
    assert "not running (--strict)" in strict.stdout
    assert not (tmp_path / "s" / "out").exists()

    result = p.naga("rerun", "results/prepare", "--workdir", str(tmp_path / "w"))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "  different       prepared.txt" in result.stdout
    assert result.stdout.splitlines()[-1] == (
        "not reproduced: 1 recorded input drifted; 1 of 1 output file differs"
    )
    assert (tmp_path / "w/out/prepared.txt").read_text() == "2\n4\n60\n"


@pytest.mark.slow
def test_a_failed_rerun_is_not_reproduced(pipeline, tmp_path: Path):
    failed = pipeline.naga("rerun", "results/train_failed", "--workdir", str(tmp_path / "f"))
    assert failed.returncode == 1
    assert failed.stdout.splitlines()[-1] == "not reproduced: the rerun failed (exit code 1)"


def test_rerun_refuses_a_non_empty_workdir(pipeline, tmp_path: Path):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "file").write_text("x")
    result = pipeline.naga("rerun", "results/train", "--workdir", str(tmp_path / "busy"))
    assert result.returncode == 2
    assert "already exists and is not empty" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_rerun_needs_a_recorded_repository(tmp_path: Path, run_naga):
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.lock").write_text(
        "naga_lock: 1\nrun_id: abc\nstatus: completed\nscript: {path: x.py, repo: null}\n"
        "config: {save_dir: run}\n"
    )
    result = run_naga("rerun", "run", cwd=tmp_path)
    assert result.returncode == 2
    assert "records no script inside a git repository" in result.stderr
