"""Preemption by Slurm itself, on a real cluster whose partitions preempt.

scripts/slurm/slurm.conf.in gives the test cluster ``PreemptType=preempt/partition_prio``
with ``PreemptMode=REQUEUE``: a job on ``high`` (PriorityTier=2) takes the node from jobs on
``low`` (PriorityTier=1), which Slurm signals with SIGTERM and puts back in the queue. Those
jobs' receipts must say ``requeued`` (never ``interrupted``), ``naga status`` must call the
sweep unfinished (exit 3) all along, and the restarted jobs continue their runs.

The jobs run on a cluster of their own (``small_slurm_cluster``): a job taking the whole
node would stall other tests on the shared one. A requeued job may start again only after
AuthInfo's cred_expire (120 s); the test releases it sooner, as an admin could
(``release``). Also here: start.sh restarts a cluster started from an older slurm.conf.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO_ROOT
from slurm_jobs import load, release, slurm, status_of, wait_for

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def tmp_path(tmp_path: Path) -> Path:
    """pytest's own tmp dir (see test_detach.py: sbatch directives are line-based)."""
    return tmp_path.parent


class Watcher(threading.Thread):
    """Reads the run.locks every 50 ms and keeps every status it saw."""

    def __init__(self, locks: list[Path]) -> None:
        super().__init__(daemon=True)
        self.locks, self.seen = locks, set()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.seen.update(status_of(path) for path in self.locks)
            self.seen.discard(None)  # a receipt being replaced (renamed over) at that instant
            time.sleep(0.05)


def test_a_preempted_sweep_is_requeued_never_interrupted_and_completes(
    detach_project: Path, run_py: Run, run_naga: Run, small_slurm_cluster: dict[str, str]
) -> None:
    env = small_slurm_cluster
    (detach_project / "slurm.yaml").write_text(
        "partition: low\ntimeout_min: 5\ncpus_per_task: 1\nmem_gb: 1\n"
    )
    submitted = run_py(
        "job.py",
        "-m",
        "param=1,2",
        "sleep=300",
        "sleep_all=true",
        "--slurm_config",
        "slurm.yaml",
        "--detach",
        cwd=detach_project,
        env=env,
    )
    assert submitted.returncode == 0, submitted.stderr
    root = detach_project / "results" / "sweep"
    locks = [root / f"param={param}" / "run.lock" for param in (1, 2)]
    wait_for(
        lambda: all(status_of(path) == "running" for path in locks),
        timeout=120,
        what="both jobs running",
    )
    run_ids = [load(path)["run_id"] for path in locks]
    job_ids = [str(job["slurm_job_id"]) for job in load(root / "sweep.lock")["jobs"]]
    watcher = Watcher(locks)
    watcher.start()

    # A job on the higher tier wants the whole node: Slurm preempts both sweep jobs.
    cpus = slurm("sinfo", "-h", "-o", "%c", env=env).split()[0]  # the node's CPUs
    slurm(
        "sbatch",
        "-p",
        "high",
        "-c",
        cpus,
        "--mem=100",
        "-o",
        "/dev/null",
        "--wrap",
        "sleep 3",
        env=env,
    )
    wait_for(
        lambda: all(status_of(path) == "requeued" for path in locks),
        timeout=30,
        what="requeued receipts",
    )
    requeued = load(locks[0])
    assert requeued["run_id"] == run_ids[0]
    assert requeued["error"]["signal"] == "SIGTERM"
    # slurmstepd told the job why ("... CANCELLED AT ... DUE TO PREEMPTION ***").
    assert requeued["error"]["message"] == (
        "the run received SIGTERM and was requeued by Slurm (preempted)"
    )

    # While they wait in the queue, naga status says so every time it is asked.
    def queue_states() -> str:
        return slurm("squeue", "-h", "-r", "-j", job_ids[0].split("_")[0], "-o", "%T", env=env)

    polls = 0
    deadline = time.monotonic() + 30
    while polls < 3 or "PENDING" not in queue_states():
        assert time.monotonic() < deadline, queue_states()
        shown = run_naga("status", "results/sweep", cwd=detach_project, env=env)
        assert shown.returncode == 3, shown.stdout + shown.stderr
        rows = [row for row in shown.stdout.splitlines() if row.strip().startswith("param=")]
        assert all("queued (requeued)" in row for row in rows), shown.stdout
        polls += 1
    listed = run_naga("ls", "results", "--status", "requeued", cwd=detach_project, env=env)
    assert listed.returncode == 0, listed.stderr
    assert "param=1" in listed.stdout and "param=2" in listed.stdout, listed.stdout
    shown = run_naga("show", "results/sweep/param=1", cwd=detach_project, env=env)
    assert "requeued  (Slurm runs the job again" in shown.stdout, shown.stdout + shown.stderr

    (detach_project / "fixed").write_text("")  # the next attempts do not sleep again
    for job_id in job_ids:
        release(job_id, env)
    watched = run_naga(
        "status", "results/sweep", "--watch", "--interval", "0.5", cwd=detach_project, env=env
    )
    assert watched.returncode == 0, watched.stdout + watched.stderr
    watcher.done.set()
    watcher.join()
    assert watcher.seen <= {"running", "requeued", "completed"}, watcher.seen
    assert "requeued" in watcher.seen
    for path, run_id in zip(locks, run_ids, strict=True):
        lock = load(path)
        assert lock["status"] == "completed"
        assert lock["run_id"] == run_id  # one run across both attempts
        assert lock["attempts"] == 2
    summary = load(root / "sweep.lock")
    assert summary["status"] == "completed"
    assert [job["attempts"] for job in summary["jobs"]] == [2, 2]


def start_cluster(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    start = REPO_ROOT / "scripts" / "slurm" / "start.sh"
    return subprocess.run(
        ["bash", str(start)], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_start_sh_restarts_a_cluster_started_from_an_older_config_once_it_is_idle(
    own_slurm_cluster: Callable[..., Any],
) -> None:
    def max_array_size(env: dict[str, str]) -> str:
        shown = slurm("scontrol", "show", "config", env=env)
        return next(line for line in shown.splitlines() if line.startswith("MaxArraySize"))

    with own_slurm_cluster(NAGA_SLURM_MAX_ARRAY_SIZE="4") as env:
        again = start_cluster(env)
        assert again.returncode == 0 and "already running" in again.stdout, again.stderr
        newer = {**env, "NAGA_SLURM_MAX_ARRAY_SIZE": "5"}  # what a new slurm.conf.in renders
        slurm(
            "sbatch", "-p", "debug", "--mem=100", "-o", "/dev/null", "--wrap", "sleep 60", env=env
        )
        busy = start_cluster(newer)
        assert busy.returncode == 0, busy.stderr
        assert "runs an older slurm.conf but has jobs; left running" in busy.stderr
        assert max_array_size(env).endswith("= 4")  # nobody's job was killed
        slurm("scancel", "--partition=debug", env=env)
        wait_for(
            lambda: not slurm("squeue", "-h", env=env).strip(), timeout=30, what="an idle queue"
        )
        restarted = start_cluster(newer)
        assert restarted.returncode == 0, restarted.stderr
        assert "runs an older slurm.conf; restarting it" in restarted.stdout
        assert max_array_size(env).endswith("= 5")
        partitions = slurm("sinfo", "-h", "-o", "%R", env=env).split()
        assert sorted(partitions) == ["debug", "high", "low"]
