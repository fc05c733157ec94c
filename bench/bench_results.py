"""Benchmark: from 10,000 runs to a table — ``naga ls``/``naga.runs()`` vs MLflow ``search_runs``.

The same runs exist twice: as 10,000 run.locks below ``results/`` (copies of one real
receipt written by ``runlock()`` in a git repository, installed-packages list included, each
with its own config and metrics) and as 10,000 MLflow runs in a SQLite store with the same
params and metrics. Measured side by side in one run, medians:

1. in one process: ``naga.runs("results")`` (a DataFrame with every config key and metric)
   against the anchor ``mlflow.search_runs(...)`` (a DataFrame with every param, metric and
   tag), each after a warm-up call; ``naga.runs`` cold means an empty receipt index (every
   run.lock parsed), warm an unchanged directory;
2. as commands, as a user types them: ``naga ls results`` cold (empty index), warm, and
   with the index off (``NAGA_NO_CACHE=1``), ``python -c "naga.runs(...)"`` warm, against
   ``python -c "mlflow.search_runs(...)"``.

Usage: python bench/bench_results.py [--runs 10000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's naga
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import interleaved, machine, time_command

REPO = Path(__file__).resolve().parents[1]
SCRIPT = """\
from naga import runlock

class Config:
    lr = 0.1
    seed = 0
    optimizer = "adam"
    epochs = 20
    model = {"width": 64, "depth": 3, "dropout": 0.1}
    save_dir = "results/run"

runlock(config=Config(), repos=["."], metrics={"loss": 0.25, "val": {"acc": 0.9}, "steps": 1000})
"""
LRS = 100  # the sweep is LRS learning rates x (runs / LRS) seeds


def env(cache: Path, **extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NAGA_", "GIT_", "MLFLOW_"))}
    clean.update(
        NAGA_CACHE_DIR=str(cache),
        PYTHONPATH=str(REPO),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=str(cache / "gitconfig"),
    )
    clean.update(extra)
    return clean


def make_receipts(root: Path, cache: Path, runs: int) -> list[tuple[dict, dict]]:
    """One real receipt, copied to ``runs`` run directories; returns each (params, metrics)."""
    root.mkdir()
    e = env(cache)
    for args in (["init", "-q", "-b", "main"], ["config", "user.name", "b"],
                 ["config", "user.email", "b@example.invalid"]):  # fmt: skip
        subprocess.run(["git", *args], cwd=root, check=True, env=e)
    (root / ".gitignore").write_text("results/\nmlflow.db\nmlruns/\n")
    (root / "train.py").write_text(SCRIPT)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True, env=e)
    subprocess.run(["git", "commit", "-qm", "bench"], cwd=root, check=True, env=e)
    subprocess.run([sys.executable, "train.py"], cwd=root, check=True, env=e)
    text = (root / "results/run/run.lock").read_text()
    run_id = text.split("run_id: ", 1)[1].split("\n", 1)[0]
    assert "lr: 0.1\n" in text and "  loss: 0.25\n" in text and "seed: 0\n" in text
    made = []
    for i in range(runs):
        lr, seed = round(0.001 * (1 + i % LRS), 6), i // LRS
        loss, acc = round(1 / (1 + 1000 * lr) + seed / 1000, 9), round(1 - lr, 9)
        target = root / "results" / "train" / f"lr={lr},seed={seed}"
        target.mkdir(parents=True)
        (target / "run.lock").write_text(
            text.replace(run_id, uuid.uuid4().hex)
            .replace("lr: 0.1\n", f"lr: {lr}\n")
            .replace("seed: 0\n", f"seed: {seed}\n")
            .replace("  loss: 0.25\n", f"  loss: {loss}\n")
            .replace("  val.acc: 0.9\n", f"  val.acc: {acc}\n")
            .replace("save_dir: results/run", f"save_dir: {target.relative_to(root)}")
        )
        params = {"lr": lr, "seed": seed, "optimizer": "adam", "epochs": 20, "model.width": 64,
                  "model.depth": 3, "model.dropout": 0.1}  # fmt: skip
        params["save_dir"] = str(target.relative_to(root))
        made.append((params, {"loss": loss, "val.acc": acc, "steps": 1000}))
    shutil.rmtree(root / "results" / "run")
    return made


def make_mlflow_store(uri: str, made: list[tuple[dict, dict]]) -> str:
    """The same runs in an MLflow SQLite store; returns the experiment id."""
    import sqlalchemy
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    # Setup only (search is what is timed): skip fsync on every one of 10,000 commits.
    @sqlalchemy.event.listens_for(sqlalchemy.engine.Engine, "connect")
    def _fast(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA synchronous=OFF")

    client = MlflowClient(uri)
    experiment = client.create_experiment("bench-results")
    now = int(time.time() * 1000)
    for params, metrics in made:
        run = client.create_run(experiment, run_name=params["save_dir"])
        client.log_batch(
            run.info.run_id,
            params=[Param(k, str(v)) for k, v in params.items()],
            metrics=[Metric(k, v, now, 0) for k, v in metrics.items()],
            synchronous=True,
        )
        client.set_terminated(run.info.run_id)
    sqlalchemy.event.remove(sqlalchemy.engine.Engine, "connect", _fast)
    return experiment


def timed(fn: Callable[[], object]) -> Callable[[], float]:
    def run() -> float:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start

    return run


def report(result: dict[str, float], anchor: str) -> None:
    base = result[anchor]
    for name, seconds in result.items():
        ratio = seconds / base
        how = f"{1 / ratio:5.1f}x faster" if ratio < 1 else f"{ratio:5.2f}x the time"
        print(f"  {name:<48} {seconds:8.3f} s   {how}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000, help="runs in each store")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per variant")
    args = parser.parse_args()
    print(f"naga results benchmark — {machine()}")
    work = Path(tempfile.mkdtemp(prefix="naga-bench-results-"))
    try:
        return bench(work, args.runs, args.repeats)
    finally:
        os.chdir("/")
        shutil.rmtree(work, ignore_errors=True)


def bench(work: Path, runs: int, repeats: int) -> int:
    cache = work / "cache"
    cache.mkdir()
    root = work / "project"
    t0 = time.perf_counter()
    made = make_receipts(root, cache, runs)
    size = (root / "results" / "train" / "lr=0.001,seed=0" / "run.lock").stat().st_size
    print(f"{runs} run.locks ({size} bytes each) made in {time.perf_counter() - t0:.0f} s")
    os.chdir(root)
    uri = "sqlite:///" + (root / "mlflow.db").as_posix()
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        experiment = make_mlflow_store(uri, made)
    print(f"the same {runs} runs logged to {uri} in {time.perf_counter() - t0:.0f} s")
    time.sleep(2.5)  # every receipt now older than the index's racy window

    os.environ.update(env(cache))
    os.environ["MLFLOW_TRACKING_URI"] = uri
    import mlflow
    import pandas  # noqa: F401 - imported once, as in a notebook

    import naga

    def search() -> object:
        frame = mlflow.search_runs([experiment], max_results=runs)
        assert len(frame) == runs and "params.lr" in frame and "metrics.loss" in frame
        return frame

    def naga_runs() -> object:
        frame = naga.runs("results")
        assert len(frame) == runs and "config.lr" in frame and "metrics.loss" in frame
        return frame

    def naga_runs_cold() -> object:
        os.environ["NAGA_CACHE_DIR"] = tempfile.mkdtemp(dir=work)  # an empty index
        try:
            return naga_runs()
        finally:
            os.environ["NAGA_CACHE_DIR"] = str(cache)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search()
        naga_runs()  # warm-up: fills the index
        frame = naga_runs()
    print(f"naga.runs(): {frame.shape[0]} rows x {frame.shape[1]} columns")

    print(f"\n1. in one process, {runs} runs (medians of {repeats}; anchor: MLflow)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = interleaved(
            {
                "mlflow.search_runs() (anchor)": timed(search),
                "naga.runs(), warm index": timed(naga_runs),
                "naga.runs(), cold (empty index)": timed(naga_runs_cold),
            },
            repeats,
        )
    report(result, "mlflow.search_runs() (anchor)")

    print(f"\n2. as commands, {runs} runs (medians of {repeats}; anchor: MLflow)")
    py = sys.executable
    fresh = [env(work / f"cold{i}") for i in range(repeats)]
    cold_iter = iter(fresh)
    mlflow_code = (
        f"import mlflow; f = mlflow.search_runs([{experiment!r}], max_results={runs}); "
        f"assert len(f) == {runs}"
    )
    warm = env(cache, MLFLOW_TRACKING_URI=uri)
    result = interleaved(
        {
            "python -c 'mlflow.search_runs(...)' (anchor)": lambda: time_command(
                [py, "-c", mlflow_code], cwd=str(root), env=warm
            ),
            "python -c 'naga.runs(...)', warm index": lambda: time_command(
                [py, "-c", f"import naga; assert len(naga.runs('results')) == {runs}"],
                cwd=str(root),
                env=warm,
            ),
            "naga ls results, warm index": lambda: time_command(
                [py, "-m", "naga", "ls", "results"], cwd=str(root), env=warm
            ),
            "naga ls results, cold (empty index)": lambda: time_command(
                [py, "-m", "naga", "ls", "results"], cwd=str(root), env=next(cold_iter)
            ),
            "naga ls results, no index (NAGA_NO_CACHE=1)": lambda: time_command(
                [py, "-m", "naga", "ls", "results"],
                cwd=str(root),
                env=env(cache, NAGA_NO_CACHE="1"),
            ),
            "naga --version (start-up floor)": lambda: time_command(
                [py, "-m", "naga", "--version"], cwd=str(root), env=warm
            ),
        },
        repeats,
    )
    report(result, "python -c 'mlflow.search_runs(...)' (anchor)")
    warm_ls = result["naga ls results, warm index"]
    print(f"  naga ls per run.lock, warm: {warm_ls / runs * 1e6:.0f} µs")
    print(f"  naga ls warm ≤ 1 s: {'yes' if warm_ls <= 1 else 'NO'} ({warm_ls:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
