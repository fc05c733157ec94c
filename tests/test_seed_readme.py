"""Every example of the original README (shared/seeds/naga-readme.md) works as written.

Run in a fresh git repository holding the quickstart script and the conf/ files, exactly
with the commands the README shows (the tasks file is written by bash's own `echo`). The
README's log.py is run as written by tests/tracking/test_cli.py::test_readme_log_py_end_to_end.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def project(tmp_path: Path, make_git_repo) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(REPO / "examples" / "quickstart" / "process.py", root / "process.py")
    shutil.copytree(REPO / "conf", root / "conf")
    (root / ".gitignore").write_text("results/\ndata/\nmlflow.db\nmlartifacts/\nmlruns/\n")
    make_git_repo(root, files={})
    return root


def lock(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def test_runlock_step_and_default_run(project, run_py):
    result = run_py("process.py", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "Running with param: 1" in result.stdout
    receipt = lock(project / "results/process/run.lock")
    assert receipt["status"] == "completed"
    assert receipt["config"]["param"] == 1
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert receipt["repos"]["."]["commit"] == head
    entry = receipt["data"]["data/preprocess/input.csv"]
    if shutil.which("b3sum"):
        b3 = subprocess.run(
            ["b3sum", "--no-names", "data/preprocess/input.csv"],
            cwd=project,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert entry["hash"] == f"blake3:{b3}"


def test_override_config_file_and_experiment(project, run_py):
    assert run_py("process.py", "-o", "param=10", cwd=project).returncode == 0
    assert (project / "results/process/out.txt").read_text() == "some data" * 10
    assert lock(project / "results/process/run.lock")["config"]["param"] == 10

    assert run_py("process.py", "--config", "conf/my_config.yml", cwd=project).returncode == 0
    assert lock(project / "results/my_config/run.lock")["config"]["param"] == 3

    result = run_py(
        "process.py", "--config", "conf/multi_stage.yml", "--experiment", "process_v2", cwd=project
    )
    assert result.returncode == 0, result.stderr
    assert lock(project / "results/process_v2/run.lock")["config"]["param"] == 5


def test_tasks_file_written_by_echo_runs_three_jobs_in_parallel(project, run_py):
    subprocess.run(["bash", "-c", 'echo "1\\n2\\n3" > tasks.txt'], cwd=project, check=True)
    result = run_py(
        "process.py",
        "--tasks",
        "tasks.txt",
        "--task_to",
        "param",
        "--n_jobs=3",
        cwd=project,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    locks = sorted((project / "results/process").glob("*/run.lock"))
    assert len(locks) == 3, result.stdout + result.stderr
    params = sorted(lock(p)["config"]["param"] for p in locks)
    assert params == [1, 2, 3]
    assert all(lock(p)["status"] == "completed" for p in locks)
