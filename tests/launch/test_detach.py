"""Sweeps that survive the cluster, on the real one-node Slurm cluster, as users run them.

Submit with ``--detach`` and leave; ``naga status`` (and ``--watch``) until the end;
``scancel`` a job and ``naga resume``; a job preempted with ``scancel --signal=USR2`` is
requeued and completes on its second attempt; an edit after submission does not reach the
queued jobs; 300 tasks in 6 array elements; an array cut under a small MaxArraySize.

USR2 is the signal submitit asks Slurm to send before a time limit (``--signal=USR2@...``)
and the one its jobs treat as preemption; the test cluster has no preemption of its own,
so ``scancel --signal=USR2`` plays the part. A requeued job waits ``cred_expire`` (120 s)
before it may start again; the tests release it sooner with ``scontrol update
StartTime=now`` (what an admin could do) once it is pending again (see ``release``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from slurm_jobs import load, release, slurm, status_of, wait_for

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def tmp_path(tmp_path: Path) -> Path:
    """pytest's own tmp dir, not the sweep tests' hostile one: submitit writes job paths into
    line-based #SBATCH directives, where a newline or a space would split them (a limit of
    sbatch scripts, not of naga)."""
    return tmp_path.parent


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def naga(run_naga: Run, project: Path, env: dict[str, str], *args: str, timeout: float = 300):
    return run_naga(*args, cwd=project, env=env, timeout=timeout)


def test_detach_then_status_then_completion(
    detach_project: Path, run_py: Run, run_naga: Run, slurm_cluster: dict[str, str]
) -> None:
    started = time.monotonic()
    submitted = run_py(
        "job.py",
        "-m",
        "param=1,2,3",
        "sleep=4",
        "sleep_param=3",
        "fail_param=2",
        "--slurm_config",
        "slurm.yaml",
        "--detach",
        cwd=detach_project,
        env=slurm_cluster,
    )
    assert submitted.returncode == 0, submitted.stderr
    assert time.monotonic() - started < 60
    assert "sweep: results/sweep" in submitted.stdout
    assert "naga status results/sweep --watch" in submitted.stdout
    root = detach_project / "results" / "sweep"
    queued = load(root / "sweep.lock")
    assert queued["launch"]["detached"] is True
    assert [job["name"] for job in queued["jobs"]] == ["param=1", "param=2", "param=3"]
    assert all(job["slurm_job_id"] for job in queued["jobs"])
    assert {job["status"] for job in queued["jobs"]} <= {"queued", "running", "completed"}

    first = naga(run_naga, detach_project, slurm_cluster, "status", "results/sweep")
    assert first.returncode == 3, first.stdout + first.stderr  # param=3 sleeps 4 s
    assert "param=3" in first.stdout and "3 jobs:" in first.stdout

    watched = naga(
        run_naga,
        detach_project,
        slurm_cluster,
        "status",
        "results/sweep",
        "--watch",
        "--interval",
        "0.5",
    )
    assert watched.returncode == 1, watched.stdout + watched.stderr  # param=2 failed
    assert "ZeroDivisionError: param 2 divides by zero" in watched.stdout
    assert watched.stdout.rstrip().splitlines()[-1] == (
        "done: 3 jobs: 0 queued, 0 running, 2 completed, 1 failed, 0 interrupted, 0 lost"
    )
    final = load(root / "sweep.lock")
    assert [job["status"] for job in final["jobs"]] == ["completed", "failed", "completed"]
    assert final["status"] == "failed" and final["finished_at"]
    assert final["counts"]["completed"] == 2
    for job in final["jobs"]:
        lock = load(root / job["name"] / "run.lock")
        assert lock["run_id"] == job["run_id"]
        assert lock["launcher"] == "submitit_slurm"
    as_json = naga(run_naga, detach_project, slurm_cluster, "status", "results/sweep", "--json")
    assert as_json.returncode == 1
    data = json.loads(as_json.stdout)
    assert data["counts"] == {
        "total": 3,
        "queued": 0,
        "running": 0,
        "completed": 2,
        "failed": 1,
        "interrupted": 0,
        "lost": 0,
    }
    assert data["jobs"][1]["error"] == "ZeroDivisionError: param 2 divides by zero"


def test_scancel_one_job_then_resume_finishes_the_sweep(
    detach_project: Path, run_py: Run, run_naga: Run, slurm_cluster: dict[str, str]
) -> None:
    submitted = run_py(
        "job.py",
        "-m",
        "param=1,2,3",
        "sleep=120",
        "sleep_param=3",
        "--slurm_config",
        "slurm.yaml",
        "--detach",
        cwd=detach_project,
        env=slurm_cluster,
    )
    assert submitted.returncode == 0, submitted.stderr
    root = detach_project / "results" / "sweep"
    wait_for((root / "param=3" / "started").exists, timeout=120, what="param=3 to start")
    wait_for(
        lambda: status_of(root / "param=3" / "run.lock") == "running",
        timeout=30,
        what="param=3's running receipt",
    )
    job_id = str(load(root / "sweep.lock")["jobs"][2]["slurm_job_id"])
    slurm("scancel", job_id, env=slurm_cluster)
    wait_for(
        lambda: status_of(root / "param=3" / "run.lock") == "interrupted",
        timeout=30,
        what="param=3 interrupted",
    )
    wait_for(
        lambda: (
            naga(run_naga, detach_project, slurm_cluster, "status", "results/sweep").returncode != 3
        ),
        timeout=120,
        what="the sweep to settle",
    )
    shown = naga(run_naga, detach_project, slurm_cluster, "status", "results/sweep")
    assert shown.returncode == 1, shown.stdout
    line = next(row for row in shown.stdout.splitlines() if row.strip().startswith("param=3"))
    assert "interrupted" in line and "SIGTERM" in line, line
    before = {p: load(root / f"param={p}" / "run.lock")["run_id"] for p in (1, 2, 3)}
    ids = [job["slurm_job_id"] for job in load(root / "sweep.lock")["jobs"]]

    (detach_project / "fixed").write_text("")  # the resumed job does not sleep again
    resumed = naga(run_naga, detach_project, slurm_cluster, "resume", "results/sweep")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "resuming 1 of 3 jobs (1 interrupted)" in resumed.stdout
    after = load(root / "sweep.lock")
    assert [job["status"] for job in after["jobs"]] == ["completed"] * 3
    assert after["status"] == "completed"
    now = {p: load(root / f"param={p}" / "run.lock")["run_id"] for p in (1, 2, 3)}
    assert now[1] == before[1] and now[2] == before[2]  # completed jobs were left alone
    assert now[3] != before[3]
    # A plain resume keeps the Slurm ids of the jobs it left alone (naga status shows them).
    assert [job["slurm_job_id"] for job in after["jobs"]][:2] == ids[:2]
    assert naga(run_naga, detach_project, slurm_cluster, "status", "results/sweep").returncode == 0
    nothing = naga(run_naga, detach_project, slurm_cluster, "resume", "results/sweep")
    assert nothing.returncode == 0 and "nothing to resume" in nothing.stdout


@pytest.mark.parametrize(("budget", "ends"), [(1, "completed"), (0, "interrupted")])
def test_usr2_requeues_the_job_and_it_completes_on_its_second_attempt(
    detach_project: Path,
    run_py: Run,
    run_naga: Run,
    slurm_cluster: dict[str, str],
    budget: int,
    ends: str,
) -> None:
    with (detach_project / "slurm.yaml").open("a") as handle:
        handle.write(f"max_num_timeout: {budget}\n")
    submitted = run_py(
        "job.py",
        "-m",
        "param=1,2",
        "sleep=6",
        "sleep_param=1",
        "--slurm_config",
        "slurm.yaml",
        "--detach",
        cwd=detach_project,
        env=slurm_cluster,
    )
    assert submitted.returncode == 0, submitted.stderr
    root = detach_project / "results" / "sweep"
    lock_path = root / "param=1" / "run.lock"
    wait_for(lambda: status_of(lock_path) == "running", timeout=120, what="param=1 running")
    first = load(lock_path)
    job_id = str(load(root / "sweep.lock")["jobs"][0]["slurm_job_id"])
    slurm("scancel", "--signal=USR2", job_id, env=slurm_cluster)
    if ends == "interrupted":  # max_num_timeout: 0 -- no requeue left for a time limit
        wait_for(lambda: status_of(lock_path) == "interrupted", timeout=30, what="interrupted")
        lock = load(lock_path)
        assert lock["error"]["signal"] == "SIGUSR2" and "attempts" not in lock
        wait_for(
            lambda: (
                naga(run_naga, detach_project, slurm_cluster, "status", "results/sweep").returncode
                == 1
            ),
            timeout=120,
            what="the sweep to end",
        )
        return
    wait_for(lambda: status_of(lock_path) == "requeued", timeout=30, what="requeued receipt")
    requeued = load(lock_path)
    assert requeued["run_id"] == first["run_id"]
    assert requeued["error"]["signal"] == "SIGUSR2"
    assert requeued["error"]["message"] == "the run received SIGUSR2 and was requeued"
    shown = naga(run_naga, detach_project, slurm_cluster, "status", "results/sweep")
    line = next(row for row in shown.stdout.splitlines() if row.strip().startswith("param=1"))
    assert "queued (requeued)" in line, shown.stdout
    assert shown.returncode == 3
    release(job_id, slurm_cluster)  # the test cluster would hold it for 120 s
    watched = naga(
        run_naga,
        detach_project,
        slurm_cluster,
        "status",
        "results/sweep",
        "--watch",
        "--interval",
        "0.5",
    )
    assert watched.returncode == 0, watched.stdout + watched.stderr
    lock = load(lock_path)
    assert lock["status"] == "completed"
    assert lock["attempts"] == 2
    assert lock["run_id"] == first["run_id"]  # one run across both attempts
    assert lock["error"] is None and lock["finished_at"]
    summary = load(root / "sweep.lock")
    assert [job["name"] for job in summary["jobs"]] == ["param=1", "param=2"]  # reported once
    assert summary["jobs"][0]["attempts"] == 2
    assert summary["status"] == "completed"


@pytest.mark.parametrize("isolate", [True, False], ids=["isolated", "no-isolate"])
def test_an_edit_after_a_detached_submission_does_not_reach_queued_jobs(
    detach_project: Path,
    run_py: Run,
    run_naga: Run,
    slurm_cluster: dict[str, str],
    isolate: bool,
) -> None:
    with (detach_project / "slurm.yaml").open("a") as handle:
        handle.write("array_parallelism: 1\n")  # param=2 waits in the queue for param=1
    with (detach_project / "job.py").open("a") as handle:
        handle.write("# an uncommitted edit, in the submitted snapshot\n")
    head = git(detach_project, "rev-parse", "HEAD").strip()
    submitted = run_py(
        "job.py",
        "-m",
        "param=1,2",
        "sleep=6",
        "sleep_param=1",
        "--slurm_config",
        "slurm.yaml",
        "--detach",
        *([] if isolate else ["--no-isolate"]),
        cwd=detach_project,
        env=slurm_cluster,
    )
    assert submitted.returncode == 0, submitted.stderr
    root = detach_project / "results" / "sweep"
    assert status_of(root / "param=2" / "run.lock") is None  # still queued
    (detach_project / "helper.py").write_text('VALUE = "edited"\n')
    git(detach_project, "commit", "-qam", "edit after submission")
    watched = naga(
        run_naga,
        detach_project,
        slurm_cluster,
        "status",
        "results/sweep",
        "--watch",
        "--interval",
        "0.5",
    )
    assert watched.returncode == 0, watched.stdout + watched.stderr
    out = (root / "param=2" / "out.txt").read_text()
    lock = load(root / "param=2" / "run.lock")
    entry = next(iter(lock["repos"].values()))
    if not isolate:
        assert out == "2 edited"  # today's behaviour, on request
        return
    assert out == "2 1"
    recorded = load(root / "sweep.lock")["launch"]["code"]
    assert entry["commit"] == head and entry["dirty"] is True
    assert entry["snapshot"]["commit"] == recorded
    assert lock["script"]["repo"] == str(detach_project)
    assert (
        (root / ".naga-sweep" / "code" / recorded / "helper.py")
        .read_text()
        .endswith("\nVALUE = 1\n")
    )


def test_300_tasks_with_tasks_per_job_50_run_as_6_array_elements(
    detach_project: Path, run_py: Run, run_naga: Run, slurm_cluster: dict[str, str]
) -> None:
    (detach_project / "tasks.txt").write_text("".join(f"{n}\n" for n in range(300)))
    with (detach_project / "slurm.yaml").open("a") as handle:
        handle.write("tasks_per_job: 50\n")
    submitted = run_py(
        "job.py",
        "--tasks",
        "tasks.txt",
        "--task_to",
        "param",
        "fail_param=7",
        "--slurm_config",
        "slurm.yaml",
        "--detach",
        cwd=detach_project,
        env=slurm_cluster,
    )
    assert submitted.returncode == 0, submitted.stderr
    assert "submitted 300 jobs in 6 array elements" in submitted.stdout
    root = detach_project / "results" / "sweep"
    scripts = list((root / ".submitit").glob("*/*_submission.sh"))
    assert len(scripts) == 1 and "#SBATCH --array=0-5%6" in scripts[0].read_text()
    watched = naga(
        run_naga,
        detach_project,
        slurm_cluster,
        "status",
        "results/sweep",
        "--watch",
        "--interval",
        "2",
        timeout=900,
    )
    assert watched.returncode == 1, watched.stdout[-2000:] + watched.stderr  # task 7 failed
    locks = sorted(root.glob("*/run.lock"))
    assert len(locks) == 300
    by_element: dict[str, int] = {}
    for path in locks:
        lock = load(path)
        param = lock["config"]["param"]
        assert lock["status"] == ("failed" if param == 7 else "completed")
        assert int(lock["slurm_array_task_id"]) == param // 50
        by_element[lock["slurm_array_task_id"]] = by_element.get(lock["slurm_array_task_id"], 0) + 1
    assert sorted(by_element.values()) == [50] * 6
    summary = load(root / "sweep.lock")
    assert summary["counts"]["completed"] == 299 and summary["counts"]["failed"] == 1
    assert (root / "param=8" / "out.txt").exists()  # the task after the failure ran


def test_an_array_larger_than_max_array_size_is_split(
    detach_project: Path, run_py: Run, run_naga: Run, small_slurm_cluster: dict[str, str]
) -> None:
    with (detach_project / "slurm.yaml").open("a") as handle:
        handle.write("array_parallelism: 4\n")
    submitted = run_py(
        "job.py",
        "-m",
        "param=range(0,10)",
        "--slurm_config",
        "slurm.yaml",
        "--detach",
        cwd=detach_project,
        env=small_slurm_cluster,
    )
    assert submitted.returncode == 0, submitted.stderr
    root = detach_project / "results" / "sweep"
    arrays = {}
    for path in (root / ".submitit").glob("*/*_submission.sh"):
        for line in path.read_text().splitlines():
            if line.startswith("#SBATCH --array="):
                arrays[path.parent.name] = line.split("=", 1)[1]
    # MaxArraySize=4: indices 0-3 at most; array_parallelism 4 shared between the arrays.
    assert sorted(arrays.values()) == ["0-1%1", "0-3%1", "0-3%2"]
    watched = naga(
        run_naga,
        detach_project,
        small_slurm_cluster,
        "status",
        "results/sweep",
        "--watch",
        "--interval",
        "0.5",
    )
    assert watched.returncode == 0, watched.stdout + watched.stderr
    summary = load(root / "sweep.lock")
    ids = {str(job["slurm_job_id"]).split("_")[0] for job in summary["jobs"]}
    assert len(ids) == 3 and summary["counts"]["completed"] == 10


def test_a_waiting_sweep_waits_for_the_requeued_attempt(
    detach_project: Path, slurm_cluster: dict[str, str]
) -> None:
    import os

    with (detach_project / "slurm.yaml").open("a") as handle:
        handle.write("max_num_timeout: 1\n")
    proc = subprocess.Popen(
        [
            *(sys.executable, "job.py", "-m", "param=1,2", "sleep=6", "sleep_param=1"),
            *("--slurm_config", "slurm.yaml"),
        ],
        cwd=detach_project,
        env={**os.environ, **slurm_cluster},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lock_path = detach_project / "results" / "sweep" / "param=1" / "run.lock"
    wait_for(lambda: status_of(lock_path) == "running", timeout=120, what="param=1 running")
    job_id = str(load(lock_path)["slurm_job_id"])
    slurm("scancel", "--signal=USR2", job_id, env=slurm_cluster)
    wait_for(lambda: status_of(lock_path) == "requeued", timeout=30, what="requeued receipt")
    release(job_id, slurm_cluster)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    assert "2 completed, 0 failed of 2 jobs" in stderr
    lock = load(lock_path)
    assert lock["status"] == "completed" and lock["attempts"] == 2
