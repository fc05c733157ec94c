"""Every launcher naga knows, by name: the one place that compares launcher names.

Implementations are imported when asked for (by their dotted path), so that reading this
table (the runlock callback, at every start of a Hydra app) stays light.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from naga.errors import UsageError

if TYPE_CHECKING:
    from omegaconf import DictConfig

    from naga.launch.launchers.base import Launcher
    from naga.launch.plan.hydra_session import Session

__all__ = [
    "LAUNCHERS",
    "by_name",
    "flag_launcher",
    "launcher_for",
    "launcher_name",
    "require_detach",
    "stop_hint",
]


class Entry(NamedTuple):
    """One launcher naga knows."""

    hydra_class: str  # the class name of the Hydra plugin (its config's ``_target_``)
    implementation: str  # ``module:Class`` of naga's Launcher for it


#: naga's short name of each launcher it knows -> the Hydra plugin and naga's implementation.
LAUNCHERS = {
    "basic": Entry("BasicLauncher", "naga.launch.launchers.inprocess:InProcess"),
    "joblib": Entry("JoblibLauncher", "naga.launch.launchers.joblib_pool:JoblibPool"),
    "submitit_slurm": Entry("SlurmLauncher", "naga.launch.launchers.submitit.launcher:Slurm"),
    "submitit_local": Entry("LocalLauncher", "naga.launch.launchers.submitit.launcher:Local"),
}
#: Any other Hydra launcher plugin: the plugin launches the jobs itself.
_PLUGIN = "naga.launch.launchers.plugin:HydraPlugin"
#: The launcher a sweep flag picks, and what the flag does with it (for the error).
_FLAGS = {
    "--n_jobs": ("joblib", "runs jobs with the joblib launcher"),
    "--slurm_config": ("submitit_slurm", "submits to Slurm"),
}


def launcher_name(cfg: DictConfig) -> str | None:
    """Short name of the launcher in a config's ``hydra`` node; None when it names none.

    A Hydra plugin naga does not know goes by its class name.
    """
    target = str(cfg.hydra.launcher.get("_target_", ""))
    cls = target.rsplit(".", 1)[-1]
    known = {entry.hydra_class: name for name, entry in LAUNCHERS.items()}
    return known.get(cls, cls or None)


def by_name(name: str) -> Launcher:
    """The launcher recorded as ``name`` (a Hydra plugin naga does not know: the plugin's)."""
    entry = LAUNCHERS.get(name)
    module, _, cls = (entry.implementation if entry else _PLUGIN).partition(":")
    factory: type[Launcher] = getattr(importlib.import_module(module), cls)
    return factory(name)


def launcher_for(session: Session) -> Launcher:
    """The launcher of a sweep's session (its ``hydra/launcher``)."""
    return by_name(launcher_name(session.cfg) or "unknown")


def require_detach(launcher: Launcher) -> None:
    """Refuse ``--detach`` for a launcher whose jobs run in this process or its children.

    Raises:
        UsageError: The launcher cannot run jobs without this command.
    """
    if not launcher.capabilities.detaches:
        raise UsageError(
            "--detach needs a launcher that runs jobs without this command (submitit_slurm "
            f"or submitit_local), but this sweep uses the {launcher.name} launcher; add "
            "--slurm_config FILE or hydra/launcher=submitit_slurm (or submitit_local), or "
            "drop --detach"
        )


def flag_launcher(flag: str, chosen: str | None) -> list[str]:
    """``hydra/launcher=NAME`` for a flag that implies one (``--n_jobs``), unless ``chosen``.

    Raises:
        UsageError: ``chosen`` names another launcher than the flag's.
    """
    name, does = _FLAGS[flag]
    if chosen is None:
        return [f"hydra/launcher={name}"]
    if chosen.split("=", 1)[1] != name:
        raise UsageError(f"{flag} {does}, but {chosen} was given; drop one")
    return []


def stop_hint(name: str, ids: Sequence[str]) -> str:
    """How to stop the live jobs (``ids``) of a sweep recorded with launcher ``name``."""
    return by_name(name).stop_hint(ids) if ids else ""
