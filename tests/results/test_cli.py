"""Results of a real sweep: metrics in run.lock, naga.runs(), naga ls and naga plot.

Every number a command prints is checked against the value computed here from the
formula the app uses (``loss_of``), not against another naga output.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import statistics
from pathlib import Path

import pytest
import yaml
from results_lab import LRS, SEEDS, loss_of

JOBS = [(lr, seed) for lr in LRS for seed in SEEDS]


def job_dir(lr: float, seed: int) -> str:
    return f"train/lr={lr},seed={seed}"


def one_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


def test_receipts_hold_the_metrics_of_every_source(lab) -> None:
    for lr, seed in JOBS:
        lock = yaml.safe_load((lab.root / "results" / job_dir(lr, seed) / "run.lock").read_text())
        loss = loss_of(lr, seed)
        # The return value (loss), runlock(metrics=...) nested (val.acc), a JSON file (steps).
        assert lock["metrics"] == {"val.acc": 1 - loss, "steps": 100 + seed, "loss": loss}
    score = yaml.safe_load((lab.root / "results/score/run.lock").read_text())
    assert score["metrics"] == {"value": 0.75}  # a bare number is recorded as `value`


def test_runs_dataframe_columns_and_dtypes(lab) -> None:
    import naga

    df = naga.runs(lab.root / "results")
    assert len(df) == 10
    assert list(df.columns[:11]) == [
        "run", "status", "started_at", "finished_at", "duration_s", "script", "commit",
        "dirty", "sweep", "sweep.job", "run_id",
    ]  # fmt: skip
    assert {
        "config.lr", "config.seed", "config.optimizer", "config.layers", "config.model.width",
        "config.model.dropout", "config.save_dir", "config.split", "metrics.val.acc",
        "metrics.steps", "metrics.loss", "metrics.value",
    } <= set(df.columns)  # fmt: skip
    dtypes = {column: str(dtype) for column, dtype in df.dtypes.items()}
    assert dtypes["config.lr"] == "float64"
    assert dtypes["config.seed"] == "Int64"  # score has no seed: nullable ints
    assert dtypes["config.model.width"] == "Int64"
    assert dtypes["metrics.loss"] == "float64"
    assert dtypes["metrics.steps"] == "Int64"
    assert dtypes["duration_s"] == "float64"
    assert dtypes["dirty"] == "bool"
    assert dtypes["started_at"].startswith("datetime64[") and dtypes["started_at"].endswith("UTC]")
    assert dtypes["config.layers"] == "object"  # lists stay whole
    assert set(df["status"]) == {"completed"}
    assert set(df["script"]) == {"train.py", "score.py"}

    train = df[df["script"] == "train.py"].set_index("run")
    assert set(train.index) == {job_dir(lr, seed) for lr, seed in JOBS}
    for lr, seed in JOBS:
        row = train.loc[job_dir(lr, seed)]
        assert row["config.lr"] == lr and row["config.seed"] == seed
        assert row["metrics.loss"] == loss_of(lr, seed)
        assert row["sweep.job"] == f"lr={lr},seed={seed}"
    assert train["sweep"].nunique() == 1 and train["config.layers"].iloc[0] == [8, 4]
    head = (lab.root / ".git" / "refs" / "heads" / "main").read_text().strip()
    assert set(df["commit"]) == {head}

    picked = naga.runs(lab.root / "results", where=["lr=0.1", "seed>=1"], status="completed")
    assert sorted(picked["run"]) == [job_dir(0.1, 1), job_dir(0.1, 2)]


def test_ls_where_sort_and_columns_as_csv(lab) -> None:
    result = lab.naga(
        "ls", "results", "--where", "lr>=0.1", "--where", "seed!=2", "--sort", "-loss",
        "--columns", "lr,seed,loss,val.acc", "--format", "csv",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == ["run", "config.lr", "config.seed", "metrics.loss", "metrics.val.acc"]
    expected = sorted(
        ((lr, seed) for lr, seed in JOBS if lr >= 0.1 and seed != 2),
        key=lambda job: loss_of(*job),
        reverse=True,
    )
    assert [(float(r["config.lr"]), int(r["config.seed"])) for r in rows] == expected
    # Floats are written exactly: they parse back to the very values computed here.
    assert [float(r["metrics.loss"]) for r in rows] == [loss_of(*job) for job in expected]
    assert [r["run"] for r in rows] == [f"results/{job_dir(*job)}" for job in expected]


def test_ls_sort_takes_a_dash_value_as_its_own_argument(lab) -> None:
    apart = lab.naga("ls", "results/train", "--sort", "-loss", "--format", "json")
    joined = lab.naga("ls", "results/train", "--sort=-loss", "--format", "json")
    assert apart.returncode == 0, apart.stderr
    assert apart.stdout == joined.stdout
    losses = [run["metrics.loss"] for run in json.loads(apart.stdout)]
    assert losses == sorted((loss_of(*job) for job in JOBS), reverse=True)


def test_group_by_aggregates_every_metric_across_seeds(lab) -> None:
    result = lab.naga("ls", "results/train", "--group-by", "lr", "--format", "json")
    assert result.returncode == 0, result.stderr
    groups = json.loads(result.stdout)
    assert [g["config.lr"] for g in groups] == list(LRS)
    for group in groups:
        lr = group["config.lr"]
        losses = [loss_of(lr, seed) for seed in SEEDS]
        assert group["runs"] == 3
        assert group["metrics.loss.count"] == 3
        assert group["metrics.loss.mean"] == pytest.approx(statistics.mean(losses), rel=1e-12)
        assert group["metrics.loss.std"] == pytest.approx(statistics.stdev(losses), rel=1e-9)
        assert group["metrics.loss.min"] == min(losses)
        assert group["metrics.loss.max"] == max(losses)
        steps = [100 + seed for seed in SEEDS]
        assert group["metrics.steps.mean"] == pytest.approx(statistics.mean(steps))

    two = json.loads(lab.naga("ls", "results/train", "--group-by", "lr,seed", "--json").stdout)
    assert [(g["config.lr"], g["config.seed"], g["runs"]) for g in two] == [
        (lr, seed, 1) for lr, seed in JOBS
    ]
    assert all(g["metrics.loss.std"] is None for g in two)  # undefined for one run


def test_group_by_as_markdown(lab) -> None:
    result = lab.naga("ls", "results/train", "--group-by", "lr", "--format", "markdown")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("| lr | runs | val.acc.mean | val.acc.std |")
    assert "loss.mean" in lines[0] and "loss.count" not in lines[0]  # no run lacks it
    assert lines[1].startswith("|---:|---:|")
    assert [line.split(" | ")[0] for line in lines[2:]] == [f"| {lr}" for lr in LRS]


def test_json_and_csv_parse_back_to_the_runs_table(lab) -> None:
    import naga

    df = naga.runs(lab.root / "results").set_index("run")
    records = json.loads(lab.naga("ls", "results", "--format", "json").stdout)
    table = list(csv.DictReader(io.StringIO(lab.naga("ls", "results", "--format", "csv").stdout)))
    assert len(records) == len(table) == len(df) == 10
    assert list(records[0]) == list(table[0]) == ["run", *df.columns]
    for record, row in zip(records, table, strict=True):
        assert record["run"] == row["run"]
        expected = df.loc[record["run"].removeprefix("results/")]
        assert record["run_id"] == row["run_id"] == expected["run_id"]
        assert record["started_at"] == row["started_at"]
        assert record["dirty"] is False and row["dirty"] == "false"
        if expected["script"] == "train.py":
            assert record["metrics.loss"] == float(row["metrics.loss"]) == expected["metrics.loss"]
            assert record["config.seed"] == int(row["config.seed"]) == expected["config.seed"]
            assert record["config.layers"] == json.loads(row["config.layers"]) == [8, 4]
            assert record["metrics.value"] is None and row["metrics.value"] == ""
        else:
            assert record["metrics.value"] == float(row["metrics.value"]) == 0.75


def test_default_table_has_one_block_per_script_with_the_keys_that_differ(lab) -> None:
    result = lab.naga("ls", "results")
    assert result.returncode == 0, result.stderr
    score, train = result.stdout.strip().split("\n\n")  # newest block first
    score_lines, train_lines = score.splitlines(), train.splitlines()
    assert score_lines[0] == "score.py  (1 run)"
    assert score_lines[1].split() == ["RUN", "STATUS", "FINISHED", "DURATION", "value"]
    assert score_lines[2].split()[0] == "results/score" and score_lines[2].endswith("0.75")
    assert train_lines[0] == "train.py  (9 runs)"
    # lr and seed vary; optimizer, model.*, layers and save_dir do not (or never count).
    assert train_lines[1].split() == [
        "RUN", "STATUS", "FINISHED", "DURATION", "lr", "seed", "val.acc", "steps", "loss",
    ]  # fmt: skip
    assert len(train_lines) == 2 + 9


def test_plot_json_gives_mean_and_band_per_x(lab) -> None:
    result = lab.naga("plot", "results", "--x", "lr", "--y", "loss", "--json")
    assert result.returncode == 0, result.stderr
    plotted = json.loads(result.stdout)
    assert (plotted["x"], plotted["y"], plotted["hue"]) == ("config.lr", "metrics.loss", None)
    assert plotted["runs"] == 9 and plotted["left_out"] == 1  # score has no lr
    (line,) = plotted["series"]
    assert line["x"] == list(LRS)
    for i, lr in enumerate(LRS):
        losses = [loss_of(lr, seed) for seed in SEEDS]
        assert line["mean"][i] == pytest.approx(statistics.mean(losses), rel=1e-12)
        assert line["std"][i] == pytest.approx(statistics.stdev(losses), rel=1e-9)
        assert (line["min"][i], line["max"][i], line["n"][i]) == (min(losses), max(losses), 3)

    by_seed = json.loads(
        lab.naga(
            "plot",
            "results/train",
            "--x",
            "lr",
            "--y",
            "loss",
            "--hue",
            "seed",
            "--where",
            "lr!=0.01",
            "--json",
        ).stdout
    )
    assert [s["hue"] for s in by_seed["series"]] == list(SEEDS)
    for line in by_seed["series"]:
        assert line["x"] == [0.1, 0.3]
        assert line["mean"] == [loss_of(lr, line["hue"]) for lr in (0.1, 0.3)]
        assert line["n"] == [1, 1] and line["std"] == [None, None]


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_plot_writes_a_figure(lab, tmp_path: Path, suffix: str) -> None:
    target = tmp_path / f"loss by lr{suffix}"
    result = lab.naga(
        "plot", "results/train", "--x", "lr", "--y", "loss", "--hue", "seed", "--logx",
        "--band", "std", "-o", str(target),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"wrote {target}: metrics.loss against config.lr, 3 lines")
    head = target.read_bytes()[:200]
    assert head.startswith(b"\x89PNG") if suffix == ".png" else b"<svg" in head


def test_ls_imports_neither_pandas_nor_matplotlib(lab) -> None:
    code = (
        "import sys; from naga.commands.main import main; main(['ls', 'results']); "
        "print([m for m in ('pandas', 'matplotlib', 'numpy') if m in sys.modules], "
        "file=sys.stderr)"
    )
    result = lab.python("-c", code)
    assert result.stderr.strip() == "[]"


PLOT_LR = ["plot", "results", "--x", "lr"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["ls", "--where", "lrr=1"], "--where 'lrr=1': unknown column 'lrr'. Did you mean 'lr'?"),
        (["ls", "--sort", "-lsos"], "--sort '-lsos': unknown column 'lsos'. Did you mean 'loss'?"),
        (["ls", "--where", "lr"], "--where 'lr': not an expression; write KEY=VALUE"),
        (["ls", "--where", "=3"], "--where '=3': not an expression"),
        (["ls", "--where", "lr<abc"], "config.lr holds numbers (e.g. 0.01) but 'abc' is not"),
        (["ls", "--where", "lr=abc"], "config.lr holds numbers (e.g. 0.01) but 'abc' is not a"),
        (["ls", "--where", "lr!=abc"], "so it can equal no run; compare it with a number"),
        (["ls", "--where", "lr=>0.1"], "'=>' is not an operator; did you mean lr>=0.1?"),
        (["ls", "--where", "lr=<0.1"], "'=<' is not an operator; did you mean lr<=0.1?"),
        (["ls", "--where", "status=complete"], "not a run status. Did you mean 'completed'?"),
        (["ls", "--where", "dirty=yes"], "dirty holds true/false (e.g. 'false') but 'yes' is"),
        (["ls", "--group-by", "sed"], "--group-by: unknown column 'sed'. Did you mean 'seed'?"),
        (["ls", "--columns", "lr,,seed"], "--columns 'lr,,seed': empty key in the list"),
        (["plot", "results", "--x", "lrr", "--y", "loss"], "--x: unknown column 'lrr'. Did you"),
        ([*PLOT_LR, "--y", "optimizer"], "has 'sgd', which is not a number"),
        ([*PLOT_LR, "--y", "loss", "-o", "a.jpeg"], "unknown file type '.jpeg'"),
        ([*PLOT_LR, "--y", "loss", "--where", "lr>9"], "no runs to plot below"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_exit_2(lab, args: list[str], expected: str) -> None:
    result = lab.naga(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    line = one_line(result.stderr)
    assert line.startswith(f"naga {args[0]}: error: ")
    assert expected in line


@pytest.mark.parametrize("where", ["lr=0.7", "status=failed", "optimizer=adam", "lr>=9"])
def test_a_valid_query_matching_nothing_is_exit_0(lab, where: str) -> None:
    result = lab.naga("ls", "results", "--where", where)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("no run.lock matching --where below results")


def test_a_corrupt_receipt_is_an_error_line_not_a_crash(lab, tmp_path: Path) -> None:
    bad = tmp_path / "other" / "bad"
    bad.mkdir(parents=True)
    (bad / "run.lock").write_text("naga_lock: 1\nconfig: {a: [\n")
    for _ in range(2):  # the second listing reads the failure from the index
        result = lab.naga("ls", "results", str(tmp_path / "other"), "--format", "csv")
        assert result.returncode == 0, result.stderr
        line = one_line(result.stderr)
        assert line.startswith("naga ls: warning: skipped ")
        assert "run.lock is not valid YAML (line" in line
        assert len(result.stdout.strip().splitlines()) == 1 + 10


def test_runs_warns_about_a_corrupt_receipt(lab, tmp_path: Path) -> None:
    import naga
    from naga.results.frame import ReceiptWarning

    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "run.lock").write_text("naga_lock: 1\nconfig: {a: [\n")
    with pytest.warns(ReceiptWarning, match=r"is not valid YAML \(line"):
        df = naga.runs(tmp_path)
    assert df.empty and list(df.columns) == ["run", "status"]


def test_missing_pandas_is_one_line_naming_the_extra(lab) -> None:
    code = (
        "import sys; sys.modules['pandas'] = None; import naga\n"
        "try:\n    naga.runs('results')\n"
        "except ImportError as exc:\n    print(type(exc).__name__, exc)\n"
    )
    result = lab.python("-c", code)
    assert result.stdout.strip() == (
        "DependencyError naga.runs() needs pandas, which is not installed; install it with "
        "pip install 'naga[results]'"
    )


def test_edited_and_added_receipts_show_up_after_indexing(make_lab) -> None:
    import os
    import sqlite3
    import time

    lab = make_lab()
    lab.python("train.py", "lr=0.1", "seed=1", "save_dir=results/a")
    lab.python("train.py", "lr=0.3", "seed=2", "save_dir=results/b")
    time.sleep(2.2)  # older than the racy window, so the first listing stores both rows
    first = json.loads(lab.naga("ls", "results", "--json").stdout)
    assert {r["run"]: r["metrics.loss"] for r in first} == {
        "results/a": loss_of(0.1, 1),
        "results/b": loss_of(0.3, 2),
    }
    index = Path(lab.env["NAGA_CACHE_DIR"]) / "receipts.sqlite"
    with sqlite3.connect(index) as conn:
        assert conn.execute("SELECT count(*) FROM receipts").fetchone() == (2,)
    conn.close()

    # The hardest edit to notice: in place, same size, mtime put back (only ctime moves).
    lock = lab.root / "results/a/run.lock"
    before = lock.stat()
    text = lock.read_text()
    assert "  loss: 0.01\n" in text
    lock.write_text(text.replace("  loss: 0.01\n", "  loss: 0.07\n"))
    os.utime(lock, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = lock.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    )
    lab.python("score.py", "save_dir=results/c")  # added after indexing
    second = json.loads(lab.naga("ls", "results", "--json").stdout)
    assert {r["run"]: r["metrics.loss"] for r in second} == {
        "results/a": 0.07,
        "results/b": loss_of(0.3, 2),
        "results/c": None,
    }
    shutil.rmtree(lab.root / "results/b")  # removed: gone from the listing and the index
    third = json.loads(lab.naga("ls", "results", "--json").stdout)
    assert sorted(r["run"] for r in third) == ["results/a", "results/c"]
    with sqlite3.connect(index) as conn:
        paths = [row[0] for row in conn.execute("SELECT path FROM receipts")]
    conn.close()
    assert not any(path.endswith("results/b/run.lock") for path in paths)


def test_running_receipt_of_a_dead_process_is_lost_every_time(make_lab) -> None:
    lab = make_lab()
    lab.python("train.py", "save_dir=results/a")
    lock = lab.root / "results/a/run.lock"
    # As a run killed with SIGKILL leaves it: 'running', naming a process that is gone.
    lock.write_text(lock.read_text().replace("status: completed", "status: running"))
    for _ in range(2):  # derived when read, never stored
        records = json.loads(lab.naga("ls", "results", "--json").stdout)
        assert [r["status"] for r in records] == ["lost"]
    assert json.loads(lab.naga("ls", "results", "--status", "lost", "--json").stdout)
