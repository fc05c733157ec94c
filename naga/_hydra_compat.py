"""Every use of Hydra's private API, in one place (hydra-core is pinned at 1.3.8), so a Hydra
upgrade is checked in one file. Hydra is imported inside each function: importing this
module costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    # For annotations elsewhere too (naga.launch.plan, naga.launch.sweepers): Hydra's own classes.
    import submitit
    from hydra._internal.callbacks import Callbacks
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra._internal.hydra import Hydra
    from hydra.core.config_loader import ConfigLoader
    from hydra.core.override_parser.types import Override
    from hydra.core.utils import JobReturn
    from hydra.plugins.launcher import Launcher
    from hydra_plugins.hydra_joblib_launcher.joblib_launcher import JoblibLauncher
    from hydra_plugins.hydra_submitit_launcher.submitit_launcher import BaseSubmititLauncher
    from omegaconf import DictConfig


def create_main_hydra(app_name: str) -> Hydra:
    """A fresh global ``Hydra`` instance for ``app_name`` with the default search path."""
    from hydra._internal.hydra import Hydra
    from hydra._internal.utils import create_config_search_path

    return Hydra.create_main_hydra2(
        task_name=app_name, config_search_path=create_config_search_path(None)
    )


def split_sweep(parsed: Sequence[Override]) -> list[list[str]]:
    """The job override lists of parsed sweep overrides (a grid), as the basic sweeper makes."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

    batches = BasicSweeper.split_arguments(list(parsed), None)
    return [list(job) for job in batches[0]]


def callbacks(cfg: DictConfig) -> Callbacks:
    """The ``hydra.callbacks`` of ``cfg``, instantiated as Hydra's launcher loop expects them."""
    from hydra._internal.callbacks import Callbacks

    return Callbacks(cfg)


def apply_overrides(parsed: Sequence[Override], cfg: DictConfig) -> None:
    """Apply parsed overrides to ``cfg`` in place, exactly as Hydra's compose does."""
    from hydra._internal.config_loader_impl import ConfigLoaderImpl

    ConfigLoaderImpl._apply_overrides_to_config(list(parsed), cfg)


def overrides_dirname(overrides: Sequence[Override], conf: DictConfig) -> str:
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


def group_checker(
    loader: ConfigLoader, config_name: str, hydra_overrides: Sequence[str]
) -> Callable[[str], bool]:
    """``group_exists(name)`` of the config repository a job's compose would search."""
    impl = cast("ConfigLoaderImpl", loader)  # a session's loader: Hydra's own
    _, repo = impl._parse_overrides_and_create_caching_repo(config_name, list(hydra_overrides))
    return repo.group_exists


def joblib_params(launcher: Launcher) -> dict[str, object]:
    """The ``joblib.Parallel`` arguments the joblib launcher plugin would use."""
    from hydra_plugins.hydra_joblib_launcher._core import process_joblib_cfg

    params = dict(cast("JoblibLauncher", launcher).joblib)
    params["backend"] = "loky"  # as the plugin forces it: threads do not work with Hydra
    process_joblib_cfg(params)
    return dict(params)


def job_failed(ret: JobReturn) -> BaseException | None:
    """The exception of a failed ``JobReturn``, else None."""
    from hydra.core.utils import JobStatus

    if ret.status == JobStatus.FAILED:
        value = returned_value(ret)
        return value if isinstance(value, BaseException) else RuntimeError(str(value))
    return None


def returned_value(ret: JobReturn) -> object:
    """What a job's task returned, or the exception it raised, as ``JobReturn`` stores it.

    The public ``.return_value`` raises a failed job's exception and asserts on an
    ``UNKNOWN`` status.
    """
    return getattr(ret, "_return_value", None)


def with_quoted_text(parsed: Override, text: str, line: str) -> Override:
    """``parsed``, an override whose value is one quoted string, with ``text`` as that string.

    ``Override`` keeps its parsed value in the private field ``_value`` (a ``QuotedString``);
    no public call builds an ``Override`` without running the parser.
    """
    import dataclasses

    value = dataclasses.replace(parsed._value, text=text)  # type: ignore[type-var]
    return dataclasses.replace(parsed, _value=value, input_line=line)


def submitit_executor(launcher: Launcher) -> tuple[submitit.AutoExecutor, str]:
    """``(executor, kind)`` for a submitit launcher plugin, built as the plugin builds it.

    ``kind`` is the plugin's private ``_EXECUTOR`` (``"slurm"`` or ``"local"``).
    """
    import submitit
    from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf
    from omegaconf import OmegaConf

    plugin = cast("BaseSubmititLauncher", launcher)
    kind = str(plugin._EXECUTOR)
    params = dict(plugin.params)
    init: dict[str, int] = {}
    if "max_num_timeout" in params:
        init[f"{kind}_max_num_timeout"] = params["max_num_timeout"]
    executor = submitit.AutoExecutor(folder=params["submitit_folder"], cluster=kind, **init)
    base = set(OmegaConf.structured(BaseQueueConf).keys())
    executor.update_parameters(
        **{
            key if key in base else f"{kind}_{key}": value
            for key, value in params.items()
            if key not in ("submitit_folder", "max_num_timeout")
        }
    )
    return executor, kind
