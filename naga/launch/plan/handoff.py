"""Hand each job its finished config through Hydra's own launcher plugins.

Hydra's launchers (joblib, submitit, and the basic one) start a job by calling
``hydra_context.config_loader.load_sweep_config(multirun config, job overrides)`` where
the job runs (a loky worker, a Slurm node), and that call composes the job from scratch.
The one thing a launcher carries to each job is the job's list of override strings:
joblib pickles it into its batches, submitit into each job's pickle. So naga

- puts, as the last override of every job, a :class:`JobOverride`: a ``str`` equal to
  ``hydra.sweep.subdir=<name>`` that also carries the job's config. Pickled, it carries
  the finished config itself, derived in the parent at that moment
  (:mod:`naga.launch.plan.compose`), so the job travels with its own config and nothing
  else is added to the launcher's payload;
- gives the launcher a :class:`PrecomposedLoader`, whose ``load_sweep_config`` returns
  that config instead of composing, and which hands everything else (and any job without
  a carried config) to Hydra's loader.

The launcher plugins run unchanged: they set ``hydra.job.id``/``num``, call Hydra's
``run_job``, and return ``JobReturn``s as always.
"""

from __future__ import annotations

from typing import Any

from hydra.core.config_loader import ConfigLoader

from naga.launch.plan.compose import JobConfigs, refresh_process_facts


class JobOverride(str):
    """An override string that also carries the finished config of its job.

    In the parent it refers to the sweep's :class:`JobConfigs` and derives the config
    when asked (or pickled); once unpickled it holds the config. With ``with_task``, the
    job's task config (without ``hydra``) travels too, for launchers that run the job with
    naga's own ``run_job`` (:mod:`naga.launch.launchers.joblib_pool`).
    """

    _configs: JobConfigs | None
    _index: int
    _config: Any
    _task: Any
    _with_task: bool

    def __new__(
        cls,
        text: str,
        *,
        configs: JobConfigs | None = None,
        index: int = -1,
        with_task: bool = False,
        config: Any = None,
        task: Any = None,
    ) -> JobOverride:
        self = super().__new__(cls, text)
        self._configs, self._index, self._with_task = configs, index, with_task
        self._config, self._task = config, task
        return self

    def config(self) -> Any:
        """The job's config, ``hydra`` node included."""
        if self._configs is not None:
            return self._configs.config(self._index)
        return self._config

    def task_config(self) -> Any:
        """The job's config without ``hydra`` (only carried ``with_task``)."""
        if self._configs is not None:
            return self._configs.task_config(self._index)
        return self._task

    def __reduce__(self) -> tuple[Any, tuple[str, Any, Any]]:
        task = self.task_config() if self._with_task or self._task is not None else None
        return (_carried, (str(self), self.config(), task))


def _carried(text: str, config: Any, task: Any) -> JobOverride:
    return JobOverride(text, config=config, task=task)


class PrecomposedLoader(ConfigLoader):
    """Hydra's config loader, except that a job carrying its config is not composed again."""

    def __init__(self, loader: ConfigLoader) -> None:
        self._loader = loader

    def load_sweep_config(self, master_config: Any, sweep_overrides: list[str]) -> Any:
        """The config a :class:`JobOverride` carries; otherwise Hydra composes the job."""
        carried = next((item for item in sweep_overrides if isinstance(item, JobOverride)), None)
        config = carried.config() if carried is not None else None
        if config is None:
            return self._loader.load_sweep_config(
                master_config, [str(item) for item in sweep_overrides]
            )
        refresh_process_facts(config)
        return config

    def load_configuration(self, *args: Any, **kwargs: Any) -> Any:
        return self._loader.load_configuration(*args, **kwargs)

    def get_search_path(self) -> Any:
        return self._loader.get_search_path()

    def get_sources(self) -> Any:
        return self._loader.get_sources()

    def list_groups(self, parent_name: str) -> Any:
        return self._loader.list_groups(parent_name)

    def get_group_options(self, *args: Any, **kwargs: Any) -> Any:
        return self._loader.get_group_options(*args, **kwargs)

    def compute_defaults_list(self, *args: Any, **kwargs: Any) -> Any:
        return self._loader.compute_defaults_list(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        # Anything else a plugin may read from Hydra's ConfigLoaderImpl (e.g. `repository`).
        if name == "_loader":
            raise AttributeError(name)
        return getattr(self._loader, name)
