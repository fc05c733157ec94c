"""``naga status`` and ``naga resume`` on local sweeps, and their one-line errors (exit 2).

Basic and joblib sweeps resume by running again here; Slurm sweeps are in test_detach.py.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from helpers import one_line_error

Run = Callable[..., subprocess.CompletedProcess[str]]


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


@pytest.mark.slow
@pytest.mark.parametrize("launcher", [[], ["--n_jobs", "2"]], ids=["basic", "joblib"])
def test_resume_runs_again_only_what_did_not_complete(
    detach_project: Path, run_py: Run, run_naga: Run, launcher: list[str]
) -> None:
    first = run_py("job.py", "-m", "param=1,2,3", "fail_param=2", *launcher, cwd=detach_project)
    assert first.returncode == 1, first.stderr
    root = detach_project / "results" / "sweep"
    before = {p: load(root / f"param={p}" / "run.lock")["run_id"] for p in (1, 2, 3)}

    shown = run_naga("status", "results/sweep", cwd=detach_project)
    assert shown.returncode == 1
    assert shown.stdout.splitlines()[-1] == (
        "3 jobs: 0 queued, 0 running, 2 completed, 1 failed, 0 interrupted, 0 lost"
    )
    assert "ZeroDivisionError: param 2 divides by zero" in shown.stdout

    again = run_naga("resume", "results/sweep", cwd=detach_project)
    assert again.returncode == 1, again.stdout + again.stderr  # still failing: not fixed yet
    assert "resuming 1 of 3 jobs (1 failed)" in again.stdout
    assert load(root / "param=1" / "run.lock")["run_id"] == before[1]
    assert load(root / "param=2" / "run.lock")["run_id"] != before[2]

    (detach_project / "fixed").write_text("")
    fixed = run_naga("resume", "results/sweep", cwd=detach_project)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    summary = load(root / "sweep.lock")
    assert [job["status"] for job in summary["jobs"]] == ["completed"] * 3
    assert summary["status"] == "completed"
    assert summary["sweep_id"] == load(root / "param=2" / "run.lock")["extra"]["sweep"]["sweep_id"]
    for param in (1, 3):
        assert load(root / f"param={param}" / "run.lock")["run_id"] == before[param]
    done = run_naga("status", "results/sweep", "--json", cwd=detach_project)
    assert done.returncode == 0
    assert json.loads(done.stdout)["counts"]["completed"] == 3
    nothing = run_naga("resume", "results/sweep", cwd=detach_project)
    assert nothing.returncode == 0 and nothing.stdout.startswith("nothing to resume")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["-m", "param=1,2", "--detach"],
            "--detach needs a launcher that runs jobs without this command (submitit_slurm or "
            "submitit_local), but this sweep uses the basic launcher",
        ),
        (
            ["-m", "param=1,2", "--n_jobs", "2", "--detach"],
            "but this sweep uses the joblib launcher",
        ),
        (["param=1", "--detach"], "--detach only applies to sweeps"),
    ],
)
def test_detach_needs_a_submitit_sweep(
    detach_project: Path, run_py: Run, argv: list[str], expected: str
) -> None:
    result = run_py("job.py", *argv, cwd=detach_project)
    assert result.returncode == 2
    assert expected in one_line_error(result.stderr)
    assert not (detach_project / "results").exists()


@pytest.mark.parametrize("value", ["0", "-3", "2.5", "many"])
def test_tasks_per_job_below_one_is_a_one_line_error(
    detach_project: Path, run_py: Run, value: str
) -> None:
    (detach_project / "s.yaml").write_text(f"partition: debug\ntasks_per_job: {value}\n")
    result = run_py("job.py", "-m", "param=1,2", "--slurm_config", "s.yaml", cwd=detach_project)
    assert result.returncode == 2
    assert "tasks_per_job" in one_line_error(result.stderr)
    assert "is not a whole number >= 1" in result.stderr


def test_unknown_slurm_key_lists_naga_keys_too(detach_project: Path, run_py: Run) -> None:
    (detach_project / "s.yaml").write_text("partition: debug\ntasks_per_jobs: 5\n")
    result = run_py("job.py", "-m", "param=1,2", "--slurm_config", "s.yaml", cwd=detach_project)
    assert result.returncode == 2
    line = one_line_error(result.stderr)
    assert "unknown parameter 'tasks_per_jobs'" in line and "tasks_per_job" in line


@pytest.mark.parametrize("command", ["status", "resume"])
def test_status_and_resume_need_a_sweep_lock(tmp_path: Path, run_naga: Run, command: str) -> None:
    (tmp_path / "empty").mkdir()
    result = run_naga(command, "empty", cwd=tmp_path)
    assert result.returncode == 2
    assert one_line_error(result.stderr) == (
        f"naga {command}: error: naga {command} empty: no sweep.lock in this directory; give "
        "the sweep's directory (the save_dir a -m or --tasks run reported)"
    )
    missing = run_naga(command, "nowhere", cwd=tmp_path)
    assert missing.returncode == 2
    assert "nowhere: no such directory" in one_line_error(missing.stderr)


@pytest.mark.slow
def test_resume_detach_of_a_local_sweep_is_refused(
    detach_project: Path, run_py: Run, run_naga: Run
) -> None:
    assert run_py("job.py", "-m", "param=1,2", "fail_param=2", cwd=detach_project).returncode == 1
    result = run_naga("resume", "results/sweep", "--detach", cwd=detach_project)
    assert result.returncode == 2
    line = one_line_error(result.stderr)
    assert "naga resume --detach" in line and "resume without --detach" in line


def test_resume_of_a_sweep_lock_without_launch_record(tmp_path: Path, run_naga: Run) -> None:
    root = tmp_path / "old"
    root.mkdir()
    (root / "sweep.lock").write_text(
        "naga_sweep: 1\nsweep_id: abc\nstatus: failed\nlauncher: basic\n"
        "jobs:\n- {num: 0, name: a, overrides: [], save_dir: a, status: failed}\n"
    )
    result = run_naga("resume", "old", cwd=tmp_path)
    assert result.returncode == 2
    assert "records no launch command" in one_line_error(result.stderr)


@pytest.mark.slow
def test_detach_with_submitit_local_then_watch_then_resume(
    detach_project: Path, run_py: Run, run_naga: Run
) -> None:
    submitted = run_py(
        "job.py",
        "-m",
        "param=1,2",
        "fail_param=2",
        "sleep=2",
        "sleep_param=1",
        "hydra/launcher=submitit_local",
        "--detach",
        cwd=detach_project,
    )
    assert submitted.returncode == 0, submitted.stderr
    assert submitted.stdout.startswith("started 2 jobs on this machine (submitit_local)")
    summary = load(detach_project / "results" / "sweep" / "sweep.lock")
    assert all(job["job_id"] for job in summary["jobs"])  # the local jobs' controller pids
    watched = run_naga(
        "status", "results/sweep", "--watch", "--interval", "0.3", cwd=detach_project
    )
    assert watched.returncode == 1, watched.stdout + watched.stderr
    assert watched.stdout.rstrip().endswith(
        "done: 2 jobs: 0 queued, 0 running, 1 completed, 1 failed, 0 interrupted, 0 lost"
    )
    final = load(detach_project / "results" / "sweep" / "sweep.lock")
    assert [job["status"] for job in final["jobs"]] == ["completed", "failed"]
    assert final["status"] == "failed"

    # A plain resume (not --detach) runs param=2 again and keeps param=1's job id.
    (detach_project / "fixed").write_text("")
    resumed = run_naga("resume", "results/sweep", cwd=detach_project)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    after = load(detach_project / "results" / "sweep" / "sweep.lock")
    assert after["jobs"][0]["job_id"] == final["jobs"][0]["job_id"]
    assert after["jobs"][1]["job_id"] and after["jobs"][1]["status"] == "completed"
    shown = run_naga("status", "results/sweep", cwd=detach_project)
    assert shown.returncode == 0, shown.stdout
    rows = [row.split() for row in shown.stdout.splitlines() if row.strip().startswith("param=")]
    assert [row[2] for row in rows] == [after["jobs"][0]["job_id"], after["jobs"][1]["job_id"]]
