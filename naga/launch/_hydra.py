"""naga's session with Hydra 1.3 (pinned at 1.3.8): compose, expand and launch a sweep.

A sweep is driven the way ``Hydra.multirun`` drives it, minus the sweeper's loop:
compose the multirun config, expand the overrides with ``BasicSweeper.split_arguments``
(Hydra's own grammar: ``1,2,3``, ``range()``, ``choice()``, ``glob()``, grids), compose
every job once up front (Hydra's "validate batch" step), then hand the job override
lists to the configured launcher plugin. naga keeps the loop so that one failure never
hides the others (Hydra's BasicSweeper raises on the first). The steps that need Hydra's
private API go through :mod:`naga._hydra_compat`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from naga import _hydra_compat as compat
from naga.errors import ConfigError, UsageError
from naga.launch.naming import launcher_name

#: Launchers that run the jobs in the sweep's own process.
IN_PROCESS = ("basic",)


@dataclass
class Session:
    """A Hydra instance with the composed multirun config of one sweep."""

    hydra: Any
    config_name: str
    cfg: Any  # the multirun config, hydra node included

    @property
    def launcher_name(self) -> str:
        """Short name of the configured launcher (basic, joblib, submitit_slurm, ...)."""
        return launcher_name(self.cfg) or "unknown"


def open_session(base: Any, app_name: str, overrides: Sequence[str]) -> Session:
    """Compose ``base`` + ``overrides`` in multirun mode with a fresh global Hydra.

    Raises:
        ConfigError: Hydra rejected the overrides (unknown key, bad type, group, ...).
    """
    from hydra import version
    from hydra.core.global_hydra import GlobalHydra
    from hydra.types import RunMode

    from naga.config.compose import primary_config_name

    version.setbase("1.3")
    name = primary_config_name(base)
    GlobalHydra.instance().clear()
    hydra = compat.create_main_hydra(app_name)
    cfg = _guard(
        lambda: hydra.compose_config(
            config_name=name,
            overrides=list(overrides),
            run_mode=RunMode.MULTIRUN,
            with_log_configuration=False,
        ),
        "",
    )
    return Session(hydra=hydra, config_name=name, cfg=cfg)


def set_sweep_dir(session: Session, root: str) -> None:
    """Point ``hydra.sweep.dir`` at ``root``, as if given on the command line."""
    from omegaconf import read_write

    from naga.launch.tasks import override_value

    with read_write(session.cfg.hydra):
        session.cfg.hydra.sweep.dir = root
        session.cfg.hydra.overrides.hydra.append(f"hydra.sweep.dir={override_value(root)}")


def expand(session: Session) -> list[list[str]]:
    """The job override lists of the sweep in ``cfg.hydra.overrides.task`` (a grid)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    target = str(session.cfg.hydra.sweeper.get("_target_", ""))
    if not target.endswith("BasicSweeper"):
        raise UsageError(
            f"hydra/sweeper={target.rsplit('.', 1)[-1]}: naga sweeps use Hydra's basic sweeper; "
            "remove the hydra/sweeper override (or run the sweeper from a plain @hydra.main app)"
        )
    task = list(session.cfg.hydra.overrides.task)
    parser = OverridesParser.create(config_loader=session.hydra.config_loader)
    parsed = _guard(lambda: parser.parse_overrides(task), "")
    return _guard(lambda: compat.split_sweep(parsed), "")


def compose_job(session: Session, overrides: Sequence[str], *, what: str) -> Any:
    """Compose one job's config (hydra node included), as the launcher will.

    Raises:
        ConfigError: Naming the job (``what``) and Hydra's reason.
    """
    return _guard(
        lambda: session.hydra.config_loader.load_sweep_config(session.cfg, list(overrides)), what
    )


def launch(session: Session, task_function: Any, jobs: Sequence[Sequence[str]]) -> list[Any]:
    """Run ``jobs`` with the configured launcher plugin; returns Hydra ``JobReturn``s."""
    from hydra.core.plugins import Plugins
    from hydra.core.utils import setup_globals
    from hydra.types import HydraContext

    callbacks = compat.callbacks(session.cfg)
    context = HydraContext(config_loader=session.hydra.config_loader, callbacks=callbacks)
    setup_globals()
    callbacks.on_multirun_start(config=session.cfg, config_name=session.config_name)
    launcher = Plugins.instance().instantiate_launcher(
        hydra_context=context, task_function=task_function, config=session.cfg
    )
    try:
        return list(launcher.launch([list(job) for job in jobs], initial_job_idx=0))
    finally:
        callbacks.on_multirun_end(config=session.cfg, config_name=session.config_name)


def close() -> None:
    """Forget the global Hydra instance, so later compositions start fresh."""
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()


def _guard(fn: Any, what: str) -> Any:
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from naga.config.compose import explain

    try:
        return fn()
    except (HydraException, OmegaConfBaseException) as exc:
        prefix = f"{what}: " if what else ""
        raise ConfigError(prefix + explain(exc)) from exc
