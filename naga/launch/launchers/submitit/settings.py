"""``--slurm_config FILE``: Slurm parameters for hydra-submitit-launcher, from a YAML file.

Each key becomes a ``hydra.launcher.KEY=value`` override, so the file means exactly what the
same overrides would on the command line; naga's own keys (:data:`NAGA_KEYS`) shape how naga
submits the jobs instead. An example file is in docs/sweeps.md.
"""

from __future__ import annotations

from pathlib import Path

from naga.errors import UsageError, did_you_mean

#: Keys of a --slurm_config file that are naga's, not the launcher plugin's.
NAGA_KEYS = ("tasks_per_job",)


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
    from naga.launch.plan.tasks import override_value

    data = _read(path)
    valid = slurm_parameters()
    out: list[str] = []
    for key, value in data.items():
        if key in NAGA_KEYS:
            continue
        if key not in valid:
            raise UsageError(
                f"--slurm_config {path}: unknown parameter '{key}'."
                + did_you_mean(str(key), [*valid, *NAGA_KEYS], what="parameters")
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


def naga_settings(path: Path | None) -> dict[str, int]:
    """naga's own keys of a ``--slurm_config`` file, checked (``tasks_per_job``: 1 default).

    Raises:
        UsageError: The file is unreadable, or ``tasks_per_job`` is not a whole number >= 1.
    """
    data = _read(path) if path is not None else {}
    per_job = data.get("tasks_per_job", 1)
    if isinstance(per_job, bool) or not isinstance(per_job, int) or per_job < 1:
        raise UsageError(
            f"--slurm_config {path}: tasks_per_job: {per_job!r} is not a whole number >= 1; "
            "give how many tasks each Slurm array element runs, one after another "
            "(e.g. tasks_per_job: 50)"
        )
    return {"tasks_per_job": per_job}


def _read(path: Path) -> dict[str, object]:
    import yaml

    if not path.is_file():
        raise UsageError(
            f"--slurm_config {path}: no such file; give a YAML file of Slurm parameters"
        )
    try:
        data: object = yaml.safe_load(path.read_text(encoding="utf-8"))
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
    return data
