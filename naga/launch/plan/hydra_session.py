"""How naga drives Hydra 1.3 for a sweep, through its public API (private: naga._hydra_compat).

As ``Hydra.multirun`` does, minus the sweeper's loop: compose the multirun config, expand the
overrides with Hydra's grammar, check every job up front, hand the jobs to the launcher.
naga keeps the loop so that one failure never hides the others (BasicSweeper raises on the first).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import naga._hydra_compat as compat
from naga.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from hydra.core.config_loader import ConfigLoader
    from hydra.core.utils import JobReturn
    from hydra.plugins.launcher import Launcher
    from hydra.types import TaskFunction
    from omegaconf import DictConfig, ListConfig

    from naga._hydra_compat import Callbacks, Hydra

T = TypeVar("T")


@dataclass
class Session:
    """A Hydra instance with the composed multirun config of one sweep."""

    hydra: Hydra
    config_name: str
    cfg: DictConfig  # the multirun config, hydra node included


def open_session(base: DictConfig, app_name: str, overrides: Sequence[str]) -> Session:
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
    cfg = guard(
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

    from naga.launch.plan.tasks import override_value

    with read_write(session.cfg.hydra):
        session.cfg.hydra.sweep.dir = root
        session.cfg.hydra.overrides.hydra.append(f"hydra.sweep.dir={override_value(root)}")


def sweeper_target(session: Session) -> str:
    """The ``_target_`` of the configured sweeper (Hydra's BasicSweeper unless chosen)."""
    return str(session.cfg.hydra.sweeper.get("_target_", ""))


def expand(session: Session) -> list[list[str]]:
    """The job override lists of the sweep in ``cfg.hydra.overrides.task`` (a grid)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    target = sweeper_target(session)
    if not target.endswith("BasicSweeper"):  # other sweepers: naga.launch.sweepers.search
        raise UsageError(f"hydra/sweeper={target.rsplit('.', 1)[-1]}: not a grid sweeper")
    task = override_lines(session.cfg.hydra.overrides.task)
    parser = OverridesParser.create(config_loader=session.hydra.config_loader)
    parsed = guard(lambda: parser.parse_overrides(task), "")
    return guard(lambda: compat.split_sweep(parsed), "")


def compose_job(session: Session, overrides: Sequence[str], *, what: str) -> DictConfig:
    """Compose one job's config (hydra node included) from scratch, as Hydra's launchers do.

    Only for the jobs whose overrides change the defaults list (naga.launch.plan.compose).

    Raises:
        ConfigError: Naming the job (``what``) and Hydra's reason.
    """
    return guard(
        lambda: session.hydra.config_loader.load_sweep_config(session.cfg, list(overrides)), what
    )


def compose_base(session: Session) -> DictConfig:
    """The config every job of the sweep starts from, composed once.

    What ``load_sweep_config`` composes before a job's own overrides: the primary config in
    RUN mode with the sweep's ``hydra.*`` overrides (``hydra.overrides.task`` is empty).

    Raises:
        ConfigError: Hydra rejected the composition.
    """
    from hydra.types import RunMode

    loader = session.hydra.config_loader
    return guard(
        lambda: loader.load_configuration(
            config_name=session.cfg.hydra.job.config_name,
            overrides=override_lines(session.cfg.hydra.overrides.hydra),
            run_mode=RunMode.RUN,
        ),
        "",
    )


def start_multirun(session: Session) -> Callbacks:
    """Hydra's ``Callbacks`` of the sweep, after ``on_multirun_start`` (and Hydra's resolvers).

    The caller calls ``on_multirun_end`` (:func:`multirun_callbacks` does); a detached
    sweep never does: nobody waits for its end.
    """
    from hydra.core.utils import setup_globals

    setup_globals()
    callbacks = compat.callbacks(session.cfg)
    callbacks.on_multirun_start(config=session.cfg, config_name=session.config_name)
    return callbacks


@contextlib.contextmanager
def multirun_callbacks(session: Session) -> Iterator[Callbacks]:
    """Hydra's ``Callbacks`` of the sweep, between ``on_multirun_start`` and ``_end``."""
    callbacks = start_multirun(session)
    try:
        yield callbacks
    finally:
        callbacks.on_multirun_end(config=session.cfg, config_name=session.config_name)


def make_launcher(
    session: Session,
    task_function: TaskFunction,
    callbacks: Callbacks,
    *,
    loader: ConfigLoader | None = None,
) -> Launcher:
    """The configured launcher plugin, set up by Hydra's ``Plugins`` as ``multirun`` does.

    ``loader`` gives each job its config (a ``PrecomposedLoader``; default: Hydra's).
    """
    from hydra.core.plugins import Plugins
    from hydra.types import HydraContext

    context = HydraContext(
        config_loader=loader if loader is not None else session.hydra.config_loader,
        callbacks=callbacks,
    )
    return Plugins.instance().instantiate_launcher(
        hydra_context=context, task_function=task_function, config=session.cfg
    )


def launch(
    session: Session,
    task_function: TaskFunction,
    jobs: Sequence[Sequence[str]],
    *,
    loader: ConfigLoader | None = None,
) -> list[JobReturn]:
    """Run ``jobs`` with the configured launcher plugin; returns Hydra ``JobReturn``s."""
    with multirun_callbacks(session) as callbacks:
        launcher = make_launcher(session, task_function, callbacks, loader=loader)
        return list(launcher.launch([list(job) for job in jobs], initial_job_idx=0))


def close() -> None:
    """Forget the global Hydra instance, so later compositions start fresh."""
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()


def override_lines(node: ListConfig) -> list[str]:
    """Override lines as Hydra reads them (``hydra.overrides.task``): unresolved.

    Iterating the node would resolve ``name=${param}``.
    """
    from omegaconf import OmegaConf

    lines = OmegaConf.to_container(node, resolve=False)
    assert isinstance(lines, list)
    return [str(line) for line in lines]


def guard(fn: Callable[[], T], what: str) -> T:
    """Call ``fn``; a Hydra/OmegaConf error becomes a one-line ``ConfigError`` naming ``what``.

    Raises:
        ConfigError: ``what: <the override and Hydra's reason>``.
    """
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from naga.config.compose import explain

    try:
        return fn()
    except (HydraException, OmegaConfBaseException) as exc:
        prefix = f"{what}: " if what else ""
        raise ConfigError(prefix + explain(exc)) from exc
