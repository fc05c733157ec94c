"""Benchmark: what writing run.lock costs a run.

Prints medians and ratios against named anchors, side by side in one run:

1. installed-packages list: importlib.metadata scan (anchor) vs naga's cached lookup;
2. one runlock() call in a warm process (dict config, no repos/data) vs the anchor
   "yaml.safe_dump + plain open/write" of the same record (no atomic replace, fsync, lock
   or merge);
3. a whole script run: ``python script.py`` calling runlock() once vs the anchor script
   that only writes the same YAML with PyYAML.

Usage: ``.venv/bin/python bench/bench_runlock.py [--repeats N]``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _timing import interleaved, machine  # noqa: E402  # bench/ helper: the script's own directory

RUNLOCK_SCRIPT = """\
from naga import runlock
runlock({"param": 10, "save_dir": "results/process"})
"""
ANCHOR_SCRIPT = """\
import os, yaml
os.makedirs("results/anchor", exist_ok=True)
with open("results/anchor/run.lock", "w") as f:
    yaml.safe_dump({"param": 10, "save_dir": "results/anchor"}, f, sort_keys=False)
"""


def timed(fn: Callable[[], object]) -> Callable[[], float]:
    def run() -> float:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start

    return run


def report(title: str, medians: dict[str, float], anchor: str) -> None:
    print(f"\n{title}")
    for name, value in medians.items():
        ratio = value / medians[anchor]
        print(f"  {name:<38} {value * 1000:9.2f} ms   {ratio:6.3f}x {anchor}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    print(f"bench_runlock: {machine()}")

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ["NAGA_CACHE_DIR"] = str(work / "cache")
        from naga.lock import _packages
        from naga.lock.api import runlock

        _packages.installed_packages()  # fill the cache once
        report(
            "1. installed distributions",
            interleaved(
                {
                    "importlib.metadata scan (anchor)": timed(_packages.scan_packages),
                    "naga cached lookup": timed(_packages.installed_packages),
                },
                args.repeats,
            ),
            "importlib.metadata scan (anchor)",
        )

        import yaml

        os.chdir(work)
        config = {"param": 10, "save_dir": "results/process"}
        runlock(config)  # warm imports

        def anchor_write() -> None:
            with Path("results/anchor.lock").open("w") as handle:
                yaml.safe_dump(config, handle, sort_keys=False)

        report(
            "2. one write in a warm process",
            interleaved(
                {
                    "yaml.safe_dump + open/write (anchor)": timed(anchor_write),
                    "runlock() merge into run.lock": timed(lambda: runlock(config)),
                },
                args.repeats,
            ),
            "yaml.safe_dump + open/write (anchor)",
        )

        (work / "with_runlock.py").write_text(RUNLOCK_SCRIPT)
        (work / "anchor.py").write_text(ANCHOR_SCRIPT)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}

        def script(name: str) -> Callable[[], float]:
            return timed(
                lambda: subprocess.run([sys.executable, name], cwd=work, env=env, check=True)
            )

        report(
            "3. whole script, fresh interpreter",
            interleaved(
                {
                    "python anchor.py (PyYAML only)": script("anchor.py"),
                    "python with_runlock.py": script("with_runlock.py"),
                },
                max(5, args.repeats // 2),
            ),
            "python anchor.py (PyYAML only)",
        )


if __name__ == "__main__":
    main()
