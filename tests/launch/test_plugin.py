"""The Hydra callback plugin in a plain @hydra.main app (no naga code in the app)."""

from __future__ import annotations

import subprocess
import sys

import yaml
from helpers import APPS


def _project(tmp_path, make_git_repo):
    return make_git_repo(
        tmp_path / "plain",
        files={"app.py": (APPS / "hydra_plain.py").read_text(), ".gitignore": "out/\n"},
    )


def test_single_run_writes_run_lock_in_the_output_dir(tmp_path, make_git_repo, run_py):
    proj = _project(tmp_path, make_git_repo)
    result = run_py(
        "app.py", "hydra/callbacks=naga_runlock", "hydra.run.dir=out/one", "x=3", cwd=proj
    )
    assert result.returncode == 0, result.stderr
    record = yaml.safe_load((proj / "out" / "one" / "run.lock").read_text())
    assert record["status"] == "completed"
    assert record["config"] == {"x": 3, "label": "3-run"}
    assert record["launcher"] is None
    assert record["repos"]["."]["commit"]
    assert record["metrics"] == {"value": 1.5}


def test_multirun_joblib_records_each_job_and_failures(tmp_path, make_git_repo, run_py):
    proj = _project(tmp_path, make_git_repo)
    result = run_py(
        "app.py",
        "-m",
        "hydra/callbacks=naga_runlock",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        "hydra.sweep.dir=out/multi",
        "x=1,2",
        cwd=proj,
    )
    assert result.returncode == 1  # plain Hydra still raises the first failure
    ok = yaml.safe_load((proj / "out" / "multi" / "0" / "run.lock").read_text())
    bad = yaml.safe_load((proj / "out" / "multi" / "1" / "run.lock").read_text())
    assert ok["status"] == "completed" and ok["launcher"] == "joblib"
    assert bad["status"] == "failed" and bad["error"]["type"] == "ValueError"
    assert ok["metrics"] == {"value": 0.5} and bad["metrics"] == {}


def test_plugin_import_is_cheap_and_registers_only_its_config():
    code = (
        "import sys\n"
        "import hydra_plugins.naga_runlock.config, hydra_plugins.naga_runlock.callback\n"
        "from hydra.core.config_store import ConfigStore\n"
        "assert 'naga_runlock.yaml' in ConfigStore.instance().repo['hydra']['callbacks']\n"
        "heavy = [m for m in ('pygit2', 'mlflow', 'naga.lock', 'naga.lock.session', "
        "'submitit', 'joblib') "
        "if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
