"""Everything naga touches inside Hydra 1.3 (pinned at 1.3.8), in one place.

A sweep is driven the way ``Hydra.multirun`` drives it, minus the sweeper's loop:
compose the multirun config, expand the overrides with ``BasicSweeper.split_arguments``
(Hydra's own grammar: ``1,2,3``, ``range()``, ``choice()``, ``glob()``, grids), compose
every job once up front (Hydra's "validate batch" step), then hand the job override
lists to the configured launcher plugin. naga keeps the loop so that one failure never
hides the others (Hydra's BasicSweeper raises on the first).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from naga.errors import ConfigError, UsageError

LAUNCHER_NAMES = {
    "BasicLauncher": "basic",
    "JoblibLauncher": "joblib",
    "LocalLauncher": "submitit_local",
    "SlurmLauncher": "submitit_slurm",
}
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


def launcher_name(cfg: Any) -> str | None:
    """Short name of the launcher in a config's ``hydra`` node; None when it names none."""
    target = str(cfg.hydra.launcher.get("_target_", ""))
    cls = target.rsplit(".", 1)[-1]
    return LAUNCHER_NAMES.get(cls, cls or None)


def open_session(base: Any, app_name: str, overrides: Sequence[str]) -> Session:
    """Compose ``base`` + ``overrides`` in multirun mode with a fresh global Hydra.

    Raises:
        ConfigError: Hydra rejected the overrides (unknown key, bad type, group, ...).
    """
    from hydra import version
    from hydra._internal.hydra import Hydra
    from hydra._internal.utils import create_config_search_path
    from hydra.core.global_hydra import GlobalHydra
    from hydra.types import RunMode

    from naga.config.compose import primary_config_name

    version.setbase("1.3")
    name = primary_config_name(base)
    GlobalHydra.instance().clear()
    hydra = Hydra.create_main_hydra2(
        task_name=app_name, config_search_path=create_config_search_path(None)
    )
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
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
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
    batches = _guard(lambda: BasicSweeper.split_arguments(parsed, None), "")
    return [list(job) for job in batches[0]]


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

    callbacks = _callbacks(session.cfg)
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


def job_failed(ret: Any) -> BaseException | None:
    """The exception of a failed ``JobReturn``, else None."""
    from hydra.core.utils import JobStatus

    if ret.status == JobStatus.FAILED:
        value = ret._return_value  # the stored exception; `.return_value` would raise it
        return value if isinstance(value, BaseException) else RuntimeError(str(value))
    return None


def _callbacks(cfg: Any) -> Any:
    from hydra._internal.callbacks import Callbacks

    return Callbacks(cfg)


def _guard(fn: Any, what: str) -> Any:
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from naga.config.compose import explain

    try:
        return fn()
    except (HydraException, OmegaConfBaseException) as exc:
        prefix = f"{what}: " if what else ""
        raise ConfigError(prefix + explain(exc)) from exc


def make_launcher(session: Session, task_function: Any) -> tuple[Any, Any]:
    """The configured launcher plugin, set up as ``launch`` sets it up, and the callbacks.

    For naga's own submission of submitit sweeps (naga.launch.submit): the plugin's
    ``__call__`` is the job body and its ``params`` the executor's settings. The callbacks'
    ``on_multirun_start`` has been called; the caller calls ``on_multirun_end``.
    """
    from hydra.core.plugins import Plugins
    from hydra.core.utils import setup_globals
    from hydra.types import HydraContext

    callbacks = _callbacks(session.cfg)
    context = HydraContext(config_loader=session.hydra.config_loader, callbacks=callbacks)
    setup_globals()
    callbacks.on_multirun_start(config=session.cfg, config_name=session.config_name)
    launcher = Plugins.instance().instantiate_launcher(
        hydra_context=context, task_function=task_function, config=session.cfg
    )
    return launcher, callbacks
