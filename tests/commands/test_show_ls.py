"""``naga show`` and ``naga ls`` on real runs of the pipeline, through subprocesses."""

from __future__ import annotations

import json
from pathlib import Path

import yaml


def test_show_summarizes_a_completed_run(pipeline):
    result = pipeline.naga("show", "results/train")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    lock = yaml.safe_load((pipeline.root / "results/train/run.lock").read_text())
    head = pipeline.git("rev-parse", "HEAD").strip()
    assert "status    completed" in out
    assert f"run id    {lock['run_id']}" in out
    assert "command   train.py" in out
    assert f"commit {head[:8]} (main) clean" in out
    assert lock["data"]["results/prepare/prepared.txt"]["hash"] in out
    assert "stage            path        run       status" in out
    assert f"results/prepare  ../prepare  {lock['prevs']['results/prepare']['run_id'][:8]}" in out
    assert "  lr: 0.1" in out
    assert "  time: 1" in out


def test_show_lineage_columns_line_up(pipeline):
    """Stages with keys and paths of different lengths: each column starts at one offset."""
    out = pipeline.naga("show", "results/evaluate").stdout
    lines = out.split("\nlineage\n")[1].split("\n\n")[0].splitlines()
    lock = yaml.safe_load((pipeline.root / "results/evaluate/run.lock").read_text())
    prevs = lock["prevs"]
    assert len({len(key) for key in prevs}) > 1  # the case that went wrong
    rows = {key: next(line for line in lines if line.startswith(f"  {key} ")) for key in prevs}
    header = lines[0]
    assert header.split() == ["stage", "path", "run", "status"]
    for key, row in rows.items():
        entry = prevs[key]
        assert row.index(f" {entry['path']} ") + 1 == header.index(" path ") + 1
        assert row.index(entry["run_id"][:8]) == header.index(" run ") + 1
        assert row.index("completed") == header.index(" status") + 1


def test_show_dirty_run_names_its_snapshot(pipeline):
    out = pipeline.naga("show", "results/train_dirty/run.lock").stdout
    lock = yaml.safe_load((pipeline.root / "results/train_dirty/run.lock").read_text())
    snapshot = lock["repos"]["."]["snapshot"]
    assert f"dirty, snapshot {snapshot['commit'][:8]} ({snapshot['ref']})" in out


def test_show_failed_run_shows_the_error(pipeline):
    out = pipeline.naga("show", "results/train_failed").stdout
    assert "status    failed" in out
    assert "RuntimeError: asked to fail" in out


def test_show_json_is_the_whole_lock(pipeline):
    result = pipeline.naga("show", "--json", "results/evaluate")
    assert result.returncode == 0
    assert json.loads(result.stdout) == yaml.safe_load(
        (pipeline.root / "results/evaluate/run.lock").read_text()
    )


def blocks(stdout: str) -> dict[str, list[list[str]]]:
    """``naga ls``'s default table: {script: [header, *rows]} (cells split on spaces)."""
    out = {}
    for block in stdout.strip().split("\n\n"):
        title, *lines = block.splitlines()
        script, count = title.split("  ")
        out[script] = [line.split() for line in lines]
        assert count == f"({len(lines) - 1} run{'s' if len(lines) != 2 else ''})"
    return out


def test_ls_one_block_per_script_newest_first_with_differing_keys(pipeline):
    result = pipeline.naga("ls")
    assert result.returncode == 0, result.stderr
    tables = blocks(result.stdout)
    # The block of the newest run comes first; each block is newest first.
    assert list(tables) == ["train.py", "evaluate.py", "prepare.py"]
    train = tables["train.py"]
    # Only keys that differ within the block become columns; save_dir never does.
    assert train[0] == ["RUN", "STATUS", "FINISHED", "DURATION", "lr", "time", "fail"]
    names = [row[0] for row in train[1:]]
    assert names[0] == "results/train_dirty"  # made last
    assert set(names) == {
        "results/train",
        "results/train_again",
        "results/train_lr03",
        "results/train_time2",
        "results/train_failed",
        "results/train_dirty",
    }
    row = next(row for row in train if row[0] == "results/train_lr03")
    assert row[1] == "completed" and row[-3:] == ["0.3", "1", "false"]
    # A stage run once has nothing that differs: no config columns.
    assert tables["prepare.py"] == [
        ["RUN", "STATUS", "FINISHED", "DURATION"],
        ["results/prepare", "completed", *tables["prepare.py"][1][2:]],
    ]


def test_ls_filters_by_status_and_lists_below_a_dir(pipeline):
    failed = pipeline.naga("ls", "--status", "failed", "results")
    assert failed.returncode == 0
    rows = blocks(failed.stdout)["train.py"][1:]
    assert [row[:2] for row in rows] == [["results/train_failed", "failed"]]
    none = pipeline.naga("ls", "--status", "interrupted")
    assert none.stdout.strip() == "no run.lock with status interrupted below ."


def test_ls_json_is_an_array_of_runs(pipeline):
    result = pipeline.naga("ls", "--json", "results")
    records = json.loads(result.stdout)
    assert len(records) == 8
    by_dir = {Path(rec["run"]).name: rec for rec in records}
    assert by_dir["train_lr03"]["config.lr"] == 0.3
    assert by_dir["train_failed"]["status"] == "failed"
    assert by_dir["prepare"]["config.lr"] is None  # every run has every column
    assert pipeline.naga("ls", "--format", "json", "results").stdout == result.stdout


def test_ls_skips_a_broken_lock_with_a_warning(tmp_path: Path, run_naga):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "run.lock").write_text("naga_lock: 7\n")
    result = run_naga("ls", cwd=tmp_path)
    assert result.returncode == 0
    assert "format version 7" in result.stderr
    assert result.stdout.strip() == "no run.lock below ."
