"""Sweeps run exactly as users run them: `python job.py -m ...` in a fresh git repo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from helpers import one_line_error

from naga.errors import escape_newlines


def lock(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def sweep_lock(root: Path) -> dict:
    return lock(root / "sweep.lock")


def test_basic_sweep_every_job_has_a_receipt_and_failures_are_summarised(sweep_project, run_py):
    result = run_py("job.py", "-m", "param=1,2,3", cwd=sweep_project)
    assert result.returncode == 1, result.stderr
    root = sweep_project / "results" / "sweep"
    for param, status in [(1, "completed"), (2, "failed"), (3, "completed")]:
        record = lock(root / f"param={param}" / "run.lock")
        assert record["status"] == status
        assert record["launcher"] == "basic"
        assert record["config"]["param"] == param
        assert record["config"]["save_dir"] == f"results/sweep/param={param}"
        assert (root / f"param={param}" / "out.txt").read_text() == f"{param} a"
    failed = lock(root / "param=2" / "run.lock")
    assert failed["error"]["type"] == "ZeroDivisionError"
    assert "param 2 divides by zero" in failed["error"]["traceback"]
    # the job ran after the failure: one failure never stops the others
    summary = sweep_lock(root)
    assert summary["status"] == "failed"
    assert summary["counts"] == {
        "total": 3,
        "completed": 2,
        "failed": 1,
        "interrupted": 0,
        "lost": 0,
        "skipped": 0,
        "running": 0,
        "queued": 0,
    }
    jobs = {job["name"]: job for job in summary["jobs"]}
    assert jobs["param=2"]["error"] == "ZeroDivisionError: param 2 divides by zero"
    assert jobs["param=2"]["overrides"] == ["param=2"]
    assert jobs["param=1"]["run_id"] == lock(root / "param=1" / "run.lock")["run_id"]
    assert "2 completed, 1 failed of 3 jobs" in result.stderr
    assert (
        "failed: results/sweep/param=2: ZeroDivisionError: param 2 divides by zero" in result.stderr
    )


def test_grid_names_use_only_the_keys_that_vary(sweep_project, run_py):
    result = run_py(
        "job.py", "-m", "param=range(3,5)", "name=x,y", "save_dir=results/grid", cwd=sweep_project
    )
    assert result.returncode == 0, result.stderr
    root = sweep_project / "results" / "grid"
    names = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    assert names == ["param=3,name=x", "param=3,name=y", "param=4,name=x", "param=4,name=y"]
    assert sweep_lock(root)["counts"]["completed"] == 4


def test_save_dir_and_keys_that_do_not_vary_stay_out_of_job_names(sweep_project, run_py):
    one = run_py("job.py", "-m", "param=4", "save_dir=results/one", cwd=sweep_project)
    assert one.returncode == 0, one.stderr
    root = sweep_project / "results" / "one"
    assert [j["name"] for j in sweep_lock(root)["jobs"]] == ["job-000"]
    assert lock(root / "job-000" / "run.lock")["config"]["save_dir"] == "results/one/job-000"
    two = run_py("job.py", "-m", "param=3,4", "name=b", "save_dir=results/two", cwd=sweep_project)
    assert two.returncode == 0, two.stderr
    assert [j["name"] for j in sweep_lock(sweep_project / "results" / "two")["jobs"]] == [
        "param=3",
        "param=4",
    ]


@pytest.mark.parametrize("sweep", [[], ["-m", "param=3,4"]], ids=["one run", "a sweep"])
def test_an_empty_save_dir_is_refused(sweep_project, run_py, sweep):
    result = run_py("job.py", *sweep, "save_dir=", cwd=sweep_project)
    assert result.returncode == 2
    line = one_line_error(result.stderr)
    assert line.startswith("job.py: error: save_dir='' is empty: run.lock would be written into")
    assert "give a directory (save_dir=results/run)" in line
    assert not (sweep_project / "run.lock").exists()
    assert not list(sweep_project.glob("param=*"))
    assert "job param=" not in result.stdout


def test_cfg_with_a_sweep_prints_each_jobs_config(sweep_project, run_py):
    result = run_py("job.py", "-m", "param=3,4", "name=b", "--cfg", cwd=sweep_project)
    assert result.returncode == 0, result.stderr
    docs = list(yaml.safe_load_all(result.stdout))
    assert [(d["param"], d["name"], d["save_dir"]) for d in docs] == [
        (3, "b", "results/sweep/param=3"),
        (4, "b", "results/sweep/param=4"),
    ]
    assert result.stdout.startswith("# job 0 (param=3 name=b) in results/sweep/param=3\n")
    assert "job param=" not in result.stdout  # nothing ran
    assert not (sweep_project / "results").exists()


def test_sys_exit_in_a_job_is_a_failure_not_the_end_of_the_sweep(sweep_project, run_py):
    result = run_py("job.py", "-m", "param=5,6", cwd=sweep_project)
    assert result.returncode == 1
    root = sweep_project / "results" / "sweep"
    assert lock(root / "param=6" / "run.lock")["status"] == "completed"
    # sys.exit(3) is the job's own failure; "interrupted" means a signal stopped it.
    assert lock(root / "param=5" / "run.lock")["status"] == "failed"
    job = next(j for j in sweep_lock(root)["jobs"] if j["name"] == "param=5")
    assert job["status"] == "failed"


def test_joblib_jobs_write_their_run_lock_in_the_worker(sweep_project, run_py):
    result = run_py("job.py", "-m", "param=1,2,3", "--n_jobs", "2", cwd=sweep_project)
    assert result.returncode == 1, result.stderr
    root = sweep_project / "results" / "sweep"
    pids = set()
    for param in (1, 2, 3):
        record = lock(root / f"param={param}" / "run.lock")
        assert record["launcher"] == "joblib"
        pids.add(json.loads((root / ".naga-sweep" / f"param={param}.json").read_text())["pid"])
    assert len(pids) >= 1
    summary = sweep_lock(root)
    assert summary["launcher"] == "joblib"
    assert [j["status"] for j in summary["jobs"]] == ["completed", "failed", "completed"]


@pytest.mark.slow
def test_submitit_local_launcher(sweep_project, run_py):
    result = run_py("job.py", "-m", "param=1,2", "hydra/launcher=submitit_local", cwd=sweep_project)
    assert result.returncode == 1, result.stderr
    root = sweep_project / "results" / "sweep"
    assert lock(root / "param=1" / "run.lock")["launcher"] == "submitit_local"
    assert lock(root / "param=2" / "run.lock")["status"] == "failed"
    # hydra-submitit-launcher calls a failed job COMPLETED; naga must not
    assert [j["status"] for j in sweep_lock(root)["jobs"]] == ["completed", "failed"]


def test_readme_tasks_example_with_literal_backslash_n(sweep_project, run_py):
    # `echo "1\n2\n3" > tasks.txt` in bash writes a single line with literal `\n`
    (sweep_project / "tasks.txt").write_text("1\\n3\\n4\n")
    result = run_py(
        "job.py", "--tasks", "tasks.txt", "--task_to", "param", "--n_jobs=3", cwd=sweep_project
    )
    assert result.returncode == 0, result.stderr
    root = sweep_project / "results" / "sweep"
    assert [j["name"] for j in sweep_lock(root)["jobs"]] == ["param=1", "param=3", "param=4"]
    assert lock(root / "param=4" / "run.lock")["config"]["param"] == 4


def test_txt_tasks_are_parsed_like_override_values(sweep_project, run_py):
    (sweep_project / "names.txt").write_text("# names to try\nplain\n'quoted, with comma'\n\n")
    result = run_py("job.py", "--tasks", "names.txt", "--task-to", "name", cwd=sweep_project)
    assert result.returncode == 0, result.stderr
    jobs = sweep_lock(sweep_project / "results" / "sweep")["jobs"]
    configs = [
        lock(sweep_project / "results" / "sweep" / j["save_dir"] / "run.lock")["config"]
        for j in jobs
    ]
    assert [c["name"] for c in configs] == ["plain", "quoted, with comma"]


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_structured_tasks_merge_mappings_into_the_root(sweep_project, run_py, suffix):
    tasks = [{"param": 3, "name": "x"}, {"param": 4}]
    text = json.dumps(tasks) if suffix == ".json" else yaml.safe_dump(tasks)
    (sweep_project / f"tasks{suffix}").write_text(text)
    result = run_py("job.py", "--tasks", f"tasks{suffix}", "save_dir=results/t", cwd=sweep_project)
    assert result.returncode == 0, result.stderr
    root = sweep_project / "results" / "t"
    jobs = sweep_lock(root)["jobs"]
    configs = [lock(root / j["save_dir"] / "run.lock")["config"] for j in jobs]
    assert [(c["param"], c["name"]) for c in configs] == [(3, "x"), (4, "a")]


def test_tasks_key_takes_the_list_from_the_config(sweep_project, run_py):
    result = run_py("job.py", "--tasks-key", "tasks", cwd=sweep_project)
    assert result.returncode == 0, result.stderr
    root = sweep_project / "results" / "sweep"
    configs = [lock(root / j["save_dir"] / "run.lock")["config"] for j in sweep_lock(root)["jobs"]]
    assert [(c["param"], c["name"]) for c in configs] == [(7, "a"), (8, "b")]


def test_skip_completed_runs_only_what_is_missing_failed_or_changed(sweep_project, run_py):
    first = run_py("job.py", "-m", "param=1,2,3", cwd=sweep_project)
    assert first.returncode == 1
    root = sweep_project / "results" / "sweep"
    run_ids = {p: lock(root / f"param={p}" / "run.lock")["run_id"] for p in (1, 3)}
    second = run_py("job.py", "-m", "param=1,2,3,4", "--skip-completed", cwd=sweep_project)
    assert second.returncode == 1, second.stderr
    statuses = {j["name"]: j["status"] for j in sweep_lock(root)["jobs"]}
    assert statuses == {
        "param=1": "skipped",
        "param=2": "failed",
        "param=3": "skipped",
        "param=4": "completed",
    }
    assert {p: lock(root / f"param={p}" / "run.lock")["run_id"] for p in (1, 3)} == run_ids
    assert "2 skipped" in second.stderr
    # a changed base value re-runs everything
    third = run_py("job.py", "-m", "param=1,3", "name=z", "--skip-completed", cwd=sweep_project)
    assert third.returncode == 0
    assert {j["status"] for j in sweep_lock(root)["jobs"]} == {"completed"}
    # an edited source file (dirty tree) re-runs too
    fourth = run_py("job.py", "-m", "param=1,3", "name=z", "--skip-completed", cwd=sweep_project)
    assert {j["status"] for j in sweep_lock(root)["jobs"]} == {"skipped"}, fourth.stderr
    (sweep_project / "job.py").write_text((sweep_project / "job.py").read_text() + "\n# edited\n")
    fifth = run_py("job.py", "-m", "param=1,3", "name=z", "--skip-completed", cwd=sweep_project)
    assert {j["status"] for j in sweep_lock(root)["jobs"]} == {"completed"}, fifth.stderr


def test_skip_completed_says_why_completed_jobs_run_again(sweep_project, run_py):
    data = sweep_project / "results" / "data.txt"  # git-ignored: data, not code
    data.parent.mkdir()
    data.write_text("1\n")
    sweep = ["job.py", "-m", "param=1,3", "+input=${runlock_data:results/data.txt}"]
    assert run_py(*sweep, cwd=sweep_project).returncode == 0

    def again(*extra: str) -> str:
        result = run_py(*sweep, *extra, "--skip-completed", cwd=sweep_project)
        assert result.returncode == 0, result.stderr
        return "\n".join(line for line in result.stderr.splitlines() if "--skip-completed" in line)

    assert again() == ""  # nothing changed: both skipped, nothing to explain
    (sweep_project / "notes.txt").write_text("a new untracked file\n")
    assert again() == (
        "[naga] --skip-completed: 2 completed jobs run again (param=1, param=3): "
        f"code changed in {escape_newlines(str(sweep_project))}: notes.txt (added)"
    )
    assert again("name=z") == (
        "[naga] --skip-completed: 2 completed jobs run again (param=1, param=3): "
        "config changed: name a -> z"
    )
    data.write_text("2\n")
    assert again("name=z") == (
        "[naga] --skip-completed: 2 completed jobs run again (param=1, param=3): "
        "data changed: results/data.txt"
    )


def test_debug_mode_runs_in_process_and_stops_at_the_first_failure(sweep_project, run_py):
    result = run_py(
        "job.py", "-m", "param=1,2,3", "--n_jobs", "2", cwd=sweep_project, env={"NAGA_DEBUG": "1"}
    )
    assert result.returncode == 1
    assert "NAGA_DEBUG is set" in result.stderr
    assert "ZeroDivisionError: param 2 divides by zero" in result.stderr
    root = sweep_project / "results" / "sweep"
    assert lock(root / "param=1" / "run.lock")["launcher"] == "basic"
    assert not (root / "param=3").exists()


def test_plain_log_lines_when_not_a_terminal(sweep_project, run_py):
    result = run_py("job.py", "-m", "param=3,4", cwd=sweep_project)
    assert "[naga] job 1/2 completed" in result.stderr
    assert "[naga] job 2/2 completed" in result.stderr
    assert "\r" not in result.stderr


def test_a_swept_job_resolves_interpolations_in_its_own_values(sweep_project, run_py):
    # `name='p${param}'` is passed on to each job unresolved, as Hydra's multirun does, so
    # each job resolves it with its own param (it used to be resolved once for the sweep).
    result = run_py("job.py", "-m", "param=1,2", "name='p${param}'", cwd=sweep_project)
    assert result.returncode == 1, result.stderr  # param=2 fails on purpose
    root = sweep_project / "results" / "sweep"
    assert lock(root / "param=1" / "run.lock")["config"]["name"] == "p1"
    assert lock(root / "param=2" / "run.lock")["config"]["name"] == "p2"
