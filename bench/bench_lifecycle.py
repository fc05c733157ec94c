"""The price of the run lifecycle: naga now vs naga before it wrote a `running` receipt.

    python bench/bench_lifecycle.py [--baseline 6a4741e] [--jobs 100] [--repeats 5]

Since the lifecycle (docs/run-lock.md, "Statuses"), every run writes its receipt twice (as
`running` at start, then final), installs signal handlers and reads its code state at start
instead of at the end. This runs the same two commands with the library taken from the
baseline commit (extracted with `git archive`) and from this checkout, interleaved:

- a trivial single run, `python process.py -o param=10` (examples/quickstart);
- a sweep of `--jobs` trivial jobs on the basic launcher.

The demo project is a dirty git repository, so both versions take a snapshot per run.
Prints medians and the ratio now / baseline.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from _timing import interleaved, machine

ROOT = Path(__file__).resolve().parents[1]
#: main just before the lifecycle landed.
DEFAULT_BASELINE = "6a4741e"

APP = """
from naga import clicfg

class Config:
    param = 0
    save_dir = "results/app"

@clicfg(config_class=Config)
def main(cfg):
    return cfg.param * 2

if __name__ == "__main__":
    main()
"""


CPU: dict[str, list[float]] = {}


def time_quiet(name: str, argv: list[str], *, cwd: Path, env: dict[str, str]) -> float:
    """Wall time of one run, output discarded (a sweep's progress lines go to stderr).

    The CPU time (user + system) of the command is kept in CPU[name]: on a machine shared
    with other work it moves less than the wall time.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    CPU.setdefault(name, []).append(cpu)
    return wall


def extract(revision: str, into: Path) -> Path:
    """The library as it was at ``revision``: naga/ and hydra_plugins/ only."""
    archive = into / "baseline.tar"
    with archive.open("wb") as handle:
        subprocess.run(
            ["git", "archive", revision, "naga", "hydra_plugins"],
            cwd=ROOT,
            stdout=handle,
            check=True,
        )
    target = into / "baseline"
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    return target


def project(into: Path) -> Path:
    """A dirty git repository holding the app and the quickstart script."""
    repo = into / "project"
    repo.mkdir()
    (repo / "app.py").write_text(APP)
    (repo / "process.py").write_text((ROOT / "examples/quickstart/process.py").read_text())
    (repo / "data/preprocess").mkdir(parents=True)
    (repo / "data/preprocess/input.csv").write_text("a,b\n1,2\n")
    (repo / ".gitignore").write_text("results/\n")
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1"}
    for step in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "b"],
    ):
        subprocess.run(["git", *step], cwd=repo, check=True, env=env)
    (repo / "app.py").write_text(APP + "# uncommitted\n")
    return repo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default=DEFAULT_BASELINE, help="git revision to compare")
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        baseline = extract(args.baseline, Path(tmp))
        repo = project(Path(tmp))
        envs = {
            name: {**os.environ, "PYTHONPATH": str(lib), "NAGA_CACHE_DIR": str(Path(tmp) / name)}
            for name, lib in (("baseline", baseline), ("now", ROOT))
        }
        py = sys.executable
        commands = {
            "single run": [py, "process.py", "-o", "param=10"],
            f"{args.jobs}-job sweep": [py, "app.py", "-m", f"param=range(0,{args.jobs})"],
        }
        print(f"naga now vs baseline {args.baseline}; {machine()}")
        for label, argv in commands.items():
            repeats = args.repeats if "sweep" not in label else max(args.repeats // 2, 3)
            medians = interleaved(
                {
                    name: (
                        lambda name=name, env=env, argv=argv, label=label: time_quiet(
                            f"{label}/{name}", argv, cwd=repo, env=env
                        )
                    )
                    for name, env in envs.items()
                },
                repeats,
            )
            now, before = medians["now"], medians["baseline"]
            cpu_now = statistics.median(CPU[f"{label}/now"])
            cpu_before = statistics.median(CPU[f"{label}/baseline"])
            print(
                f"{label:16s} wall: now {now:7.3f}s  baseline {before:7.3f}s  "
                f"ratio {now / before:.3f}x | cpu: now {cpu_now:7.3f}s  baseline "
                f"{cpu_before:7.3f}s  ratio {cpu_now / cpu_before:.3f}x  (median of {repeats})"
            )


if __name__ == "__main__":
    main()
