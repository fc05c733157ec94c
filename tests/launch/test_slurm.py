"""Sweeps on a real one-node Slurm cluster started on this machine (see conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

pytestmark = [pytest.mark.slurm, pytest.mark.slow]


@pytest.fixture
def tmp_path(tmp_path: Path) -> Path:
    """pytest's own tmp dir, not the sweep tests' hostile one: submitit writes job paths into
    line-based #SBATCH directives, where a newline or a space would split them (a limit of
    sbatch scripts, not of naga)."""
    return tmp_path.parent


def lock(path):
    return yaml.safe_load(path.read_text())


def test_slurm_config_file_runs_every_job_under_slurm(sweep_project, run_py, slurm_cluster):
    (sweep_project / "slurm.yaml").write_text(
        "partition: debug\ntimeout_min: 5\ncpus_per_task: 1\nmem_gb: 1\n"
        "setup: ['export NAGA_TEST_SETUP=1']\nadditional_parameters: {comment: naga-test}\n"
    )
    result = run_py(
        "job.py",
        "-m",
        "param=1,2",
        "--slurm_config",
        "slurm.yaml",
        cwd=sweep_project,
        env=slurm_cluster,
    )
    assert result.returncode == 1, result.stderr
    root = sweep_project / "results" / "sweep"
    ok, failed = lock(root / "param=1" / "run.lock"), lock(root / "param=2" / "run.lock")
    assert ok["status"] == "completed" and ok["launcher"] == "submitit_slurm"
    assert ok["slurm_job_id"] and failed["slurm_job_id"]
    assert failed["status"] == "failed" and failed["error"]["type"] == "ZeroDivisionError"
    summary = yaml.safe_load((root / "sweep.lock").read_text())
    assert [j["status"] for j in summary["jobs"]] == ["completed", "failed"]
    assert all(j["slurm_job_id"] for j in summary["jobs"])
    assert "1 completed, 1 failed of 2 jobs" in result.stderr


def test_hydra_launcher_override_selects_slurm(sweep_project, run_py, slurm_cluster):
    result = run_py(
        "job.py",
        "-m",
        "param=3,4",
        "hydra/launcher=submitit_slurm",
        "hydra.launcher.timeout_min=5",
        cwd=sweep_project,
        env=slurm_cluster,
    )
    assert result.returncode == 0, result.stderr
    root = sweep_project / "results" / "sweep"
    for param in (3, 4):
        record = lock(root / f"param={param}" / "run.lock")
        assert record["launcher"] == "submitit_slurm"
        assert record["slurm_job_id"]
        assert (root / f"param={param}" / "out.txt").read_text() == f"{param} a"
