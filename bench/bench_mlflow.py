"""Benchmark: a whole ``mlflow_lock`` block vs a plain MLflow block, on a busy SQLite store.

Anchor (issue 5): with 1,000 prior runs in the store, ``with mlflow_lock(d): pass`` (experiment
lookup, new run, params, tags, run.lock artifact, search for the previous active run,
deprecation) should take at most 1.5x a plain block that starts a run, logs the same params
and the same artifact. Both variants are interleaved so machine load hits them alike.

Usage: python bench/bench_mlflow.py [--prior 1000] [--repeat 30] [--keys 40]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prior", type=int, default=1000, help="runs already in the store")
    parser.add_argument("--repeat", type=int, default=30, help="timed blocks per variant")
    parser.add_argument("--keys", type=int, default=40, help="config keys (params) per run")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="naga-bench-mlflow-"))
    try:
        return _bench(args, work)
    finally:
        os.chdir("/")
        shutil.rmtree(work, ignore_errors=True)


def _bench(args: argparse.Namespace, work: Path) -> int:
    os.chdir(work)  # MLflow puts a SQLite store's artifacts under ./mlruns
    uri = "sqlite:///" + (work / "mlflow.db").as_posix()
    os.environ["MLFLOW_TRACKING_URI"] = uri

    import mlflow
    from mlflow import MlflowClient

    from naga import mlflow_lock, runlock
    from naga.tracking.receipt import flatten_params

    t0 = time.perf_counter()
    client = MlflowClient(uri)  # schema creation, not timed
    print(f"store created in {time.perf_counter() - t0:.1f}s at {uri}")

    t0 = time.perf_counter()
    for i in range(args.prior):
        # Other logical runs, each active, so the lookup filters a realistically tagged table.
        client.create_run(
            "0",
            tags={"naga.logical_run_id": f"/bench/results/run{i}", "naga.status": "active"},
        )
    print(f"{args.prior} prior runs created in {time.perf_counter() - t0:.1f}s")

    config: dict = {f"group{g}": {} for g in range(5)}
    for k in range(args.keys):
        config[f"group{k % 5}"][f"key{k}"] = k * 0.5
    config = {**config, "layers": [64, 32, 16], "save_dir": "results/bench"}
    save_dir = work / "results" / "bench"
    lock = runlock(config=config, runlock_path=save_dir / "run.lock")
    params = flatten_params(config)
    print(f"run.lock: {lock.stat().st_size} bytes, {len(params)} params")

    def naga_block() -> None:
        with mlflow_lock(save_dir):
            pass

    def plain_block() -> None:
        with mlflow.start_run():
            mlflow.log_params(params)
            mlflow.log_artifact(str(lock))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        naga_block()  # warm-up: imports, caches, first deprecation path
        plain_block()
        naga_times: list[float] = []
        plain_times: list[float] = []
        for _ in range(args.repeat):
            for block, times in ((naga_block, naga_times), (plain_block, plain_times)):
                t0 = time.perf_counter()
                block()
                times.append(time.perf_counter() - t0)

    active = client.search_runs(
        ["0"],
        filter_string="tags.`naga.logical_run_id` LIKE '%results/bench' "
        "and tags.`naga.status` = 'active'",
    )
    assert len(active) == 1, "exactly one active run expected"

    naga_med = statistics.median(naga_times)
    plain_med = statistics.median(plain_times)
    from _timing import machine  # bench/ helper, importable as the script's own directory

    print(f"{machine()}; mlflow {mlflow.__version__}; repeat {args.repeat}")
    print(f"plain MLflow block (anchor): median {plain_med * 1000:7.1f} ms")
    print(f"mlflow_lock block:           median {naga_med * 1000:7.1f} ms")
    print(f"ratio mlflow_lock / plain:   {naga_med / plain_med:.2f}x (target <= 1.5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
