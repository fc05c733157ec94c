"""naga's asynchronous Optuna sweeper vs hydra-optuna-sweeper's batches, on the same trials.

    python bench/bench_optuna.py [--trials 12] [--long 3.0] [--short 0.3] [--repeats 3]

Both studies run ``--trials`` trials, two at a time on the joblib launcher, of a function
that sleeps ``--long`` seconds on even trial numbers and ``--short`` on odd ones (durations
alternate short/long: the case where lock-step batches waste a slot). naga
(``hydra/sweeper=naga_optuna``, ``hydra.sweeper.n_jobs=2``, ``--n_jobs 2``) starts the
next trial as soon as either running one ends; hydra-optuna-sweeper 1.3.0 (``n_jobs: 2``)
launches a batch of two and waits for both. The goal is naga at or below 0.6x its wall time.

hydra-optuna-sweeper 1.3.0 pins ``optuna<3`` and cannot share naga's environment (Optuna
5), so it runs from its own virtualenv, ``.venvs/bench-hydra-optuna`` (made here when
missing: hydra-core 1.3.8, hydra-optuna-sweeper 1.3.0, hydra-joblib-launcher 1.2.0), as a
plain ``@hydra.main`` app. Each study is timed as a whole process (start-up included), the
two interleaved so machine load hits both alike; medians of ``--repeats``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _timing import machine

REPO = Path(__file__).resolve().parents[1]
BENCH_VENV = REPO / ".venvs" / "bench-hydra-optuna"
PINS = ["hydra-core==1.3.8", "hydra-optuna-sweeper==1.3.0", "hydra-joblib-launcher==1.2.0"]

NAGA_APP = """
import time
from pathlib import Path

from naga import clicfg


class Config:
    x = 0.0
    long = 3.0
    short = 0.3
    save_dir = "results/naga"


@clicfg(config_class=Config)
def main(cfg):
    number = int(Path(cfg.save_dir).name.split("_", 1)[1])  # trial_0007
    time.sleep(cfg.long if number % 2 == 0 else cfg.short)
    return {"loss": (cfg.x - 1.0) ** 2}


if __name__ == "__main__":
    main()
"""

HYDRA_APP = """
import time

import hydra
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig

ConfigStore.instance().store(name="cfg", node={"x": 0.0, "long": 3.0, "short": 0.3})


@hydra.main(version_base="1.3", config_path=None, config_name="cfg")
def main(cfg):
    number = HydraConfig.get().job.num  # the trial's number in hydra-optuna-sweeper
    time.sleep(cfg.long if number % 2 == 0 else cfg.short)
    return (cfg.x - 1.0) ** 2


if __name__ == "__main__":
    main()
"""


def ensure_bench_venv() -> Path:
    """The interpreter of the hydra-optuna-sweeper virtualenv (created when missing)."""
    python = BENCH_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PINS], check=True)
    return python


def timed(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{argv[1]} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--long", type=float, default=3.0)
    parser.add_argument("--short", type=float, default=0.3)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    hydra_python = ensure_bench_venv()
    work = Path(tempfile.mkdtemp(prefix="naga-bench-optuna-"))
    try:
        (work / "naga_app.py").write_text(NAGA_APP)
        (work / "hydra_app.py").write_text(HYDRA_APP)
        (work / ".gitignore").write_text("results/\nmultirun/\n")
        for git in (["init", "-q"], ["add", "-A"], ["-c", "user.name=b", "-c", "user.email=b@b",
                                                     "commit", "-qm", "bench"]):  # fmt: skip
            subprocess.run(["git", *git], cwd=work, check=True)
        durations = [f"long={args.long}", f"short={args.short}"]
        samples: dict[str, list[float]] = {"naga_optuna": [], "hydra-optuna-sweeper": []}
        for run in range(args.repeats):
            naga = [
                sys.executable, "naga_app.py", "-m", "hydra/sweeper=naga_optuna",
                "hydra.sweeper.objective=loss", f"hydra.sweeper.n_trials={args.trials}",
                "hydra.sweeper.n_jobs=2", "hydra.sweeper.seed=0", "x=interval(-5.0, 5.0)",
                *durations, f"save_dir=results/naga{run}", "--n_jobs", "2",
            ]  # fmt: skip
            hydra = [
                str(hydra_python), "hydra_app.py", "-m", "hydra/sweeper=optuna",
                "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
                f"hydra.sweeper.n_trials={args.trials}", "hydra.sweeper.n_jobs=2",
                "hydra.sweeper.sampler.seed=0", "hydra.sweeper.direction=minimize",
                "x=interval(-5.0, 5.0)", *durations, f"hydra.sweep.dir=multirun/hydra{run}",
            ]  # fmt: skip
            samples["naga_optuna"].append(timed(naga, work))
            samples["hydra-optuna-sweeper"].append(timed(hydra, work))
        medians = {name: statistics.median(values) for name, values in samples.items()}
        ratio = medians["naga_optuna"] / medians["hydra-optuna-sweeper"]
        ideal_batches = -(-args.trials // 2) * args.long
        print(f"# bench_optuna ({machine()})")
        print(
            f"{args.trials} trials, 2 at a time (joblib), sleeping {args.long}s (even trials) / "
            f"{args.short}s (odd); median of {args.repeats}, whole processes"
        )
        for name, value in medians.items():
            runs = ", ".join(f"{v:.2f}" for v in samples[name])
            print(f"  {name:22s} {value:7.2f} s   (runs: {runs})")
        print(f"  naga / hydra-optuna-sweeper: {ratio:.2f}x  (goal <= 0.6x)")
        print(f"  sleeping alone: lock-step batches {ideal_batches:.1f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
