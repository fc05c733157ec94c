"""Benchmark the ``naga`` run-management subcommands against their anchors, in one run.

1. ``naga verify`` of a run whose data is a directory of many files (default 2,000 × 32 KiB
   = 62.5 MiB): warm hash cache (the normal case: data unchanged since the run) and cold
   (``NAGA_NO_CACHE=1``: every byte re-read), against the anchor ``b3sum`` over the same
   files (what a careful user would otherwise run by hand).
2. ``naga ls`` over many runs (default 300 run.locks, each a real lock with its own
   config), against the anchor ``naga --version`` (interpreter + CLI start-up: the floor
   of any subcommand).

Prints medians (seconds) and ratios. Smaller runs: ``--files 500 --runs 100``.
Needs ``git`` and ``b3sum`` on PATH.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import interleaved, machine, time_command

REPO = Path(__file__).resolve().parents[1]
SCRIPT = """\
from naga import runlock

class Config:
    lr = 0.1
    save_dir = "results/run"

runlock(config=Config(), repos=["."], data=["data"])
"""


def env(cache: Path, **extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NAGA_", "GIT_"))}
    clean.update(
        NAGA_CACHE_DIR=str(cache),
        PYTHONPATH=str(REPO),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=str(cache / "gitconfig"),
    )
    clean.update(extra)
    return clean


def make_project(root: Path, files: int, cache: Path) -> None:
    root.mkdir()
    e = env(cache)
    for args in (
        ["init", "-q", "-b", "main"],
        ["config", "user.name", "b"],
        ["config", "user.email", "b@example.invalid"],
    ):
        subprocess.run(["git", *args], cwd=root, check=True, env=e)
    (root / ".gitignore").write_text("data/\nresults/\n")
    (root / "run.py").write_text(SCRIPT)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True, env=e)
    subprocess.run(["git", "commit", "-qm", "bench"], cwd=root, check=True, env=e)
    data = root / "data"
    for i in range(files):
        sub = data / f"shard{i % 20:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"part{i:05d}.bin").write_bytes(os.urandom(32 * 1024))
    subprocess.run([sys.executable, "run.py"], cwd=root, check=True, env=e)


def clone_runs(root: Path, runs: int) -> None:
    """Copies of the real run.lock, each with its own config value."""
    text = (root / "results/run/run.lock").read_text()
    for i in range(runs):
        target = root / "results" / f"sweep/lr={i}"
        target.mkdir(parents=True)
        (target / "run.lock").write_text(text.replace("lr: 0.1", f"lr: {i / 1000}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000, help="data files of the run")
    parser.add_argument("--runs", type=int, default=300, help="run.locks for naga ls")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"naga subcommands benchmark — {machine()}")
    with tempfile.TemporaryDirectory(prefix="naga-bench-commands-") as tmp:
        cache = Path(tmp) / "cache"
        cache.mkdir()
        root = Path(tmp) / "project"
        make_project(root, args.files, cache)
        naga = [sys.executable, "-m", "naga"]
        warm, cold = env(cache), env(cache, NAGA_NO_CACHE="1")
        files = sorted(str(p) for p in (root / "data").rglob("*.bin"))
        mib = args.files * 32 / 1024
        print(f"\n1. naga verify, data = {args.files} files, {mib:.1f} MiB")
        result = interleaved(
            {
                "b3sum over the files (anchor)": lambda: time_command(["b3sum", *files], cwd=root),
                "naga --version (start-up floor)": lambda: time_command(
                    [*naga, "--version"], cwd=root, env=warm
                ),
                "naga verify, warm cache": lambda: time_command(
                    [*naga, "verify", "results/run"], cwd=root, env=warm
                ),
                "naga verify, cold (NAGA_NO_CACHE=1)": lambda: time_command(
                    [*naga, "verify", "results/run"], cwd=root, env=cold
                ),
            },
            args.repeats,
        )
        anchor = result["b3sum over the files (anchor)"]
        for name, seconds in result.items():
            print(f"  {name:<40} {seconds:8.3f} s   {seconds / anchor:5.2f}x anchor time")

        clone_runs(root, args.runs)
        print(f"\n2. naga ls over {args.runs + 1} run.locks")
        result = interleaved(
            {
                "naga --version (anchor)": lambda: time_command(
                    [*naga, "--version"], cwd=root, env=warm
                ),
                "naga ls": lambda: time_command([*naga, "ls", "results"], cwd=root, env=warm),
            },
            args.repeats,
        )
        anchor = result["naga --version (anchor)"]
        for name, seconds in result.items():
            print(f"  {name:<40} {seconds:8.3f} s   {seconds / anchor:5.2f}x anchor time")
        per_run = (result["naga ls"] - anchor) / (args.runs + 1) * 1000
        print(f"  ≈ {per_run:.2f} ms per run.lock listed")


if __name__ == "__main__":
    main()
