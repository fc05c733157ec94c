"""A run's life on disk, with real signals: running → completed | failed | interrupted | lost.

Each test starts the user's script as a user would, sends the signal a scheduler or a
terminal sends, and reads what is left on disk and what the `naga` command says of it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from helpers import one_line_error
from receipt_project import Project, load, wait_for

pytestmark = pytest.mark.slow

#: Where the venv is decides what a receipt records when its run starts (the conformance
#: suite checks both places); what a signal, a busy directory or a stand-in scontrol does to
#: a running run does not depend on it, so those tests run with the venv outside only.
venv_outside_only = pytest.mark.parametrize("project", ["venv-outside"], indirect=True)


def naga(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    return project.run("-m", "naga", *args)


def running_receipt(path: Path) -> dict:
    """Wait until the user's function runs (its 'started' file), then read the receipt."""
    wait_for((path.parent / "started").exists, what=f"{path.parent}/started")
    return load(path)


@venv_outside_only
@pytest.mark.parametrize(
    "sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2]
)
def test_a_signal_leaves_an_interrupted_receipt(project: Project, sig: signal.Signals) -> None:
    proc = project.start("job.py", "sleep=60", "save_dir=results/sig")
    lock_path = project.root / "results" / "sig" / "run.lock"
    running = running_receipt(lock_path)
    # Written at start: who runs, where, with which config and code.
    assert running["status"] == "running"
    assert running["pid"] == proc.pid
    assert running["host"] == os.uname().nodename
    assert running["config"]["sleep"] == 60
    assert running["repos"]["."]["commit"] == project.head()
    assert "finished_at" not in running
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    # The exit status is the signal's: 128 + n as an exit code, or death by the signal.
    assert proc.returncode in (128 + sig, -sig), (proc.returncode, stderr)
    lock = load(lock_path)
    assert lock["status"] == "interrupted"
    assert lock["run_id"] == running["run_id"]
    assert lock["error"]["signal"] == sig.name
    assert lock["error"]["type"] == sig.name
    assert "time.sleep" in lock["error"]["traceback"]  # where the run was when it stopped
    assert lock["finished_at"]


@venv_outside_only
def test_sigterm_in_the_hydra_callback_path(project: Project) -> None:
    proc = project.start(
        "hydra_app.py", "hydra/callbacks=naga_runlock", "hydra.run.dir=results/cb", "sleep=60"
    )
    lock_path = project.root / "results" / "cb" / "run.lock"
    assert running_receipt(lock_path)["status"] == "running"
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM
    lock = load(lock_path)
    assert lock["status"] == "interrupted"
    assert lock["error"]["signal"] == "SIGTERM"


#: What ``scontrol show job -o 4242`` answers in a Slurm job when SIGTERM arrives (the
#: fields as Slurm 22.05 prints them, measured on the test cluster; STDERR is replaced by
#: the job's stderr file), and the receipt's status and error message.
_FIELDS = "JobState=COMPLETING Reason=None Requeue=1"
_SCONTROL = {
    # Preemption (PreemptMode=REQUEUE): the restart is counted first, slurmstepd says why.
    "preempted": (
        f"echo 'JobId=4242 {_FIELDS} Restarts=1 StdErr=STDERR StdIn=/dev/null'",
        "*** JOB 4242 ON node1 CANCELLED AT 2026-12-07T17:52:27 DUE TO PREEMPTION ***\n",
        "requeued",
        "the run received SIGTERM and was requeued by Slurm (preempted)",
    ),
    "scontrol requeue": (
        f"echo 'JobId=4242 {_FIELDS} Restarts=2 StdErr=STDERR StdIn=/dev/null'",
        "*** JOB 4242 ON node1 CANCELLED AT 2026-12-07T18:40:28 DUE TO JOB REQUEUE ***\n",
        "requeued",
        "the run received SIGTERM and was requeued by Slurm (scontrol requeue)",
    ),
    # A requeue whose stderr does not say why (written elsewhere, or another job's line).
    "requeued, reason unknown": (
        f"echo 'JobId=4242 {_FIELDS} Restarts=1 StdErr=STDERR StdIn=/dev/null'",
        "*** JOB 99 ON node1 CANCELLED AT 2026-12-07T17:52:27 DUE TO PREEMPTION ***\n",
        "requeued",
        "the run received SIGTERM and was requeued by Slurm "
        "(preemption, scontrol requeue or a node failure)",
    ),
    # scancel, or a time limit: the job ends.
    "scancel": (
        f"echo 'JobId=4242 {_FIELDS} Restarts=0 StdErr=STDERR StdIn=/dev/null'",
        "*** JOB 4242 ON node1 CANCELLED AT 2026-12-07T17:51:23 ***\n",
        "interrupted",
        "the run received SIGTERM and stopped",
    ),
    # A controller that does not answer within the handler's bound (1 s).
    "no answer": ("exec sleep 30", "", "interrupted", "the run received SIGTERM and stopped"),
}


@venv_outside_only
@pytest.mark.parametrize("case", list(_SCONTROL))
def test_sigterm_in_a_slurm_job_asks_slurm_whether_it_will_run_again(
    project: Project, tmp_path: Path, case: str
) -> None:
    """The SIGTERM handler's question to Slurm, with a stand-in ``scontrol``.

    The one place with a fake Slurm: a real controller cannot be made to hang, nor to
    requeue a process that is not its job. Real preemption and scancel are in
    tests/launch/test_preempt.py and tests/launch/test_detach.py.
    """
    answer, said, status, message = _SCONTROL[case]
    fake_bin = tmp_path / "fake-slurm"
    fake_bin.mkdir()
    stderr_file = tmp_path / "job 4242 stderr.log"  # a path with spaces, as scontrol prints it
    stderr_file.write_text("some output of the job\n" + said)
    (fake_bin / "scontrol").write_text(f"#!/bin/sh\n{answer.replace('STDERR', str(stderr_file))}\n")
    (fake_bin / "scontrol").chmod(0o755)
    env = {"SLURM_JOB_ID": "4242", "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}"}
    if case == "scontrol requeue":
        env["SLURM_RESTART_COUNT"] = "1"  # a second requeue: Restarts 2 > this attempt's 1
    proc = project.start("job.py", "sleep=60", "save_dir=results/slurm", env=env)
    lock_path = project.root / "results" / "slurm" / "run.lock"
    running_receipt(lock_path)
    signalled = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    # The handler gave up on a silent scontrol after its bound, long before the 30 s.
    assert time.monotonic() - signalled < 10, "the handler waited for scontrol"
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    lock = load(lock_path)
    assert lock["status"] == status
    assert lock["error"]["signal"] == "SIGTERM"
    assert lock["error"]["message"] == message


def test_sigkill_leaves_running_which_readers_call_lost(project: Project) -> None:
    first = project.run("job.py", "param=1", "save_dir=results/k")
    assert first.returncode == 0, first.stderr
    completed = load(project.root / "results" / "k" / "run.lock")
    proc = project.start("job.py", "param=2", "sleep=60", "save_dir=results/k")
    lock_path = project.root / "results" / "k" / "run.lock"
    running_receipt(lock_path)
    proc.kill()
    proc.communicate(timeout=30)
    assert load(lock_path)["status"] == "running"  # nothing could write after SIGKILL
    # The receipt of the completed run is still there, beside the lost one.
    assert load(lock_path.with_name("run.lock.previous")) == completed

    show = naga(project, "show", "results/k")
    assert show.returncode == 0, show.stderr
    assert f"lost  pid {proc.pid} on {os.uname().nodename} (gone" in show.stdout
    listing = naga(project, "ls", "results", "--status", "lost")
    assert "results/k" in listing.stdout, listing.stdout
    verify = naga(project, "verify", "results/k")
    assert verify.returncode == 1
    assert "INCOMPLETE" in verify.stdout and "lost" in verify.stdout
    log = naga(project, "log", "results/k", "--tracking-uri", "sqlite:///mlflow.db")
    assert log.returncode == 0, log.stderr
    assert "skipped" in log.stdout and "lost" in log.stdout

    # A dead run does not block its directory; completing drops the kept receipt.
    again = project.run("job.py", "param=3", "save_dir=results/k")
    assert again.returncode == 0, again.stderr
    assert load(lock_path)["status"] == "completed"
    assert not lock_path.with_name("run.lock.previous").exists()


@venv_outside_only
def test_a_busy_save_dir_is_refused(project: Project) -> None:
    proc = project.start("job.py", "sleep=60", "save_dir=results/busy")
    lock_path = project.root / "results" / "busy" / "run.lock"
    before = running_receipt(lock_path)
    second = project.run("job.py", "param=9", "save_dir=results/busy")
    assert second.returncode == 2
    line = one_line_error(second.stderr)
    assert "results/busy" in line
    assert f"pid {proc.pid} on {os.uname().nodename}" in line
    assert "choose another save_dir" in line
    assert load(lock_path) == before  # untouched
    (lock_path.parent / "started").unlink()  # done with it: the job may complete now
    proc.communicate(timeout=60)
    assert proc.returncode == 0
    after = load(lock_path)
    assert after["status"] == "completed" and after["run_id"] == before["run_id"]
    assert after["config"]["param"] == 1


@venv_outside_only
def test_a_busy_save_dir_is_refused_from_a_sweep_job_too(project: Project) -> None:
    proc = project.start("job.py", "sleep=60", "save_dir='results/sw/param=1'")
    running_receipt(project.root / "results" / "sw" / "param=1" / "run.lock")
    sweep = project.run("job.py", "-m", "param=1,2", "save_dir=results/sw")
    assert sweep.returncode == 1
    summary = load(project.root / "results" / "sw" / "sweep.lock")
    jobs = {job["name"]: job for job in summary["jobs"]}
    assert jobs["param=2"]["status"] == "completed"
    assert jobs["param=1"]["status"] == "failed"
    assert "still running" in jobs["param=1"]["error"]
    (project.root / "results" / "sw" / "param=1" / "started").unlink()  # it may complete now
    proc.communicate(timeout=60)
    assert load(project.root / "results" / "sw" / "param=1" / "run.lock")["status"] == "completed"


@venv_outside_only
def test_sigterm_to_a_joblib_worker_interrupts_its_job_only(project: Project) -> None:
    proc = project.start("job.py", "-m", "sleep=0,30", "--n_jobs", "2", "save_dir=results/jw")
    job_dir = project.root / "results" / "jw" / "sleep=30"
    wait_for((job_dir / "started").exists, what="the long job")
    worker = int((job_dir / "started").read_text())
    assert worker != proc.pid
    os.kill(worker, signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1, stderr
    lock = load(job_dir / "run.lock")
    assert lock["status"] == "interrupted" and lock["error"]["signal"] == "SIGTERM"
    summary = load(project.root / "results" / "jw" / "sweep.lock")
    statuses = {job["name"]: job["status"] for job in summary["jobs"]}
    assert statuses["sleep=30"] == "interrupted"
    assert statuses["sleep=0"] == "completed"
    assert summary["counts"]["interrupted"] == 1
    assert "interrupted" in stderr


@venv_outside_only
def test_sigterm_to_a_sweep_stops_it_as_interrupted(project: Project) -> None:
    proc = project.start("job.py", "-m", "param=1,2,3", "sleep=60", "save_dir=results/st")
    first = project.root / "results" / "st" / "param=1"
    wait_for((first / "started").exists, what="the first job")
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert load(first / "run.lock")["status"] == "interrupted"
    summary = load(project.root / "results" / "st" / "sweep.lock")
    assert summary["status"] == "interrupted"
    assert [job["status"] for job in summary["jobs"]] == ["interrupted", "queued", "queued"]
    assert not (project.root / "results" / "st" / "param=2").exists()


@pytest.mark.parametrize("launcher", ["joblib", "basic"])
def test_skip_completed_reruns_only_what_did_not_complete(project: Project, launcher: str) -> None:
    flags = ["--n_jobs", "2"] if launcher == "joblib" else []
    argv = ["job.py", "-m", "param=1,2,3", "save_dir=results/skip", *flags, "--skip-completed"]
    assert project.run(*argv).returncode == 0
    root = project.root / "results" / "skip"
    run_ids = {p: load(root / f"param={p}" / "run.lock")["run_id"] for p in (1, 2, 3)}
    # Job 2 is lost (its receipt says running, its process is gone).
    lost = load(root / "param=2" / "run.lock") | {"status": "running", "pid": 2**22 + 7}
    lost.pop("finished_at")
    (root / "param=2" / "run.lock").write_text(_yaml(lost))
    again = project.run(*argv)
    assert again.returncode == 0, again.stderr
    summary = load(root / "sweep.lock")
    assert {job["name"]: job["status"] for job in summary["jobs"]} == {
        "param=1": "skipped",
        "param=2": "completed",
        "param=3": "skipped",
    }
    assert load(root / "param=1" / "run.lock")["run_id"] == run_ids[1]
    assert load(root / "param=2" / "run.lock")["run_id"] != run_ids[2]


def test_rerun_reproduces_a_joblib_job(project: Project, tmp_path: Path) -> None:
    sweep = project.run("job.py", "-m", "param=1,2", "--n_jobs", "2", "save_dir=results/rr")
    assert sweep.returncode == 0, sweep.stderr
    rerun = naga(project, "rerun", "results/rr/param=2", "--workdir", str(tmp_path / "w"))
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "reproduced" in rerun.stdout
    assert "job.py" in rerun.stdout


def test_rerun_reproduces_a_submitit_local_job(project: Project, tmp_path: Path) -> None:
    typed = ["job.py", "-m", "param=1,2", "hydra/launcher=submitit_local", "save_dir=results/sl"]
    sweep = project.run(*typed)
    assert sweep.returncode == 0, sweep.stderr
    lock = load(project.root / "results" / "sl" / "param=2" / "run.lock")
    # What the user typed (not submitit's bootstrap), the job's own overrides beside it.
    assert lock["command"] == typed
    assert "param=2" in lock["extra"]["sweep"]["overrides"]
    rerun = naga(project, "rerun", "results/sl/param=2", "--workdir", str(tmp_path / "w"))
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "reproduced" in rerun.stdout
    assert load(tmp_path / "w" / "out" / "run.lock")["config"]["param"] == 2


def test_rerun_of_a_module_run_starts_the_module(project: Project, tmp_path: Path) -> None:
    run = project.run("-m", "mypkg.train", "lr=0.5", "save_dir=results/mod")
    assert run.returncode == 0, run.stderr
    rerun = naga(project, "rerun", "results/mod", "--workdir", str(tmp_path / "w"))
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "-m mypkg.train" in rerun.stdout
    assert "reproduced" in rerun.stdout


def _yaml(data: dict) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False)
