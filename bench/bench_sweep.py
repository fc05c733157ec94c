"""Sweep overhead: naga -m vs plain Hydra multirun, side by side; and a 1,000-job sweep.

    python bench/bench_sweep.py [--jobs 100] [--big 1000] [--repeats 3] [--profile]

1. ``--jobs`` trivial jobs (``param=range(0,N)``) with naga's ``-m`` and with a plain
   ``@hydra.main`` app's ``-m``, on the basic launcher and on joblib with 2 workers,
   interleaved so machine load hits both alike: medians of wall time and CPU time (user +
   system of the command and its children, e.g. loky workers), and how many times faster
   naga is.
2. A ``--big``-job sweep on the basic launcher: how long after the command the first job
   starts (its run.lock's ``started_at``), and the cost per job: wall time from the first
   job's start to the end of the command, divided by the number of jobs, and CPU time
   above a 1-job sweep, divided by the extra jobs. The jobs do nothing, so all of it is
   naga's (and Hydra's) overhead.
3. ``--profile``: one ``--big``-job sweep under cProfile, the time split by what it is
   spent on.

Fresh processes in a temp git repo (results git-ignored). naga writes a run.lock per job
(``running`` at start, final at the end, each an atomic write with two fsyncs) and
sweep.lock; Hydra writes its ``.hydra/`` files and a log file per job (its defaults).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from _timing import machine

NAGA_APP = """
from naga import clicfg

class Config:
    param = 0
    save_dir = "results/naga"

@clicfg(config_class=Config)
def main(cfg):
    return cfg.param * 2

if __name__ == "__main__":
    main()
"""

HYDRA_APP = """
import hydra
from hydra.core.config_store import ConfigStore

ConfigStore.instance().store(name="cfg", node={"param": 0})

@hydra.main(version_base="1.3", config_path=None, config_name="cfg")
def main(cfg):
    return cfg.param * 2

if __name__ == "__main__":
    main()
"""


def run(cmd: list[str], cwd: Path) -> tuple[float, float, float]:
    """(start time, wall seconds, CPU seconds of the command and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.time()
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, check=False, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return started, wall, cpu


def first_start(root: Path) -> float:
    """The earliest ``started_at`` of the run.locks below ``root`` (epoch seconds)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    starts = []
    for lock in root.glob("*/run.lock"):
        with lock.open(encoding="utf-8") as handle:
            head = "".join(line for line, _ in zip(handle, range(6), strict=False))
        starts.append(datetime.fromisoformat(yaml.load(head, Loader=loader)["started_at"]))
    return min(starts).timestamp()


def project(tmp: str) -> Path:
    cwd = Path(tmp)
    (cwd / "naga_app.py").write_text(NAGA_APP)
    (cwd / "hydra_app.py").write_text(HYDRA_APP)
    (cwd / ".gitignore").write_text("results/\nmultirun/\n")
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1"}
    for step in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "b"],
    ):
        subprocess.run(["git", *step], cwd=cwd, check=True, env=env)
    return cwd


def side_by_side(cwd: Path, jobs: int, repeats: int) -> None:
    py = sys.executable
    sweep = f"param=range(0,{jobs})"
    pairs = {
        "basic": (
            [py, "naga_app.py", "-m", sweep],
            [py, "hydra_app.py", "-m", sweep, "hydra.sweep.dir=multirun/basic"],
        ),
        "joblib n_jobs=2": (
            [py, "naga_app.py", "-m", sweep, "--n_jobs", "2"],
            [
                py,
                "hydra_app.py",
                "-m",
                sweep,
                "hydra/launcher=joblib",
                "hydra.launcher.n_jobs=2",
                "hydra.sweep.dir=multirun/joblib",
            ],
        ),
    }
    print(f"\n## {jobs} trivial jobs, naga -m vs Hydra -m, median of {repeats} (interleaved)")
    print(
        "| launcher | naga wall | Hydra wall | faster (wall) | naga CPU | Hydra CPU "
        "| faster (CPU) |"
    )
    print("|---|---|---|---|---|---|---|")
    for label, (naga_cmd, hydra_cmd) in pairs.items():
        naga, hydra = [], []
        for _ in range(repeats):  # interleaved, so machine load hits both alike
            hydra.append(run(hydra_cmd, cwd)[1:])
            naga.append(run(naga_cmd, cwd)[1:])
        n_wall, n_cpu = (statistics.median(x[i] for x in naga) for i in (0, 1))
        h_wall, h_cpu = (statistics.median(x[i] for x in hydra) for i in (0, 1))
        print(
            f"| {label} | {n_wall:.2f} s | {h_wall:.2f} s | **{h_wall / n_wall:.1f}×** "
            f"| {n_cpu:.2f} s | {h_cpu:.2f} s | {h_cpu / n_cpu:.1f}× |"
        )
    locks = len(list((cwd / "results" / "naga").glob("*/run.lock")))
    print(f"(run.locks written by naga's last sweep: {locks})")


def big_sweep(cwd: Path, jobs: int, repeats: int) -> None:
    py = sys.executable
    print(f"\n## {jobs}-job sweep, basic launcher, median of {repeats}")
    firsts, per_job_wall, walls, cpus, small_cpus = [], [], [], [], []
    for rep in range(repeats):
        root = cwd / "results" / f"big{rep}"
        small = cwd / "results" / f"small{rep}"
        small_cpus.append(run([py, "naga_app.py", "-m", "param=0", f"save_dir={small}"], cwd)[2])
        started, wall, cpu = run(
            [py, "naga_app.py", "-m", f"param=range(0,{jobs})", f"save_dir={root}"], cwd
        )
        first = first_start(root) - started
        firsts.append(first)
        per_job_wall.append((wall - first) / jobs)
        walls.append(wall)
        cpus.append(cpu)
    cpu_per_job = (statistics.median(cpus) - statistics.median(small_cpus)) / (jobs - 1)
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    print(f"- whole command: {wall:.2f} s wall, {cpu:.2f} s CPU")
    print(f"- first job started {statistics.median(firsts):.2f} s after the command")
    print(
        f"- per job: {statistics.median(per_job_wall) * 1000:.1f} ms wall (first job's start to "
        f"the end / {jobs}), {cpu_per_job * 1000:.1f} ms CPU (above a 1-job sweep)"
    )


#: Stages of a sweep, by the cumulative time of the functions that do them (cProfile sees
#: the main thread only: sweep.lock writes in the progress thread are not in it).
STAGES = (
    ("derive the job's config and task config", ("plan/compose.py", ("config", "task_config"))),
    ("resolve it once (resolve_once)", ("launch/job.py", ("resolve_once",))),
    ("git state of the script's repository", ("lock/session.py", ("_script_repo",))),
    ("run.lock writes (running + final)", ("lock/session.py", ("_write",))),
    ("  of which fsync", ("~", ("<built-in method posix.fsync>",))),
    ("  of which YAML", ("lock/writer.py", ("dumps",))),
    ("progress: run.lock head, summary lines", ("launch/sweep.py", ("_apply_results",))),
)


def _cumulative(stats: Any, where: str, names: tuple[str, ...]) -> float:
    total = 0.0
    for (filename, _, function), row in stats.stats.items():
        if filename.endswith(where) and function in names:
            total += row[3]
    return total


def profile(cwd: Path, jobs: int) -> None:
    import pstats

    out = cwd / "sweep.prof"
    root = cwd / "results" / "profiled"
    cmd = [sys.executable, "-m", "cProfile", "-o", str(out), "naga_app.py", "-m"]
    run([*cmd, f"param=range(0,{jobs})", f"save_dir={root}"], cwd)
    stats = pstats.Stats(str(out))
    whole = _cumulative(stats, "launch/sweep.py", ("run_sweep",))
    loop = _cumulative(stats, "_inprocess.py", ("launch",))
    jobs_total = _cumulative(stats, "_inprocess.py", ("run_job",))
    task = _cumulative(stats, "_task.py", ("__call__",))
    print(f"\n## where a {jobs}-job sweep's time goes (cProfile; it inflates Python code)")
    print(f"- before the first job (compose, expand, check every job): {(whole - loop):.2f} s")
    print(f"- per job, of {loop / jobs * 1000:.1f} ms profiled:")
    for name, (where, names) in STAGES:
        seconds = _cumulative(stats, where, names)
        indent = "    " if name.startswith(" ") else "  "
        print(f"{indent}- {name.strip()}: {seconds / loop * 100:.0f}%")
    protocol = jobs_total - task
    print(f"  - Hydra's job protocol (HydraConfig, dirs, logging): {protocol / loop * 100:.0f}%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--big", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    print(f"# bench_sweep: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        cwd = project(tmp)
        if args.jobs:
            side_by_side(cwd, args.jobs, args.repeats)
        if args.big:
            big_sweep(cwd, args.big, args.repeats)
        if args.profile:
            profile(cwd, args.big or args.jobs)
    print(f"\nload at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
