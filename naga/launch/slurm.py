"""``--slurm_config FILE``: Slurm parameters for hydra-submitit-launcher, from a YAML file.

FILE is a mapping of the launcher's parameters, e.g.::

    partition: debug
    timeout_min: 30
    cpus_per_task: 4
    gpus_per_node: 1
    mem_gb: 16
    array_parallelism: 20          # at most 20 jobs of the sweep at once
    setup: ["module load cuda"]    # shell lines run before the job
    additional_parameters: {mail-type: END}   # any other sbatch option

Each key becomes a ``hydra.launcher.KEY=value`` override, so the file means exactly what
the same overrides would mean on the command line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from naga.errors import UsageError, did_you_mean


def slurm_parameters() -> list[str]:
    """The parameter names hydra-submitit-launcher's Slurm launcher accepts."""
    import dataclasses

    from hydra_plugins.hydra_submitit_launcher.config import SlurmQueueConf

    return [f.name for f in dataclasses.fields(SlurmQueueConf) if not f.name.startswith("_")]


def slurm_overrides(path: Path) -> list[str]:
    """Read a ``--slurm_config`` file and return its ``hydra.launcher.*`` overrides.

    Raises:
        UsageError: The file is missing, not a YAML mapping, or names an unknown parameter.
    """
    import yaml

    from naga.launch.tasks import override_value

    if not path.is_file():
        raise UsageError(
            f"--slurm_config {path}: no such file; give a YAML file of Slurm parameters"
        )
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise UsageError(
            f"--slurm_config {path}: not valid YAML: {' '.join(str(exc).split())}"
        ) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UsageError(
            f"--slurm_config {path}: expected a mapping of parameters, got {type(data).__name__}"
        )
    valid = slurm_parameters()
    out: list[str] = []
    for key, value in data.items():
        if key not in valid:
            raise UsageError(
                f"--slurm_config {path}: unknown parameter '{key}'."
                + did_you_mean(str(key), valid, what="parameters")
                + " Put other sbatch options under additional_parameters."
            )
        if key == "setup" and isinstance(value, str):
            value = [value]  # noqa: PLW2901 - one setup line is a list of one
        if key == "additional_parameters" and isinstance(value, dict):
            # A closed Dict node in Hydra's schema: `++` adds each sbatch option to it.
            out.extend(
                f"++hydra.launcher.{key}.{name}={override_value(item)}"
                for name, item in value.items()
            )
            continue
        out.append(f"hydra.launcher.{key}={override_value(value)}")
    return out
