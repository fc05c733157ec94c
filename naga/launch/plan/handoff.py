"""Hand each job its finished config through Hydra's own launcher plugins.

A launcher carries to each job only its override strings, and composes the job from scratch
where it runs (``load_sweep_config``). So every job's last override is a :class:`JobOverride`
(a ``str`` equal to ``hydra.sweep.subdir=<name>``) that pickles with the job's finished
config, and the launcher gets a :class:`PrecomposedLoader` that returns that config instead
of composing. The plugins run unchanged.
"""

from __future__ import annotations

# Hydra's loader interface imports these anyway: nothing more is loaded here.
from hydra.core.config_loader import ConfigLoader
from hydra.core.config_search_path import ConfigSearchPath
from hydra.core.object_type import ObjectType
from hydra.plugins.config_source import ConfigSource
from hydra.types import RunMode
from omegaconf import DictConfig

from naga.launch.plan.compose import JobConfigs, refresh_process_facts


class JobOverride(str):
    """An override string that also carries the finished config of its job.

    In the parent it derives the config from the sweep's :class:`JobConfigs` when asked (or
    pickled); once unpickled it holds it. ``with_task``: the task config travels too (for
    naga's own ``run_job``, naga.launch.launchers.joblib_pool).
    """

    _configs: JobConfigs | None
    _index: int
    _config: DictConfig | None
    _task: DictConfig | None
    _with_task: bool

    def __new__(
        cls,
        text: str,
        *,
        configs: JobConfigs | None = None,
        index: int = -1,
        with_task: bool = False,
        config: DictConfig | None = None,
        task: DictConfig | None = None,
    ) -> JobOverride:
        self = super().__new__(cls, text)
        self._configs, self._index, self._with_task = configs, index, with_task
        self._config, self._task = config, task
        return self

    def config(self) -> DictConfig:
        """The job's config, ``hydra`` node included."""
        if self._configs is not None:
            return self._configs.config(self._index)
        assert self._config is not None, "built with neither the sweep's configs nor a config"
        return self._config

    def task_config(self) -> DictConfig:
        """The job's config without ``hydra`` (only carried ``with_task``)."""
        if self._configs is not None:
            return self._configs.task_config(self._index)
        assert self._task is not None, "the task config travels only with_task"
        return self._task

    def __reduce__(self) -> tuple[object, tuple[str, DictConfig, DictConfig | None]]:
        task = self.task_config() if self._with_task or self._task is not None else None
        return (_carried, (str(self), self.config(), task))


def _carried(text: str, config: DictConfig, task: DictConfig | None) -> JobOverride:
    return JobOverride(text, config=config, task=task)


class PrecomposedLoader(ConfigLoader):
    """Hydra's config loader, except that a job carrying its config is not composed again."""

    def __init__(self, loader: ConfigLoader) -> None:
        self._loader = loader

    def load_sweep_config(
        self, master_config: DictConfig, sweep_overrides: list[str]
    ) -> DictConfig:
        """The config a :class:`JobOverride` carries; otherwise Hydra composes the job."""
        carried = next((item for item in sweep_overrides if isinstance(item, JobOverride)), None)
        if carried is None:
            return self._loader.load_sweep_config(
                master_config, [str(item) for item in sweep_overrides]
            )
        config = carried.config()
        refresh_process_facts(config)
        return config

    def load_configuration(
        self,
        config_name: str | None,
        overrides: list[str],
        run_mode: RunMode,
        from_shell: bool = True,
        validate_sweep_overrides: bool = True,
    ) -> DictConfig:
        return self._loader.load_configuration(
            config_name, overrides, run_mode, from_shell, validate_sweep_overrides
        )

    def get_search_path(self) -> ConfigSearchPath:
        return self._loader.get_search_path()

    def get_sources(self) -> list[ConfigSource]:
        return self._loader.get_sources()

    def list_groups(self, parent_name: str) -> list[str]:
        return self._loader.list_groups(parent_name)

    def get_group_options(
        self,
        group_name: str,
        results_filter: ObjectType | None = ObjectType.CONFIG,
        config_name: str | None = None,
        overrides: list[str] | None = None,
    ) -> list[str]:
        return self._loader.get_group_options(group_name, results_filter, config_name, overrides)

    def compute_defaults_list(
        self, config_name: str | None, overrides: list[str], run_mode: RunMode
    ) -> object:
        return self._loader.compute_defaults_list(config_name, overrides, run_mode)

    def __getattr__(self, name: str) -> object:
        # Anything else a plugin may read from Hydra's ConfigLoaderImpl (e.g. `repository`).
        if name == "_loader":
            raise AttributeError(name)
        return getattr(self._loader, name)
