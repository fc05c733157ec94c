"""naga's in-process launcher: Hydra's basic launcher, without composing or copying configs.

``BasicLauncher`` composes each job (~180 ms) and Hydra's ``run_job`` copies its config three
times (~12 ms); here each job's config is derived for it alone (naga.launch.plan.compose), so
its ``hydra`` node is installed as it is. ``run_job`` keeps Hydra's job semantics (ids, output
dir, chdir, logging, ``.hydra/`` files, env_set, callbacks, FAILED on ``Exception``).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from naga._omegaconf_compat import node_at, set_parent
from naga.launch.launchers.base import Capabilities, JobSource, Launch, Launcher, StopSweep
from naga.launch.plan import hydra_session

if TYPE_CHECKING:
    from hydra.core.hydra_config import HydraConfig
    from hydra.core.utils import JobReturn
    from omegaconf import DictConfig

    from naga._hydra_compat import Callbacks

    #: A job's work: called with its config (without ``hydra``).
    TaskFunction = Callable[[DictConfig], object]

    from naga.launch.record.progress import Monitor
    from naga.launch.record.sweeplock import JobRecord


class InProcess(Launcher):
    """The basic launcher: the jobs one after another in the sweep's own process.

    ``stop_at_failure`` (NAGA_DEBUG): the first failed job stops the sweep with its own
    exception, for the debugger.
    """

    capabilities: ClassVar[Capabilities] = Capabilities(in_process=True)

    def __init__(self, name: str, *, stop_at_failure: bool = False) -> None:
        super().__init__(name)
        self.stop_at_failure = stop_at_failure

    def run(self, sweep: Launch, todo: Sequence[JobRecord], monitor: Monitor) -> None:
        """Run the ``todo`` jobs here, telling the monitor as each starts and ends."""
        from naga.launch.job import job_failed
        from naga.launch.record.outcome import apply_results
        from naga.launch.record.sweeplock import now_iso
        from naga.lock.status import RUNNING

        state = monitor.state
        by_num = {job.num: job for job in todo}

        def started(num: int) -> None:
            with state.lock:
                job = by_num[num]
                job.status, job.started_at = RUNNING, now_iso()
            monitor.changed()

        def ended(num: int, ret: JobReturn) -> None:
            apply_results([by_num[num]], {num: ret}, monitor)
            failure = job_failed(ret)
            if self.stop_at_failure and failure is not None:
                raise StopSweep(failure)

        task = sweep.task(in_process=True)
        launch(sweep.session, sweep.configs, task, list(by_num), on_start=started, on_end=ended)


def launch(
    session: hydra_session.Session,
    configs: JobSource,
    task_function: TaskFunction,
    nums: Sequence[int],
    *,
    on_start: Callable[[int], None] | None = None,
    on_end: Callable[[int, JobReturn], None] | None = None,
) -> None:
    """Run jobs ``nums`` of the sweep in this process, in order.

    Only ``on_end`` sees each ``JobReturn``: nothing keeps them (each holds its job's
    config: a 1,000-job sweep would keep a thousand).
    """
    from hydra.core.utils import configure_log, setup_globals

    master = session.cfg
    with hydra_session.multirun_callbacks(session) as callbacks:
        setup_globals()
        configure_log(master.hydra.hydra_logging, master.hydra.verbose)
        Path(str(master.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
        for num in nums:
            if on_start is not None:
                on_start(num)
            config, task_cfg = configs.config(num), configs.task_config(num)
            ret = run_job(config, task_cfg, task_function, callbacks, num=num, job_id=num)
            configure_log(master.hydra.hydra_logging, master.hydra.verbose)
            if on_end is not None:
                on_end(num, ret)


def _save_hydra_files(config: DictConfig, task_cfg: DictConfig, hydra_cfg: DictConfig) -> None:
    """The ``.hydra/`` copies Hydra's run_job writes, when ``hydra.output_subdir`` asks."""
    from omegaconf import OmegaConf

    if config.hydra.output_subdir is None:
        return
    saved = Path(config.hydra.runtime.output_dir) / str(config.hydra.output_subdir)
    saved.mkdir(parents=True, exist_ok=True)
    OmegaConf.save(task_cfg, saved / "config.yaml")
    OmegaConf.save(hydra_cfg, saved / "hydra.yaml")
    OmegaConf.save(config.hydra.overrides.task, saved / "overrides.yaml")


def run_job(
    config: DictConfig,
    task_cfg: DictConfig,
    task_function: TaskFunction,
    callbacks: Callbacks,
    *,
    num: int,
    job_id: int | str,
) -> JobReturn:
    """Run one job with its config installed as Hydra's; returns its ``JobReturn``.

    ``config`` (``hydra`` node included) is the job's own and is changed; ``task_cfg`` is
    given to ``task_function``; ``job_id`` is ``<name>_<num>`` in joblib workers.
    """
    from hydra.core.hydra_config import HydraConfig
    from hydra.core.utils import JobReturn, JobRuntime, JobStatus, configure_log, env_override
    from omegaconf import OmegaConf, open_dict, read_write

    with open_dict(config.hydra.job):
        config.hydra.job.id = job_id
        config.hydra.job.num = num
    hydra_config = HydraConfig.instance()
    previous = hydra_config.cfg
    # Installed first: the output directory may say ${hydra:job.override_dirname}.
    hydra_cfg = _install(hydra_config, config)
    old_cwd = Path.cwd()
    chdir = False
    try:
        # The same strings as Hydra's run_job: os.path, not pathlib (which normalises).
        output_dir = os.path.join(  # noqa: PTH118
            str(OmegaConf.select(config, "hydra.sweep.dir")),
            str(OmegaConf.select(config, "hydra.sweep.subdir")),
        )
        with read_write(config.hydra.runtime), open_dict(config.hydra.runtime):
            config.hydra.runtime.output_dir = os.path.abspath(output_dir)  # noqa: PTH100
        # Hydra's task config is a copy of this config, resolver cache (${now:...}) included.
        OmegaConf.copy_cache(from_config=config, to_config=task_cfg)
        chdir = _chdir(config)
        ret = JobReturn()
        ret.cfg = task_cfg
        ret.hydra_cfg = hydra_cfg
        ret.overrides = list(config.hydra.overrides.task)
        Path(output_dir).mkdir(parents=True, exist_ok=True)
        if chdir:
            os.chdir(output_dir)
            ret.working_dir = output_dir
        else:
            ret.working_dir = str(Path.cwd())
        configure_log(config.hydra.job_logging, config.hydra.verbose)
        _save_hydra_files(config, task_cfg, hydra_cfg)
        with env_override(dict(config.hydra.job.env_set)):
            callbacks.on_job_start(config=config, task_function=task_function)
            try:
                ret.return_value = task_function(task_cfg)
                ret.status = JobStatus.COMPLETED
            except Exception as exc:
                ret.return_value = exc
                ret.status = JobStatus.FAILED
        ret.task_name = JobRuntime.instance().get("name")
        _flush_log_handlers()
        callbacks.on_job_end(config=config, job_return=ret)
        return ret
    finally:
        hydra_config.cfg = previous
        if chdir:
            os.chdir(old_cwd)


def _install(hydra_config: HydraConfig, config: DictConfig) -> DictConfig:
    """Make ``config``'s ``hydra`` node the current Hydra config, without copying it.

    As ``HydraConfig.set_config`` does, the node is read-only and sits in a root of its
    own whose parent link goes to the job's config, so interpolations in the node see the
    job's keys; here the root holds the job's own node instead of a copy (the config is
    the job's alone).
    """
    from omegaconf import DictConfig, OmegaConf, flag_override

    node = node_at(config, "hydra")
    OmegaConf.set_readonly(node, True)
    root = DictConfig(content={})
    with flag_override(root, "no_deepcopy_set_nodes", True):
        root["hydra"] = node
    set_parent(node, config)
    hydra_config.cfg = root  # type: ignore[assignment]  # as HydraConfig.set_config does
    return root


def _chdir(config: DictConfig) -> bool:
    from hydra import version

    chdir = config.hydra.job.chdir
    if chdir is None:
        # Hydra changes into the job's directory only for apps older than version_base 1.2.
        return not version.base_at_least("1.2")
    return bool(chdir)


def _flush_log_handlers() -> None:
    # Each job's log lines are out before the next job starts, as with Hydra's run_job.
    for ref in list(logging._handlerList):  # type: ignore[attr-defined]
        handler = ref()
        if handler is not None:
            with contextlib.suppress(Exception):  # a broken handler must not fail the job
                handler.flush()
