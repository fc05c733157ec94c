"""The pieces in-process: metrics normalisation, query semantics, the receipt index."""

from __future__ import annotations

import json
import math
import os
import statistics
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from naga.errors import MetricsError, UsageError
from naga.lock import api
from naga.lock.api import runlock
from naga.lock.metrics import RETURN_KEY, from_return, normalize
from naga.lock.writer import read_lock
from naga.results import index
from naga.results.query import (
    Condition,
    group_rows,
    parse_sort,
    parse_where,
    resolve,
    scalar,
    sort_rows,
)

# ------------------------------------------------------------------------------ metrics


def test_metrics_are_flattened_with_dots_in_order() -> None:
    got = normalize({"loss": 0.5, "val": {"acc": 0.9, "top": {"5": 1}}, "epochs": 3})
    assert got == {"loss": 0.5, "val.acc": 0.9, "val.top.5": 1, "epochs": 3}
    assert list(got) == ["loss", "val.acc", "val.top.5", "epochs"]
    assert type(got["epochs"]) is int and type(got["loss"]) is float


def test_numpy_scalars_and_0d_arrays_are_numbers() -> None:
    np = pytest.importorskip("numpy")
    got = normalize({"a": np.float32(0.5), "b": np.int64(7), "c": np.array(2.5)})
    assert got == {"a": 0.5, "b": 7, "c": 2.5}
    assert type(got["b"]) is int
    with pytest.raises(MetricsError, match="metric 'v' is a ndarray"):
        normalize({"v": np.array([1.0, 2.0])})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (True, r"metric 'm' is a bool \(True\), not a number; record it as a number, e.g. int"),
        ("0.9", r"metric 'm' is a str \('0.9'\), not a number; record a number \(float"),
        (None, r"metric 'm' is a NoneType \(None\), not a number; leave the metric out"),
        ([1, 2], r"metric 'm' is a list \(\[1, 2\]\), not a number; record one number per name"),
    ],
)
def test_non_numbers_are_refused_with_their_key(value: Any, message: str) -> None:
    with pytest.raises(MetricsError, match=r"^runlock\(metrics=...\): " + message):
        normalize({"m": value})


def test_metrics_files_json_and_yaml(tmp_path: Path) -> None:
    (tmp_path / "m.json").write_text('{"loss": NaN, "val": {"acc": 0.5}, "big": Infinity}')
    got = normalize(tmp_path / "m.json")
    assert math.isnan(got["loss"]) and got["big"] == math.inf and got["val.acc"] == 0.5
    (tmp_path / "m.yaml").write_text("loss: .nan\nval:\n  acc: 0.5\n")
    assert normalize(str(tmp_path / "m.yaml"))["val.acc"] == 0.5
    (tmp_path / "bad.json").write_text("{loss: 1}")
    with pytest.raises(MetricsError, match=r"bad.json'\): the file is not valid JSON"):
        normalize(tmp_path / "bad.json")
    with pytest.raises(MetricsError, match=r"cannot read the file: No such file"):
        normalize(tmp_path / "nope.json")
    (tmp_path / "list.yaml").write_text("- 1\n")
    with pytest.raises(MetricsError, match=r"list.yaml takes a mapping of names to numbers"):
        normalize(tmp_path / "list.yaml")
    (tmp_path / "text.yaml").write_text("acc: high\n")
    with pytest.raises(MetricsError, match=r"text.yaml: metric 'acc' is a str"):
        normalize(tmp_path / "text.yaml")


def test_empty_metric_name_is_refused() -> None:
    with pytest.raises(MetricsError, match="metric names must not be empty"):
        normalize({"val": {"": 1}})


def test_return_values() -> None:
    assert from_return(0.25) == ({RETURN_KEY: 0.25}, [])
    assert RETURN_KEY == "value"
    assert from_return({"loss": 1, "val": {"acc": 0.5}, "model": object()}) == (
        {"loss": 1, "val.acc": 0.5},
        ["model"],
    )
    for nothing in (None, True, "done", [1, 2], object()):
        assert from_return(nothing) == ({}, [])


@pytest.fixture
def in_tmp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    api._reset_process_runs()
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    api._reset_process_runs()


def test_runlock_metrics_merge_across_calls_and_keep_nan_inf(in_tmp: Path) -> None:
    cfg = {"save_dir": "out"}
    runlock(cfg, metrics={"loss": 0.5, "nan": math.nan})
    path = runlock(cfg, metrics={"loss": 0.25, "inf": -math.inf, "val": {"acc": 1}})
    lock = read_lock(path)
    assert list(lock["metrics"]) == ["loss", "nan", "inf", "val.acc"]
    assert lock["metrics"]["loss"] == 0.25 and math.isnan(lock["metrics"]["nan"])
    assert lock["metrics"]["inf"] == -math.inf
    assert "  nan: .nan\n" in path.read_text() and "  inf: -.inf\n" in path.read_text()
    with pytest.raises(MetricsError, match="metric 'acc' is a str"):
        runlock(cfg, metrics={"acc": "high"})
    assert read_lock(path) == lock  # an error writes nothing


def test_a_new_process_replaces_the_metrics(in_tmp: Path) -> None:
    runlock({"save_dir": "out"}, metrics={"old": 1})
    api._reset_process_runs()  # as if a new process ran the script again
    path = runlock({"save_dir": "out"})
    assert read_lock(path)["metrics"] == {}


finite = st.floats(allow_nan=False, allow_infinity=False)
moderate = st.floats(-1e100, 1e100, allow_nan=False)
names = st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=8)


@given(st.dictionaries(names, st.one_of(st.integers(-(2**62), 2**62), finite, st.just(math.inf))))
def test_metrics_read_back_equal(tmp_path_factory: pytest.TempPathFactory, metrics: dict) -> None:
    api._reset_process_runs()
    target = tmp_path_factory.mktemp("m") / "run.lock"
    runlock({"x": 1}, runlock_path=target, metrics=metrics)
    assert read_lock(target)["metrics"] == metrics


# ------------------------------------------------------------------------------ query

COLUMNS = ["run", "status", "config.lr", "config.loss", "metrics.loss", "metrics.acc"]
ROWS: list[dict[str, Any]] = [
    {"run": "a", "status": "completed", "config.lr": 0.1, "metrics.acc": 0.5},
    {"run": "b", "status": "failed", "config.lr": 1, "metrics.acc": None},
    {"run": "c", "status": "completed", "metrics.acc": 0.7},
]


def test_short_keys_resolve_when_unambiguous() -> None:
    assert resolve("lr", COLUMNS, option="--x") == "config.lr"
    assert resolve("acc", COLUMNS, option="--x") == "metrics.acc"
    assert resolve("status", COLUMNS, option="--x") == "status"
    with pytest.raises(UsageError, match=r"^--x: 'loss' is ambiguous: it could be config.loss or"):
        resolve("loss", COLUMNS, option="--x")
    with pytest.raises(UsageError, match=r"unknown column 'acx'. Did you mean 'acc'\?"):
        resolve("acx", COLUMNS, option="--x")


def test_scalars_as_typed() -> None:
    assert [scalar(t) for t in ("1", "0.5", "1e-3", "true", "False", "null", "adam")] == [
        1, 0.5, 0.001, True, False, None, "adam",
    ]  # fmt: skip


def where(*expressions: str) -> list[str]:
    conditions = parse_where(expressions, COLUMNS, ROWS)
    return [row["run"] for row in ROWS if all(c.matches(row) for c in conditions)]


def test_where_semantics_follow_pandas() -> None:
    assert where("lr=0.1") == ["a"]
    assert where("lr=1.0") == ["b"]  # 1 == 1.0
    assert where("lr!=0.1") == ["b", "c"]  # c has no lr: != keeps it
    assert where("lr<1") == ["a"]  # ... and ordering drops it
    assert where("acc>=0.5") == ["a", "c"]  # null never orders
    assert where("status=completed", "acc>0.6") == ["c"]
    assert where("run>=b") == ["b", "c"]  # text orders as text
    assert where("acc=null") == ["b"]
    with pytest.raises(UsageError, match=r"^--where 'lr<x': config.lr holds numbers"):
        where("lr<x")
    with pytest.raises(UsageError, match=r"^--where 'lr=': not an expression"):
        where("lr=")


def test_where_refuses_what_can_match_nothing() -> None:
    with pytest.raises(
        UsageError, match=r"^--where 'lr=abc': config.lr holds numbers \(e.g. 0.1\)"
    ):
        where("lr=abc")
    with pytest.raises(UsageError, match=r"'=>' is not an operator; did you mean acc>=0.5\?"):
        where("acc=>0.5")
    with pytest.raises(UsageError, match=r"'<>' is not an operator; did you mean lr!=1\?"):
        where("lr<>1")
    with pytest.raises(UsageError, match=r"'lost2' is not a run status. Did you mean 'lost'\?"):
        where("status=lost2")
    # A value that merely starts with an operator sign is fine when a cell holds it.
    rows = [{"run": "a", "status": "completed", "config.tag": "<none>"}]
    assert [c.text for c in parse_where(["tag=<none>"], ["run", "status", "config.tag"], rows)] == [
        "<none>"
    ]
    assert where("status=lost") == []  # a status no run has yet is still a status
    assert where("lr=null") == ["c"]


def test_sort_puts_missing_last_both_ways() -> None:
    up = sort_rows(ROWS, parse_sort("lr", COLUMNS))
    down = sort_rows(ROWS, parse_sort("-lr", COLUMNS))
    assert [r["run"] for r in up] == ["a", "b", "c"]
    assert [r["run"] for r in down] == ["b", "a", "c"]
    both = sort_rows(ROWS, parse_sort("status,-acc", COLUMNS))
    assert [r["run"] for r in both] == ["c", "a", "b"]
    with pytest.raises(UsageError, match=r"^--sort 'lr,': empty key"):
        parse_sort("lr,", COLUMNS)


def exact_stdev(values: list[float]) -> float:
    """The sample standard deviation in exact arithmetic, rounded once at the end.

    ``statistics.stdev`` is correctly rounded only from Python 3.11 on; on 3.10 it returns
    0.0 for subnormal spreads. Scaling by the largest magnitude keeps the square of tiny
    values from underflowing.
    """
    scale = Fraction(max(abs(v) for v in values)) or Fraction(1)
    xs = [Fraction(v) / scale for v in values]
    mean = sum(xs) / len(xs)
    variance = sum((x - mean) ** 2 for x in xs) / (len(xs) - 1)
    return math.sqrt(float(variance)) * float(scale)


@given(
    st.lists(st.tuples(st.sampled_from([0.1, 0.3, 1]), st.one_of(st.none(), moderate)), max_size=30)
)
def test_group_by_agrees_with_statistics(pairs: list[tuple[float, float | None]]) -> None:
    rows = [{"config.lr": lr, "metrics.m": m} for lr, m in pairs]
    groups = group_rows(rows, ["config.lr"])
    assert [g["config.lr"] for g in groups] == sorted({lr for lr, _ in pairs})
    for group in groups:
        values = [m for lr, m in pairs if lr == group["config.lr"] and m is not None]
        assert group["runs"] == sum(lr == group["config.lr"] for lr, _ in pairs)
        assert group["metrics.m.count"] == len(values)
        if not values:
            assert group["metrics.m.mean"] is None
            continue
        assert group["metrics.m.min"] == min(values)
        assert group["metrics.m.max"] == max(values)
        assert group["metrics.m.mean"] == pytest.approx(statistics.fmean(values), rel=1e-9)
        if len(values) > 1:
            expected = exact_stdev(values)
            scale = max(abs(v) for v in values)
            assert group["metrics.m.std"] == pytest.approx(expected, rel=1e-6, abs=1e-13 * scale)
        else:
            assert group["metrics.m.std"] is None


def test_group_by_survives_huge_values() -> None:
    (group,) = group_rows([{"k": 1, "metrics.m": 1e308}, {"k": 1, "metrics.m": 1e308}], ["k"])
    assert group["metrics.m.mean"] == math.inf and group["metrics.m.max"] == 1e308


def test_conditions_are_plain_data() -> None:
    condition = Condition("config.lr", "<", "1", 1)
    assert condition.matches({"config.lr": 0.5}) and not condition.matches({})


# ------------------------------------------------------------------------------ index


@pytest.fixture
def receipts(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Three receipts old enough to be indexed, and a counter of parsed files."""
    for name in ("a", "b", "c"):
        runlock({"save_dir": f"results/{name}", "lr": 0.1}, metrics={"loss": 0.5})
    old = time.time() - 60
    for path in (in_tmp / "results").glob("*/run.lock"):
        os.utime(path, (old, old))
    # ctime cannot be set back: a window of 0 lets these files be indexed at once.
    monkeypatch.setattr(index, "RACY_WINDOW_NS", 0)
    return in_tmp / "results"


def counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    parsed: list[str] = []
    real = index.read_row

    def read_row(path: Path) -> dict[str, Any]:
        parsed.append(path.parent.name)
        return real(path)

    monkeypatch.setattr(index, "read_row", read_row)
    return parsed


def test_unchanged_receipts_are_never_parsed_again(receipts: Path, monkeypatch) -> None:
    parsed = counting(monkeypatch)
    first = index.collect([receipts])
    assert sorted(parsed) == ["a", "b", "c"]
    second = index.collect([receipts])
    assert sorted(parsed) == ["a", "b", "c"]  # nothing more
    assert [f.row for f in first] == [f.row for f in second]
    assert [f.rel for f in second] == ["a", "b", "c"]
    # Listing the run directory itself, or its run.lock, uses the same rows.
    index.collect([receipts / "b", receipts / "c" / "run.lock"])
    assert sorted(parsed) == ["a", "b", "c"]

    time.sleep(0.02)
    runlock({"save_dir": "results/b", "lr": 0.2}, metrics={"loss": 0.25})  # same run: merged
    third = index.collect([receipts])
    assert sorted(parsed) == ["a", "b", "b", "c"]
    assert {f.rel: f.row["metrics.loss"] for f in third if f.row} == {"a": 0.5, "b": 0.25, "c": 0.5}


def test_fresh_receipts_are_not_stored(in_tmp: Path, monkeypatch) -> None:
    runlock({"save_dir": "results/a"})
    parsed = counting(monkeypatch)
    index.collect([in_tmp / "results"])
    index.collect([in_tmp / "results"])
    # Within the racy window an edit could keep the stamps: read it every time.
    assert parsed == ["a", "a"]


def test_no_cache_means_no_index(receipts: Path, monkeypatch) -> None:
    monkeypatch.setenv("NAGA_NO_CACHE", "1")
    parsed = counting(monkeypatch)
    index.collect([receipts])
    index.collect([receipts])
    assert len(parsed) == 6
    assert not index.index_path().exists()


def test_a_corrupt_index_is_replaced(receipts: Path, monkeypatch) -> None:
    index.index_path().parent.mkdir(parents=True, exist_ok=True)
    index.index_path().write_bytes(b"not a database" * 100)
    monkeypatch.setattr(index, "_warned", False)
    with pytest.warns(index.IndexWarning, match="is unusable .*; recreating it"):
        found = index.collect([receipts])
    assert len(found) == 3
    parsed = counting(monkeypatch)
    index.collect([receipts])
    assert parsed == []


def test_rows_hold_what_the_table_needs(receipts: Path) -> None:
    (found, *_) = index.collect([receipts])
    row = found.row
    assert row is not None
    assert row["status"] == "completed" and row["metrics.loss"] == 0.5
    assert row["config.lr"] == 0.1 and row["config.save_dir"] == "results/a"
    assert not any(key.startswith("_") for key in row)  # liveness only for running receipts
    assert json.loads(json.dumps(row)) == row


def test_missing_root_is_an_error(in_tmp: Path) -> None:
    with pytest.raises(Exception, match="directory 'nope' does not exist"):
        index.collect(["nope"])


def test_a_damaged_index_row_is_read_from_its_receipt(receipts: Path, monkeypatch) -> None:
    import sqlite3

    index.collect([receipts])
    with sqlite3.connect(index.index_path()) as conn:
        conn.execute("UPDATE receipts SET row = '{\"status\": ' WHERE path LIKE '%/b/run.lock'")
    conn.close()
    parsed = counting(monkeypatch)
    found = index.collect([receipts])
    assert parsed == ["b"]
    assert [f.row["metrics.loss"] for f in found if f.row] == [0.5, 0.5, 0.5]
    index.collect([receipts])
    assert parsed == ["b"]  # repaired in the index


# ------------------------------------------------------------------------------ the queue


@pytest.fixture
def squeue(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What Slurm's queue holds (job id -> state), and how often it was asked.

    In-process stand-in for ``squeue`` (naga.lock.slurm.slurm_queue); the real queue is
    asked in tests/launch/test_preempt.py.
    """
    from naga.lock import liveness, slurm

    held: dict[str, Any] = {"states": {}, "calls": 0}

    def slurm_queue(job_ids: Any, *, timeout: float = 30) -> slurm.QueueView:
        held["calls"] += 1
        return slurm.QueueView(answered=True, states=dict(held["states"]))

    monkeypatch.setattr(slurm, "slurm_queue", slurm_queue)
    monkeypatch.setattr(liveness, "_slurm_cache", {})
    return held


@pytest.mark.parametrize(
    ("recorded", "state", "shown"),
    [
        ("interrupted", "PENDING", "requeued"),  # Slurm could not be asked when SIGTERM came
        ("interrupted", "REQUEUED", "requeued"),
        ("interrupted", None, "interrupted"),  # scancel: the job left the queue
        ("interrupted", "COMPLETING", "interrupted"),  # ... and is leaving it
        ("requeued", "PENDING", "requeued"),
        ("requeued", None, "lost"),  # cancelled while it waited
        ("running", "PENDING", "requeued"),  # killed before it could write
        ("running", "RUNNING", "running"),
        ("running", None, "lost"),
        ("completed", "PENDING", "completed"),  # a completed run is not run again
        ("failed", "PENDING", "failed"),
    ],
)
def test_readers_ask_the_queue_first(
    squeue: dict[str, Any], recorded: str, state: str | None, shown: str
) -> None:
    from naga.lock.liveness import effective_status

    if state is not None:
        squeue["states"]["77_1"] = state
    lock = {"status": recorded, "slurm_job_id": "77_1", "pid": 1, "host": "another host"}
    assert effective_status(lock) == shown
    assert effective_status({**lock, "slurm_job_id": None}) == recorded  # no Slurm job


def test_ls_asks_the_queue_once_for_every_run(in_tmp: Path, squeue: dict[str, Any]) -> None:
    from naga.lock.format import dumps
    from naga.results.frame import rows_below

    for num in range(40):
        run = in_tmp / "results" / f"job-{num}"
        run.mkdir(parents=True)
        status = ("interrupted", "requeued", "running", "completed")[num % 4]
        lock = {"naga_lock": 1, "run_id": f"r{num}", "status": status}
        lock |= {"slurm_job_id": f"9_{num}", "pid": 1, "host": "another host"}
        (run / "run.lock").write_text(dumps(lock))
    squeue["states"].update({f"9_{num}": "PENDING" for num in range(40) if num % 8 in (0, 2)})
    rows, problems = rows_below([in_tmp / "results"], relative_to_root=True)
    assert problems == []
    assert squeue["calls"] == 1
    shown = {row["run"]: row["status"] for row in rows}
    assert shown["job-0"] == shown["job-2"] == "requeued"  # interrupted / running, pending again
    assert shown["job-1"] == "lost"  # requeued, but no longer in the queue
    assert shown["job-4"] == "interrupted" and shown["job-6"] == "lost"  # gone from it
    assert shown["job-3"] == "completed"
