"""Benchmark: ``naga report`` on 1,000 and 10,000 runs — time, file size, time to open.

The runs are a sweep of learning rate x width x seed below ``results/``, written with
naga's own format module (:func:`naga.lock.format.dumps`) from one real receipt that
``runlock()`` wrote in a git repository (installed-packages list included); 2% of them
failed, with their error. Measured side by side in one run, medians, as commands a user
types, each with a warm receipt index (the listing every command shares), and the report
once more with an empty index (every receipt parsed):

- ``naga report results -o report.html`` (the one-file HTML report);
- the anchors, what naga offered before: ``naga ls results --group-by lr,width`` (the
  grouped numbers as text) and ``naga plot results --x lr --y loss -o plot.png`` (one
  static matplotlib figure).

Then, when Debian's chromium is installed, the page is opened from ``file://`` in headless
Chromium (tests/browser.py) and timed until its tables work, then until every chart is
drawn (they are drawn as they scroll into view; headless Chromium has only software
WebGL for the parallel coordinates), and a filter typed into the runs table is timed
until the rows are shown.

Usage: python bench/bench_report.py [--runs 1000 10000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's naga
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the browser harness
from _timing import interleaved, machine, time_command

REPO = Path(__file__).resolve().parents[1]
SCRIPT = """\
from naga import runlock

class Config:
    lr = 0.1
    width = 64
    seed = 0
    optimizer = "adam"
    epochs = 20
    model = {"depth": 3, "dropout": 0.1}
    save_dir = "results/run"

runlock(config=Config(), repos=["."], metrics={"loss": 0.25, "val": {"acc": 0.9}, "steps": 1000})
"""
WIDTHS = (32, 64, 128, 256)
SEEDS = 5


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


def template(root: Path, cache: Path) -> dict:
    """One real receipt, written by runlock() in a fresh git repository."""
    from naga.lock.format import read_lock

    root.mkdir()
    e = env(cache)
    for args in (["init", "-q", "-b", "main"], ["config", "user.name", "b"],
                 ["config", "user.email", "b@example.invalid"]):  # fmt: skip
        subprocess.run(["git", *args], cwd=root, check=True, env=e)
    (root / ".gitignore").write_text("results/\n")
    (root / "train.py").write_text(SCRIPT)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True, env=e)
    subprocess.run(["git", "commit", "-qm", "bench"], cwd=root, check=True, env=e)
    subprocess.run([sys.executable, "train.py"], cwd=root, check=True, env=e)
    lock = read_lock(root / "results/run/run.lock")
    shutil.rmtree(root / "results" / "run")
    return lock


def make_runs(root: Path, lock: dict, runs: int) -> None:
    """``runs`` receipts: lr x width x seed, 2% failed, written with naga.lock.format."""
    from naga.lock.format import dumps

    rng = random.Random(0)
    lrs = max(1, runs // (len(WIDTHS) * SEEDS))
    sweep = uuid.uuid4().hex
    start = time.time() - runs * 7.0
    for i in range(runs):
        lr = round(0.0005 * (1 + i % lrs), 6)
        width = WIDTHS[(i // lrs) % len(WIDTHS)]
        seed = i // (lrs * len(WIDTHS))
        name = f"lr={lr},width={width},seed={seed}"
        target = root / "results" / "train" / name
        target.mkdir(parents=True)
        record = dict(lock)
        record["run_id"] = uuid.uuid4().hex
        record["config"] = {**lock["config"], "lr": lr, "width": width, "seed": seed,
                            "save_dir": f"results/train/{name}"}  # fmt: skip
        loss = 1 / (1 + 1000 * lr) + 8 / width + rng.random() / 100
        record["metrics"] = {"loss": loss, "val.acc": 1 - loss, "steps": 1000}
        record["extra"] = {"sweep": {"sweep_id": sweep, "name": name, "num": i}}
        started = start + i * 7.0
        record["started_at"] = datetime.fromtimestamp(started, timezone.utc).isoformat()
        record["finished_at"] = datetime.fromtimestamp(started + 60, timezone.utc).isoformat()
        record["duration_s"] = 60.0
        if rng.random() < 0.02:
            record["status"] = "failed"
            record["metrics"] = {}
            record["error"] = {
                "type": "FloatingPointError",
                "message": f"loss is nan at step {rng.randrange(1000)}",
                "traceback": 'Traceback (most recent call last):\n  File "train.py", ...\n',
            }
        (target / "run.lock").write_text(dumps(record))


def page_timings(page: Path, work: Path, repeats: int) -> tuple[float, float, float] | None:
    """Median seconds to open the page until its tables work, to draw every chart, and to
    filter the runs table."""
    from browser import CHROMIUM, Browser

    if CHROMIUM is None:
        return None
    opened, drawn, filtered = [], [], []
    for _ in range(repeats):
        with Browser(work) as browser:
            start = time.perf_counter()
            browser.open(page.as_uri())
            opened.append(time.perf_counter() - start)
            start = time.perf_counter()
            browser.js("window.nagaReport.drawCharts()")
            browser.wait_for(
                "document.querySelectorAll('#charts .chart:not([data-drawn])').length === 0"
            )
            drawn.append(time.perf_counter() - start)
            assert browser.errors() == [], browser.errors()
            start = time.perf_counter()
            browser.js(
                "(() => { const i = document.getElementById('run-filter');"
                " i.value = 'width=64 loss<0.2'; i.dispatchEvent(new Event('input')); })()"
            )
            browser.wait_for(
                "/ of /.test(document.querySelector('#runs .filter-note').textContent)"
            )
            filtered.append(time.perf_counter() - start)
    return tuple(sorted(times)[len(times) // 2] for times in (opened, drawn, filtered))  # type: ignore[return-value]


def bench(work: Path, sizes: list[int], repeats: int) -> None:
    cache = work / "cache"
    cache.mkdir()
    lock = template(work / "template", cache)
    py = sys.executable
    for runs in sizes:
        root = work / f"project-{runs}"
        root.mkdir()
        t0 = time.perf_counter()
        make_runs(root, lock, runs)
        print(f"\n{runs} run.locks made with naga.lock.format in {time.perf_counter() - t0:.0f} s")
        time.sleep(2.5)  # every receipt older than the index's racy window
        e = env(cache)
        subprocess.run([py, "-m", "naga", "ls", "results"], cwd=root, env=e, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip  # warm the index

        def command(*args: str, root: Path = root, e: dict[str, str] = e) -> Callable[[], float]:
            return lambda: time_command([py, "-m", "naga", *args], cwd=str(root), env=e)

        result = interleaved(
            {
                "naga ls --group-by lr,width (anchor)": command(
                    "ls", "results", "--group-by", "lr,width"
                ),
                "naga plot --x lr --y loss -o plot.png": command(
                    "plot", "results", "--x", "lr", "--y", "loss", "-o", "plot.png"
                ),
                "naga report results -o report.html": command(
                    "report", "results", "-o", "report.html"
                ),
                "naga report, cold (empty index)": lambda root=root: time_command(
                    [py, "-m", "naga", "report", "results", "-o", "cold.html"],
                    cwd=str(root),
                    env=env(Path(tempfile.mkdtemp(dir=work))),
                ),
            },
            repeats,
        )
        base = result["naga ls --group-by lr,width (anchor)"]
        print(f"{runs} runs, warm index (medians of {repeats}; anchor: naga ls --group-by)")
        for name, seconds in result.items():
            print(f"  {name:<42} {seconds:7.2f} s   {seconds / base:5.2f}x the anchor")
        size = (root / "report.html").stat().st_size
        print(f"  report.html: {size / 1e6:.2f} MB ({size / runs / 1e3:.2f} kB per run)")
        timings = page_timings(root / "report.html", work, repeats)
        if timings is None:
            print("  (chromium is not installed: the page was not opened)")
        else:
            print(
                f"  headless Chromium, file://, no network: tables ready in {timings[0]:.2f} s, "
                f"every chart drawn {timings[1]:.2f} s later (software WebGL), "
                f"runs table filtered in {timings[2]:.2f} s"
            )
        shutil.rmtree(root)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"naga report benchmark — {machine()}")
    work = Path(tempfile.mkdtemp(prefix="naga-bench-report-"))
    try:
        bench(work, args.runs, args.repeats)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
