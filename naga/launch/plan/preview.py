"""The config each job of a sweep runs with, before it runs: ``--cfg`` with ``-m``/``--tasks``.

Its composed config without ``hydra``, ``save_dir`` set to the job's directory, resolved under
the job's Hydra config as the job's process makes it (``--skip-completed`` compares the same).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from naga.errors import escape_newlines
from naga.launch.job import SAVE_DIR_KEY

if TYPE_CHECKING:
    from omegaconf import DictConfig

    from naga.launch.plan.compose import JobConfigs
    from naga.launch.record.sweeplock import JobRecord

__all__ = ["print_configs", "run_config"]


def run_config(composed: DictConfig, save_dir: str) -> DictConfig:
    """The resolved config the job of ``composed`` (``hydra`` included) sees as ``cfg``.

    Raises:
        ConfigError: A value does not resolve (naming its key).
    """
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import open_dict

    from naga.launch.job import resolve_once

    cfg = composed.copy()
    with open_dict(cfg):
        del cfg["hydra"]
        cfg[SAVE_DIR_KEY] = save_dir
    # `${hydra:job.num}` and friends resolve against this job's Hydra config, as in the job.
    HydraConfig.instance().set_config(composed)
    return resolve_once(cfg)


def print_configs(configs: JobConfigs, jobs: Sequence[JobRecord], given_root: str) -> None:
    """Print every job's config as one YAML document per job, each headed by a comment."""
    from naga.config.structured import to_yaml

    for index, job in enumerate(jobs):
        where = f"{given_root}/{job.name}"
        cfg = run_config(configs.config(job.num), where)
        overrides = " ".join(job.overrides) or "no overrides"
        # One comment line, whatever a value or a folder name holds: YAML readers skip it.
        comment = escape_newlines(f"# job {job.num} ({overrides}) in {where}")
        sys.stdout.write(("" if index == 0 else "---\n") + f"{comment}\n{to_yaml(cfg)}")
