"""Sweep overhead: naga -m vs plain Hydra multirun, 100 trivial jobs, basic and joblib.

    python bench/bench_sweep.py [--jobs 100] [--repeats 3]

Prints the median wall time of each command (fresh processes, a temp git repo) and the
ratio naga / Hydra. naga also writes one run.lock per job plus sweep.lock; Hydra writes
its .hydra/ files and a log file per job (its defaults).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=False, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sweep = f"param=range(0,{args.jobs})"
    with tempfile.TemporaryDirectory() as tmp:
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
        py = sys.executable
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
        print(f"{args.jobs} trivial jobs, median of {args.repeats} runs")
        for label, (naga_cmd, hydra_cmd) in pairs.items():
            naga_times, hydra_times = [], []
            for _ in range(args.repeats):  # interleaved, so machine load hits both alike
                hydra_times.append(timed(hydra_cmd, cwd))
                naga_times.append(timed(naga_cmd, cwd))
            n, h = statistics.median(naga_times), statistics.median(hydra_times)
            print(f"{label:16s} naga {n:6.2f}s  hydra {h:6.2f}s  ratio {n / h:.2f}x")
        locks = len(list((cwd / "results" / "naga").glob("*/run.lock")))
        print(f"run.locks written by naga: {locks}")


if __name__ == "__main__":
    main()
