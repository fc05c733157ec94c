"""``naga diff`` and ``naga lineage`` on real runs; diff's volatility rules in-process."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest

from naga.commands.diff import compare
from naga.lock.metrics import flatten
from naga.results.locks import Run


def test_diff_reports_a_changed_config_key_and_exits_1(pipeline):
    result = pipeline.naga("diff", "results/train", "results/train_lr03")
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines()[2:] == ["config", "  lr: 0.1 → 0.3"]


def test_diff_of_equivalent_runs_exits_0(pipeline):
    result = pipeline.naga("diff", "results/train", "results/train_again/run.lock")
    assert result.returncode == 0, result.stdout
    assert "equivalent:" in result.stdout


def test_diff_compares_a_user_key_named_time(pipeline):
    result = pipeline.naga("diff", "results/train", "results/train_time2")
    assert result.returncode == 1
    assert "  time: 1 → 2" in result.stdout.splitlines()


def test_diff_code_and_files_for_a_dirty_run(pipeline):
    head = pipeline.git("rev-parse", "HEAD").strip()
    plain = pipeline.naga("diff", "results/train", "results/train_dirty")
    assert plain.returncode == 1
    assert f"commit {head[:8]} → commit {head[:8]} + snapshot tree" in plain.stdout
    assert "M train.py" not in plain.stdout
    files = pipeline.naga("diff", "--files", "results/train", "results/train_dirty")
    assert "      M train.py" in files.stdout.splitlines()


def test_diff_json(pipeline):
    result = pipeline.naga("diff", "--json", "results/train", "results/evaluate")
    assert result.returncode == 1
    sections = json.loads(result.stdout)
    assert sections["run"] == ["script.path: train.py → evaluate.py"]
    assert "lr: 0.1 → (absent)" in sections["config"]
    assert sections["lineage"][0].startswith("results/train: (absent) → run ")


def test_diff_missing_run_is_a_one_line_error(pipeline):
    result = pipeline.naga("diff", "results/train", "results/nope")
    assert result.returncode == 2
    assert result.stderr.startswith("naga diff: error: run 'results/nope' does not exist")
    assert len(result.stderr.strip().splitlines()) == 1


# -- in-process: which fields count is decided by position, not by name -------------------

BASE = {
    "naga_lock": 1,
    "run_id": "a" * 32,
    "status": "completed",
    "started_at": "2026-11-21T06:30:00+00:00",
    "finished_at": "2026-11-21T06:30:01+00:00",
    "duration_s": 1.0,
    "command": ["train.py"],
    "cwd": "/home/me/project",
    "host": "laptop",
    "script": {"path": "train.py", "repo": "/nonexistent/repo", "function": "main"},
    "environment": {"python": "3.11.7", "executable": "/a/python", "packages": {"numpy": "1.0"}},
    "config": {"lr": 0.1, "time": 5, "run_id": "x", "nested": {"host": "h"}, "save_dir": "r/a"},
    "metrics": {"loss": 0.3, "n": 10},
    "repos": {".": {"root": "/nonexistent/repo", "commit": "c" * 40, "dirty": False}},
    "data": {"raw": {"path": "data/raw.csv", "hash": "blake3:" + "1" * 64}},
    "prevs": {"prep": {"path": "../prep", "run_id": "p" * 32}},
}


def _run(lock: dict) -> Run:
    return Run(path=Path("/x/run.lock"), lock=lock)


def test_volatile_top_level_fields_are_ignored():
    other = copy.deepcopy(BASE)
    other.update(
        run_id="b" * 32,
        started_at="2027-01-01T00:00:00+00:00",
        finished_at="2027-01-01T01:00:00+00:00",
        duration_s=3600.0,
        command=["train.py", "save_dir=r/b"],
        cwd="/cluster/scratch",
        host="node042",
    )
    other["config"]["save_dir"] = "r/b"
    other["environment"]["executable"] = "/b/python"
    assert compare(_run(BASE), _run(other)) == {}


@pytest.mark.parametrize(
    ("path", "value", "section", "line"),
    [
        (("config", "time"), 6, "config", "time: 5 → 6"),
        (("config", "run_id"), "y", "config", "run_id: x → y"),
        (("config", "nested", "host"), "g", "config", "nested.host: h → g"),
        (
            ("data", "raw", "hash"),
            "blake3:" + "2" * 64,
            "data",
            "raw: blake3:111111111111 → blake3:222222222222",
        ),
        (("prevs", "prep", "run_id"), "q" * 32, "lineage", "prep: run pppppppp → run qqqqqqqq"),
        (("environment", "packages", "numpy"), "2.0", "environment", "packages.numpy: 1.0 → 2.0"),
        (("status",), "failed", "run", "status: completed → failed"),
        (("metrics", "loss"), 0.30000000000000004, "metrics", "loss: 0.3 → 0.30000000000000004"),
        (
            ("repos", ".", "commit"),
            "d" * 40,
            "code",
            # Receipts record trees; without one, the commit must be in a local clone.
            ".: commit cccccccc → commit dddddddd: cannot be compared here: commit cccccccc "
            "is not in /nonexistent/repo; commit dddddddd is not in /nonexistent/repo; "
            "fetch the missing commit (git fetch) and diff again",
        ),
    ],
)
def test_fields_that_matter_are_reported(path, value, section, line):
    other = copy.deepcopy(BASE)
    target = other
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert compare(_run(BASE), _run(other)) == {section: [line]}


def _with_tree(lock: dict, commit: str, tree: str) -> dict:
    lock = copy.deepcopy(lock)
    lock["repos"]["."].update(commit=commit, tree=tree)
    return lock


def test_two_commits_with_one_recorded_tree_are_the_same_code():
    # An amended message, a rebase: the receipts say which tree ran; no git is needed.
    old, new = _with_tree(BASE, "c" * 40, "e" * 40), _with_tree(BASE, "d" * 40, "e" * 40)
    assert compare(_run(old), _run(new)) == {}


def test_a_metric_only_one_run_has_is_reported():
    other = copy.deepcopy(BASE)
    del other["metrics"]["n"]
    other["metrics"]["acc"] = float("nan")
    assert compare(_run(BASE), _run(other)) == {
        "metrics": ["n: 10 → (absent)", "acc: (absent) → nan"]
    }


def test_nan_metrics_are_equal():
    old, new = copy.deepcopy(BASE), copy.deepcopy(BASE)
    old["metrics"]["loss"] = new["metrics"]["loss"] = float("nan")
    assert compare(_run(old), _run(new)) == {}


def test_dirty_code_without_a_snapshot_is_never_called_the_same():
    old, new = copy.deepcopy(BASE), copy.deepcopy(BASE)
    for lock in (old, new):
        lock["repos"]["."].update(dirty=True, snapshot=None, tree=None)
    assert compare(_run(old), _run(new)) == {
        "code": [
            ".: commit cccccccc (dirty, no snapshot) → commit cccccccc (dirty, no snapshot): "
            "cannot be compared here: its work tree was dirty and no snapshot was recorded"
        ]
    }


def test_hand_edited_entries_that_are_not_mappings_are_compared_not_fatal():
    other = copy.deepcopy(BASE)
    other["data"]["raw"] = "data/raw.csv"
    other["prevs"]["prep"] = None
    other["repos"]["."] = "somewhere"
    assert compare(_run(BASE), _run(other)) == {
        "code": [".: commit cccccccc → (absent)"],
        "data": ["raw: blake3:111111111111 → -"],
        "lineage": ["prep: run pppppppp → run -"],
    }


def test_flatten_keeps_lists_whole():
    assert flatten({"a": {"b": 1, "c": [1, 2]}, "d": {}}) == {"a.b": 1, "a.c": [1, 2], "d": {}}


# -- lineage ---------------------------------------------------------------------------------


def test_lineage_tree(pipeline):
    result = pipeline.naga("lineage", "results/evaluate")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("results/evaluate  completed")
    assert lines[1].startswith("├── results/train  completed")
    assert lines[2].startswith("│   └── results/prepare  completed")
    assert lines[3].startswith("└── results/prepare  completed")


def test_lineage_dot_and_mermaid(pipeline):
    dot = pipeline.naga("lineage", "--format", "dot", "results/evaluate").stdout
    assert dot.startswith("digraph lineage {")
    assert dot.count(" -> ") == 3
    mermaid = pipeline.naga("lineage", "--format", "mermaid", "results/evaluate").stdout
    assert mermaid.startswith("graph LR")
    assert mermaid.count(" --> ") == 3
    assert "results/train<br/>completed" in mermaid


def test_lineage_renders_svg_with_graphviz(pipeline, tmp_path: Path):
    out = tmp_path / "graph.svg"
    result = pipeline.naga("lineage", "results/evaluate", "--output", str(out))
    assert result.returncode == 0, result.stderr
    svg = out.read_text()
    assert "<svg" in svg and "results/prepare" in svg


def test_lineage_svg_without_graphviz_is_a_clear_error(pipeline, tmp_path: Path):
    # An empty PATH is how a machine without Graphviz looks to naga (python is run by path).
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    result = pipeline.naga(
        "lineage", "results/evaluate", "--output", str(tmp_path / "g.svg"), env={"PATH": str(empty)}
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert "Graphviz `dot` is not on PATH" in lines[0]
    assert "--output" in lines[0] and "g.dot" in lines[0]


def test_lineage_unknown_output_suffix(pipeline, tmp_path: Path):
    result = pipeline.naga("lineage", "results/evaluate", "-o", str(tmp_path / "g.jpeg"))
    assert result.returncode == 2
    assert "unknown file type '.jpeg'; use one of .svg" in result.stderr


def test_lineage_of_a_run_without_upstream(pipeline):
    result = pipeline.naga("lineage", "results/prepare")
    assert result.stdout.count("\n") == 1 and result.stdout.startswith("results/prepare")


def test_lineage_survives_deleted_upstream_dirs(pipeline, tmp_path: Path):
    # The graph comes from the lock's embedded upstream section, not from the disk.
    copied = tmp_path / "evaluate"
    copied.mkdir()
    (copied / "run.lock").write_bytes((pipeline.root / "results/evaluate/run.lock").read_bytes())
    result = pipeline.naga("lineage", str(copied), cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.count("completed") == 4
    assert os.path.basename(str(copied)) in result.stdout.splitlines()[0]
