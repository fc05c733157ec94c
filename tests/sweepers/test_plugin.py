"""The ``hydra/sweeper=naga_optuna`` plugin: registered with Hydra, cheap to import.

Hydra imports every module under ``hydra_plugins`` at each start of every app, so the
plugin must load neither Optuna nor naga's launch code; and a plain ``@hydra.main`` app
that names it is told how to run the study instead (the study needs naga's receipts).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from helpers import APPS

HEAVY = ("optuna", "naga.launch", "naga.lock", "submitit", "joblib", "pygit2", "mlflow")


def test_hydra_discovers_the_plugin_without_loading_optuna() -> None:
    code = (
        "import sys\n"
        "from hydra.core.plugins import Plugins\n"
        "from hydra.plugins.sweeper import Sweeper\n"
        "from hydra.core.config_store import ConfigStore\n"
        "names = [p.__name__ for p in Plugins.instance().discover(Sweeper)]\n"
        "node = ConfigStore.instance().load('hydra/sweeper/naga_optuna.yaml').node\n"
        "print(sorted(names), node.n_trials, node.n_jobs, node.objective, node.sampler)\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    found, heavy = out.stdout.splitlines()
    assert found == "['BasicSweeper', 'NagaOptunaSweeper'] 20 1 value tpe"
    assert heavy == "[]"


def test_a_plain_hydra_app_naming_it_is_told_how_to_run_the_study(tmp_path: Path) -> None:
    app = tmp_path / "plain.py"
    app.write_text((APPS / "hydra_plain.py").read_text())
    done = subprocess.run(
        [sys.executable, str(app), "-m", "hydra/sweeper=naga_optuna", "x=1,2"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    # Hydra's own report: the message, then its HYDRA_FULL_ERROR hint; no traceback.
    assert "Traceback" not in done.stderr
    line = done.stderr.strip().splitlines()[0]
    assert line.startswith("hydra/sweeper=naga_optuna: naga's Optuna sweeper runs from @clicfg")
