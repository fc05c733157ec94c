"""Big Slurm sweeps: submitting 1,000 tasks, and ``naga status`` of a 1,000-job sweep.

    SLURM_CONF=/tmp/naga-slurm/slurm.conf python bench/bench_detach.py [--tasks 1000] [--repeats 3]

1. Time from the command to all tasks queued in Slurm:
   - naga ``--tasks tasks.txt --task_to param --slurm_config s.yaml --detach`` (the command
     returns once every task is queued: one job array of 1,000 elements);
   - the same with ``tasks_per_job: 50`` (an array of 20 elements);
   - Hydra's submitit launcher, plain ``@hydra.main`` app, ``-m param=range(0,1000)``: its
     command never returns before the jobs end, so the time is taken when ``squeue`` first
     lists the whole array; then the command is stopped.
   Every array is submitted held (``--hold``) and cancelled right after, so nothing runs on
   the shared cluster. Needs a running cluster (scripts/slurm/start.sh); skipped otherwise.
2. ``naga status`` (a fresh process, as users run it) of a 1,000-job sweep made of real
   receipts: every job completed; every job queued in Slurm (one ``squeue`` call); every
   job ``running`` in sweep.lock but gone from the queue (each run.lock's head is read: the
   worst case). The goal is 1 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _timing import machine  # noqa: E402

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

SLURM = "partition: debug\ntimeout_min: 5\ncpus_per_task: 1\nmem_gb: 1\n"


def project(tmp: Path, tasks: int) -> Path:
    cwd = tmp / "proj"
    cwd.mkdir(parents=True)
    (cwd / "naga_app.py").write_text(NAGA_APP)
    (cwd / "hydra_app.py").write_text(HYDRA_APP)
    (cwd / ".gitignore").write_text("results/\nmultirun/\n")
    (cwd / "tasks.txt").write_text("".join(f"{n}\n" for n in range(tasks)))
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1"}
    for step in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "b"],
    ):
        subprocess.run(["git", *step], cwd=cwd, check=True, env=env)
    return cwd


def queued(name: str) -> int:
    done = subprocess.run(
        ["squeue", "-h", "-r", "-n", name, "-o", "%i"], capture_output=True, text=True, check=False
    )
    return len(done.stdout.split())


def cancel(name: str) -> None:
    subprocess.run(["scancel", "-n", name], capture_output=True, check=False)
    deadline = time.monotonic() + 60
    while queued(name) and time.monotonic() < deadline:
        time.sleep(0.2)


def naga_submit(cwd: Path, tasks: int, per_job: int) -> float:
    name = f"bench-naga-{uuid.uuid4().hex[:8]}"
    extra = f"tasks_per_job: {per_job}\n" if per_job > 1 else ""
    (cwd / "s.yaml").write_text(
        SLURM + f"name: {name}\nadditional_parameters: {{hold: true}}\n" + extra
    )
    shutil.rmtree(cwd / "results", ignore_errors=True)
    cmd = [sys.executable, "naga_app.py", "--tasks", "tasks.txt", "--task_to", "param"]
    start = time.perf_counter()
    subprocess.run(
        [*cmd, "--slurm_config", "s.yaml", "--detach"], cwd=cwd, check=True, capture_output=True
    )
    took = time.perf_counter() - start
    expected = -(-tasks // per_job)
    found = queued(name)
    cancel(name)
    if found != expected:
        raise RuntimeError(f"naga left {found} array elements queued, expected {expected}")
    return took


def hydra_submit(cwd: Path, tasks: int) -> float:
    name = f"bench-hydra-{uuid.uuid4().hex[:8]}"
    shutil.rmtree(cwd / "multirun", ignore_errors=True)
    cmd = [
        sys.executable,
        "hydra_app.py",
        "-m",
        f"param=range(0,{tasks})",
        "hydra/launcher=submitit_slurm",
        "hydra.launcher.partition=debug",
        "hydra.launcher.timeout_min=5",
        "hydra.launcher.cpus_per_task=1",
        "hydra.launcher.mem_gb=1",
        f"hydra.launcher.name={name}",
        "+hydra.launcher.additional_parameters.hold=true",
        "hydra.sweep.dir=multirun/hydra",
    ]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while queued(name) < tasks:
            if proc.poll() is not None:
                raise RuntimeError(f"Hydra's command ended early (exit {proc.returncode})")
            time.sleep(0.05)
        took = time.perf_counter() - start
    finally:
        proc.terminate()
        proc.wait(60)
        cancel(name)
    return took


def status_sweep(tmp: Path, jobs: int) -> Path:
    """A 1,000-job sweep made of one real receipt, copied into every job's directory."""
    from naga.lock.format import dumps, loads

    cwd = project(tmp / "status", 2)
    subprocess.run(
        [sys.executable, "naga_app.py", "-m", "param=1,2"], cwd=cwd, check=True, capture_output=True
    )
    root = cwd / "results" / "naga"
    template = loads((root / "param=1" / "run.lock").read_bytes())
    sweep = loads((root / "sweep.lock").read_bytes())
    entry = sweep["jobs"][0]
    sweep["launcher"] = "submitit_slurm"
    sweep["jobs"] = []
    for num in range(jobs):
        name = f"param={num}"
        lock = {**template, "config": {**template["config"], "param": num}}
        (root / name).mkdir(exist_ok=True)
        (root / name / "run.lock").write_text(dumps(lock))
        sweep["jobs"].append(
            {**entry, "num": num, "name": name, "overrides": [name], "save_dir": name}
        )
    (root / "sweep.lock").write_text(dumps(sweep))
    return root


def set_all(root: Path, **fields: object) -> None:
    from naga.lock.format import dumps, loads

    sweep = loads((root / "sweep.lock").read_bytes())
    for num, job in enumerate(sweep["jobs"]):
        job.update(
            {key: (value(num) if callable(value) else value) for key, value in fields.items()}
        )
    (root / "sweep.lock").write_text(dumps(sweep))
    if fields.get("status") == "running":
        for num in range(len(sweep["jobs"])):
            path = root / f"param={num}" / "run.lock"
            path.write_text(path.read_text().replace("status: completed", "status: running", 1))


def time_status(root: Path, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "naga", "status", str(root)],
            check=False,
            stdout=subprocess.DEVNULL,
        )
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def cluster_up() -> bool:
    if not os.environ.get("SLURM_CONF") or shutil.which("sinfo") is None:
        return False
    return subprocess.run(["sinfo", "-h"], capture_output=True, check=False).returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--status-only", action="store_true", help="skip the submission part")
    args = parser.parse_args()
    print(f"# {machine()}")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if cluster_up() and not args.status_only:
            cwd = project(tmp, args.tasks)
            samples: dict[str, list[float]] = {"naga": [], "naga50": [], "hydra": []}
            for _ in range(args.repeats):  # interleaved, so machine noise hits all alike
                samples["naga"].append(naga_submit(cwd, args.tasks, 1))
                samples["naga50"].append(naga_submit(cwd, args.tasks, 50))
                samples["hydra"].append(hydra_submit(cwd, args.tasks))
            med = {name: statistics.median(values) for name, values in samples.items()}
            print(f"\n{args.tasks} tasks, command to all queued (median of {args.repeats}):")
            print("| submission | time | vs Hydra |")
            print("|---|---|---|")
            rows = (
                ("naga --detach (1 array, 1 task per element)", "naga"),
                ("naga --detach, tasks_per_job: 50 (20 elements)", "naga50"),
                ("Hydra submitit launcher (1 array)", "hydra"),
            )
            for label, key in rows:
                print(f"| {label} | {med[key]:.2f} s | {med[key] / med['hydra']:.2f}x |")
        else:
            print("\n(submission part skipped: --status-only, or no running cluster in SLURM_CONF)")
        root = status_sweep(tmp, 1000)
        cases = {
            "every job completed": {"status": "completed"},
            "every job queued in Slurm (one squeue call)": {
                "status": "queued",
                "slurm_job_id": lambda num: f"999999_{num}",
            },
            "every job running in sweep.lock, gone from the queue (reads 1,000 run.locks)": {
                "status": "running",
                "slurm_job_id": lambda num: f"999999_{num}",
            },
        }
        print(f"\nnaga status of a 1,000-job sweep (fresh process, median of {args.repeats + 2}):")
        print("| sweep | time |")
        print("|---|---|")
        for label, fields in cases.items():
            set_all(root, **fields)
            print(f"| {label} | {time_status(root, args.repeats + 2):.2f} s |")


if __name__ == "__main__":
    main()
