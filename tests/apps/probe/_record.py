"""What a job of a sweep sees, written as probe.json into its output directory.

Shared by the naga app (``naga/probe.py``) and the plain Hydra app (``hydra/probe.py``):
both scripts are called ``probe.py``, so ``hydra.job.name`` is the same for both.
"""

import json
import os
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from omegaconf import OmegaConf

CONFIG = {
    "param": 1,
    "name": "a",
    "save_dir": "results/probe",
    "tag": "${name}-${param}",
    "num": "${hydra:job.num}",
    "dirname": "${hydra:job.override_dirname}",
    "job_name": "${hydra:job.name}",
    "mode": "${hydra:mode}",
    "year": "${now:%Y}",
}


def record(cfg, out: Path) -> None:
    """Write what the job sees into ``out/probe.json``."""
    hydra = HydraConfig.get()
    resolved = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    job = OmegaConf.to_container(hydra.job, resolve=True, enum_to_str=True)
    assert isinstance(resolved, dict) and isinstance(job, dict)
    resolved.pop("save_dir")  # naga sets it to the job's directory
    job.pop("config_name")  # naga's primary config is called naga_app
    # Where the jobs go differs: naga names each job's directory itself.
    where = ("hydra.sweep.dir=", "hydra.sweep.subdir=")
    facts = {
        "config": resolved,
        "job": job,
        "task": list(hydra.overrides.task),
        "hydra": [item for item in hydra.overrides.hydra if not item.startswith(where)],
        "choices": OmegaConf.to_container(hydra.runtime.choices),
        "mode": str(hydra.mode),
        "cwd": os.getcwd(),
    }
    (out / "probe.json").write_text(json.dumps(facts, sort_keys=True))
