"""Subprocess tests, run as users run them: the README's log.py, `naga log`, concurrency."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import APPS, copy_app, one_line_error


def _client(db: Path) -> Any:
    from mlflow import MlflowClient

    return MlflowClient("sqlite:///" + db.resolve().as_posix())


def _runs(db: Path, experiment: str = "0") -> list[Any]:
    return _client(db).search_runs([experiment])


@pytest.fixture
def project(weird_tmp_path: Path, make_git_repo, template_db: Path) -> Path:
    """The README project in a git repo with an awkward path, and a migrated ./mlflow.db."""
    files = {"process.py": "readme_process.py", "log.py": "readme_log.py"}
    root = make_git_repo(
        weird_tmp_path / "proj", {name: (APPS / app).read_text() for name, app in files.items()}
    )
    shutil.copyfile(template_db, root / "mlflow.db")
    return root


@pytest.mark.slow
def test_readme_log_py_end_to_end(project: Path, run_py) -> None:
    done = run_py("process.py", cwd=project)
    assert done.returncode == 0, done.stderr
    first = run_py("log.py", cwd=project)
    assert first.returncode == 0, first.stderr
    second = run_py("log.py", cwd=project)
    assert second.returncode == 0, second.stderr
    ids = [p.stdout.split("Logged artifacts for run: ")[1].split()[0] for p in (first, second)]
    # MLflow's own default store: ./mlflow.db in the working directory
    client = _client(project / "mlflow.db")
    old, new = (client.get_run(i) for i in ids)
    assert old.data.tags["naga.status"] == "deprecated"
    assert new.data.tags["naga.status"] == "active"
    assert new.data.tags["naga.logical_run_id"] == (project / "results/process").as_posix()
    assert new.data.params["param"] == "1"
    assert new.data.tags["naga.data.data/preprocess/input.csv.hash"].startswith("blake3:")
    assert {f.path for f in client.list_artifacts(ids[1])} == {"run.lock", "out.txt"}
    assert not (project / "mlruns" / "0" / "meta.yaml").exists()  # no file store


@pytest.mark.slow
def test_naga_log_skips_forces_and_fails(project: Path, run_py, run_naga) -> None:
    assert run_py("process.py", cwd=project).returncode == 0
    (project / "results" / "bare").mkdir()
    (project / "results" / "broken").mkdir()
    (project / "results" / "broken" / "run.lock").write_text("config: [unclosed\n")

    first = run_naga("log", "results/process", "results/bare", cwd=project)
    assert first.returncode == 0, first.stderr
    assert "[1/2] logged results/process -> run " in first.stdout
    # A folder without run.lock is no run: nothing is logged for it (issue 20).
    assert "[2/2] skipped results/bare: no run.lock here or below; not a run" in first.stdout

    again = run_naga("log", "results/process", cwd=project)
    assert again.returncode == 0, again.stderr
    assert "[1/1] skipped results/process: already logged as run" in again.stdout
    assert again.stdout.splitlines()[0].endswith(" (active)")

    forced = run_naga("log", "--force", "results/process", "--tag", "why=diag", cwd=project)
    assert forced.returncode == 0, forced.stderr
    assert "[1/1] logged results/process" in forced.stdout

    missing = run_naga("log", "results/process", "results/nope", cwd=project)
    assert missing.returncode == 2
    line = one_line_error(missing.stderr)
    assert "naga log: error: run directory 'results/nope' does not exist" in line
    assert missing.stdout == ""  # nothing logged when an argument is wrong

    mixed = run_naga("log", "results/broken", "results/process", "-e", "other", cwd=project)
    assert mixed.returncode == 1
    assert "[1/2] FAILED results/broken:" in mixed.stderr
    assert "is not valid YAML" in mixed.stderr
    assert "[2/2] logged results/process" in mixed.stdout
    assert "Traceback" not in mixed.stderr

    runs = _runs(project / "mlflow.db")
    process = [r for r in runs if r.data.tags["naga.logical_run_id"].endswith("results/process")]
    assert sorted(r.data.tags["naga.status"] for r in process) == ["active", "deprecated"]
    active = next(r for r in process if r.data.tags["naga.status"] == "active")
    assert active.data.tags["why"] == "diag"
    other = _client(project / "mlflow.db").get_experiment_by_name("other")
    assert len(_runs(project / "mlflow.db", other.experiment_id)) == 1


@pytest.mark.interpreter_independent
@pytest.mark.slow
def test_concurrent_processes_on_new_sqlite_store(tmp_path: Path) -> None:
    import time

    import yaml

    save_dir = tmp_path / "results" / "shared"
    save_dir.mkdir(parents=True)
    (save_dir / "run.lock").write_text(
        yaml.safe_dump({"naga_lock": 1, "run_id": "r1", "status": "completed", "config": {"x": 1}})
    )
    script = copy_app("log_at.py", tmp_path / "race.py")
    db = tmp_path / "fresh.db"  # brand new: MLflow's schema creation races too
    env = {**os.environ, "MLFLOW_TRACKING_URI": "sqlite:///" + db.as_posix()}
    start = str(time.time() + 4)
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(save_dir), start],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [proc.communicate(timeout=240) for proc in procs]
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    ids = {out.strip() for out, _ in outputs}
    assert len(ids) == 4
    runs = _runs(db)
    assert {r.info.run_id for r in runs} == ids
    assert sorted(r.data.tags["naga.status"] for r in runs) == [
        "active",
        "deprecated",
        "deprecated",
        "deprecated",
    ]
    assert all(r.info.status == "FINISHED" for r in runs)
