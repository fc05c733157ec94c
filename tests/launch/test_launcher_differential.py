"""Each launcher's jobs see what the same launcher gives them in a plain Hydra multirun.

The same sweep runs as users run it, twice: with a naga app (``tests/apps/probe/naga``),
where each job's config is derived from one composed base and handed to the launcher, and
with the same app in plain Hydra (``tests/apps/probe/hydra``), whose launcher composes every
job. Each job writes what it sees (its resolved config, ``hydra.job``, the overrides, the
runtime choices, the mode, its working directory); the two must agree job by job.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

APPS = Path(__file__).resolve().parents[1] / "apps" / "probe"
# naga's own Hydra defaults for a sweep (naga.launch.sweep), given to Hydra explicitly.
NAGA_DEFAULTS = [
    "hydra/hydra_logging=none",
    "hydra/job_logging=none",
    "hydra.output_subdir=null",
    "hydra.job.chdir=false",
    "hydra.mode=MULTIRUN",
]
SWEEP = ["param=1,2", "name=a,'b c'", "+extra=x"]
LAUNCHERS = {
    "basic": [],
    "joblib": ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"],
    "submitit_local": ["hydra/launcher=submitit_local"],
}


def _probes(root: Path, *, drop_id: bool) -> dict[tuple[str, ...], dict]:
    probes = {}
    for path in root.glob("*/probe.json"):
        facts = json.loads(path.read_text())
        if drop_id:  # a submitit job's id is its scheduler's job id
            facts["job"].pop("id")
        probes[tuple(facts["task"])] = facts
    return probes


@pytest.mark.parametrize(
    "launcher",
    [
        pytest.param(name, marks=[pytest.mark.slow] if name == "submitit_local" else [])
        for name in LAUNCHERS
    ],
)
def test_each_job_sees_what_hydras_own_launcher_gives_it(launcher, tmp_path, run_py):
    project = tmp_path / "probe"
    shutil.copytree(APPS, project, ignore=shutil.ignore_patterns("__pycache__"))
    overrides = LAUNCHERS[launcher]
    naga = run_py(project / "naga" / "probe.py", "-m", *overrides, *SWEEP, cwd=project)
    assert naga.returncode == 0, naga.stderr
    hydra = run_py(
        project / "hydra" / "probe.py",
        "-m",
        *NAGA_DEFAULTS,
        *overrides,
        "hydra.sweep.dir=results/hydra",
        *SWEEP,
        cwd=project,
    )
    assert hydra.returncode == 0, hydra.stderr
    drop_id = launcher == "submitit_local"
    mine = _probes(project / "results" / "probe", drop_id=drop_id)
    hydras = _probes(project / "results" / "hydra", drop_id=drop_id)
    assert len(hydras) == 4
    assert mine == hydras
