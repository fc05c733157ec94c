"""Every use of Hydra's private API, in one place (hydra-core is pinned at 1.3.8).

naga drives Hydra a little below its public surface: a sweep is run the way
``Hydra.multirun`` runs it, minus the sweeper's loop (naga.launch.plan.hydra_session), and a single
run applies overrides with the routine Hydra's compose API uses (naga.config.compose).
Those steps need ``hydra._internal``, one private attribute of ``JobReturn`` and one of the
submitit launcher plugin (naga submits submitit sweeps itself,
naga.launch.launchers.submitit.submit); they are
all here, so a Hydra upgrade is checked in one file. Hydra is imported inside each
function: importing this module costs nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # For annotations elsewhere too (naga.launch.sweepers.slots): Hydra's own classes.
    from hydra._internal.callbacks import Callbacks


def create_main_hydra(app_name: str) -> Any:
    """A fresh global ``Hydra`` instance for ``app_name`` with the default search path."""
    from hydra._internal.hydra import Hydra
    from hydra._internal.utils import create_config_search_path

    return Hydra.create_main_hydra2(
        task_name=app_name, config_search_path=create_config_search_path(None)
    )


def split_sweep(parsed: Sequence[Any]) -> list[list[str]]:
    """The job override lists of parsed sweep overrides (a grid), as the basic sweeper makes."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

    batches = BasicSweeper.split_arguments(list(parsed), None)
    return [list(job) for job in batches[0]]


def callbacks(cfg: Any) -> Callbacks:
    """The ``hydra.callbacks`` of ``cfg``, instantiated as Hydra's launcher loop expects them."""
    from hydra._internal.callbacks import Callbacks

    return Callbacks(cfg)


def apply_overrides(parsed: Sequence[Any], cfg: Any) -> None:
    """Apply parsed overrides to ``cfg`` in place, exactly as Hydra's compose does."""
    from hydra._internal.config_loader_impl import ConfigLoaderImpl

    ConfigLoaderImpl._apply_overrides_to_config(list(parsed), cfg)


def overrides_dirname(overrides: Sequence[Any], conf: Any) -> str:
    """``hydra.job.override_dirname`` for parsed overrides, with the ``conf`` separators."""
    from hydra._internal.config_loader_impl import get_overrides_dirname

    return str(
        get_overrides_dirname(
            overrides=list(overrides),
            kv_sep=conf.kv_sep,
            item_sep=conf.item_sep,
            exclude_keys=conf.exclude_keys,
        )
    )


def group_checker(loader: Any, config_name: str, hydra_overrides: Sequence[str]) -> Any:
    """``group_exists(name)`` of the config repository a job's compose would search."""
    _, repo = loader._parse_overrides_and_create_caching_repo(config_name, list(hydra_overrides))
    return repo.group_exists


def joblib_params(launcher: Any) -> dict[str, Any]:
    """The ``joblib.Parallel`` arguments the joblib launcher plugin would use."""
    from hydra_plugins.hydra_joblib_launcher._core import process_joblib_cfg

    params = dict(launcher.joblib)
    params["backend"] = "loky"  # as the plugin forces it: threads do not work with Hydra
    process_joblib_cfg(params)
    return dict(params)


def job_failed(ret: Any) -> BaseException | None:
    """The exception of a failed ``JobReturn``, else None."""
    from hydra.core.utils import JobStatus

    if ret.status == JobStatus.FAILED:
        value = ret._return_value  # the stored exception; `.return_value` would raise it
        return value if isinstance(value, BaseException) else RuntimeError(str(value))
    return None


def submitit_executor(launcher: Any) -> tuple[Any, str]:
    """submitit's executor for a submitit launcher plugin, built as the plugin builds it.

    The plugin's executor kind (its private ``_EXECUTOR``: ``"slurm"`` or ``"local"``) and
    how ``BaseSubmititLauncher.launch`` turns its ``params`` into executor parameters.

    Returns:
        ``(executor, kind)``.
    """
    import submitit
    from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf
    from omegaconf import OmegaConf

    kind = str(launcher._EXECUTOR)
    params = dict(launcher.params)
    init: dict[str, Any] = {"folder": params["submitit_folder"]}
    if "max_num_timeout" in params:
        init[f"{kind}_max_num_timeout"] = params["max_num_timeout"]
    executor = submitit.AutoExecutor(cluster=kind, **init)
    base = set(OmegaConf.structured(BaseQueueConf).keys())
    executor.update_parameters(
        **{
            key if key in base else f"{kind}_{key}": value
            for key, value in params.items()
            if key not in ("submitit_folder", "max_num_timeout")
        }
    )
    return executor, kind
