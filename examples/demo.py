"""`make demo`: the whole naga workflow on a toy three-stage pipeline, end to end.

It builds a throwaway project in .naga-demo/ or $NAGA_DEMO_DIR (a git repository holding
the pipeline scripts), then runs prepare -> a train sweep -> evaluate with run.locks and
lineage, re-runs one training job from its receipt, logs every run directory to MLflow
(embedded SQLite store), shows the results with the `naga` command, and ends by writing
one self-contained HTML report of every run. Every command is printed before it runs, so
it doubles as a tutorial.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# NAGA_DEMO_DIR moves the throwaway project elsewhere (the test suite runs the demo in a tmp dir).
WORK = Path(os.environ.get("NAGA_DEMO_DIR") or REPO / ".naga-demo").absolute()
PIPELINE = REPO / "examples" / "pipeline"
PLOT = "train_mse-vs-lr.png"
REPORT = "report.html"
IDENTITY = ["-c", "user.name=naga demo", "-c", "user.email=demo@naga.invalid"]


def step(title: str) -> None:
    print(f"\n=== {title}", flush=True)


def run(*args: str, ok_codes: tuple[int, ...] = (0,)) -> None:
    shown = " ".join(shlex.quote(a) for a in args).replace(sys.executable, "python")
    print(f"$ {shown}", flush=True)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    code = subprocess.run(args, cwd=WORK, env=env, check=False).returncode
    if code not in ok_codes:
        sys.exit(f"demo: step failed with exit code {code}: {shown}")


def naga(*args: str, ok_codes: tuple[int, ...] = (0,)) -> None:
    run(sys.executable, "-m", "naga", *args, ok_codes=ok_codes)


def main() -> None:
    shown = os.path.relpath(WORK)
    step(f"A fresh project in {shown}/ (a git repository with the pipeline)")
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir()
    for script in ("prepare.py", "train.py", "evaluate.py"):
        shutil.copy(PIPELINE / script, WORK / script)
    (WORK / ".gitignore").write_text("results/\ndata/\nmlflow.db\nmlartifacts/\n")
    run("git", "init", "-q", "-b", "main")
    run("git", *IDENTITY, "add", "-A")
    run("git", *IDENTITY, "commit", "-q", "-m", "toy pipeline")

    step("Stage 1: prepare the data (run.lock records config, code and the raw data hash)")
    run(sys.executable, "prepare.py")
    step("Stage 2: a training sweep, two jobs at a time; every job leaves its own run.lock")
    run(sys.executable, "train.py", "-m", "lr=0.03,0.1,0.3", "seed=0,1", "--n_jobs", "2")
    step("Re-run one training job from its receipt: its recorded code, config and data")
    naga("rerun", "results/train/lr=0.1,seed=0")
    step("Stage 3: evaluate every model; lineage links back to train and prepare")
    run(sys.executable, "evaluate.py")

    step("Log every run directory to MLflow as logical runs (sqlite:///mlflow.db)")
    os.environ["MLFLOW_TRACKING_URI"] = "sqlite:///mlflow.db"
    runs = [
        "results/prepare",
        *sorted(
            str(p.parent.relative_to(WORK)) for p in (WORK / "results" / "train").glob("*/run.lock")
        ),
        "results/evaluate",
    ]
    naga("log", *runs)

    step("See the runs")
    naga("ls", "results")
    naga("show", "results/evaluate")
    naga("lineage", "results/evaluate")
    step("Compare two training runs (exit code 1 means: they differ)")
    naga("diff", runs[1], runs[-2], ok_codes=(0, 1))
    step("Verify that the data and code behind the result are still what was recorded")
    naga("verify", "results/evaluate")
    step("Results: the training metric per learning rate, across seeds, as a table and a plot")
    naga("ls", "results/train", "--group-by", "lr", "--format", "markdown")
    naga("plot", "results/train", "--x", "lr", "--y", "train_mse", "--logx", "-o", PLOT)
    print(f"\nThe plot: {os.path.relpath(WORK / PLOT)}")
    step("The report: every run in one HTML file that opens offline in any browser")
    naga("report", "results", "-o", REPORT)
    print(f"\nDone. Explore: cd {shown} && python -m naga show results/evaluate")
    print(f"The report: {WORK / REPORT} (open it in a browser; it needs no network)")


if __name__ == "__main__":
    main()
