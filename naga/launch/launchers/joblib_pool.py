"""Jobs of a sweep in loky workers, run with the joblib launcher plugin's own settings.

Hydra's joblib launcher sends every job the sweep's whole Hydra state, which each job
unpacks again (~40 ms a job), then composes it (~180 ms). naga calls ``joblib.Parallel``
itself with the plugin's settings: each job carries only its finished config (a
``JobOverride``), the shared state is pickled once and unpacked once per worker, and the job
runs with naga's ``run_job`` (``hydra.job.id`` is ``<job name>_<num>`` as the plugin sets it).
"""

from __future__ import annotations

import pickle
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from naga._hydra_compat import joblib_params
from naga.launch.launchers.base import Capabilities, Launch
from naga.launch.launchers.inprocess import run_job
from naga.launch.launchers.plugin import HydraPlugin
from naga.launch.plan import hydra_session
from naga.launch.plan.compose import refresh_process_facts

if TYPE_CHECKING:
    from hydra.core.utils import JobReturn
    from hydra.plugins.launcher import Launcher as HydraLauncher

    from naga._hydra_compat import Callbacks
    from naga.launch.launchers.inprocess import TaskFunction
    from naga.launch.launchers.task import SweepTask
    from naga.launch.plan.handoff import JobOverride
    from naga.launch.record.sweeplock import JobRecord


class JoblibPool(HydraPlugin):
    """The joblib launcher: loky workers with the plugin's settings, fed by naga."""

    capabilities: ClassVar[Capabilities] = Capabilities(carries_task=True)

    def launch(
        self,
        sweep: Launch,
        todo: Sequence[JobRecord],
        plugin: HydraLauncher,
        task: SweepTask,
        callbacks: Callbacks,
    ) -> Mapping[int, JobReturn]:
        """Run the jobs in the pool; each job's ``JobReturn`` by number."""
        jobs = [(job.num, sweep.launch_lists[job.num][-1]) for job in todo]
        returns = launch(sweep.session, plugin, task, callbacks, jobs)  # type: ignore[arg-type]
        return {job.num: ret for job, ret in zip(todo, returns, strict=False)}


def launch(
    session: hydra_session.Session,
    launcher: HydraLauncher,
    task_function: TaskFunction,
    callbacks: Callbacks,
    jobs: Sequence[tuple[int, JobOverride]],
) -> list[JobReturn]:
    """Run ``jobs`` (sweep number, carried config) in parallel; one ``JobReturn`` each."""
    from hydra.core.utils import configure_log, setup_globals
    from joblib import Parallel, delayed

    master = session.cfg
    setup_globals()
    configure_log(master.hydra.hydra_logging, master.hydra.verbose)
    Path(str(master.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
    shared = Shared(task_function, callbacks)
    parallel = Parallel(**joblib_params(launcher))
    return list(parallel(delayed(run_carried)(num, job, shared) for num, job in jobs))


def run_carried(num: int, job: JobOverride, shared: Shared) -> JobReturn:
    """Run job ``num`` in a worker with the config it carries; its ``JobReturn``."""
    task_function, callbacks = shared.get()
    config = job.config()
    refresh_process_facts(config)
    job_id = f"{config.hydra.job.name}_{num}"
    ret = run_job(config, job.task_config(), task_function, callbacks, num=num, job_id=job_id)
    # The parent reads the status and the return value; the configs stay here.
    ret.cfg = ret.hydra_cfg = None
    return ret


class Shared:
    """What every job of a sweep needs in a worker, unpacked there once per sweep."""

    def __init__(self, task_function: TaskFunction, callbacks: Callbacks) -> None:
        self.token = uuid.uuid4().hex
        self._local = (task_function, callbacks)
        self._blob: bytes | None = None
        self._lock = threading.Lock()  # joblib pickles batches in a feeder thread

    def get(self) -> tuple[TaskFunction, Callbacks]:
        """The task function and callbacks (in the parent: the objects themselves)."""
        return self._local

    def __reduce__(self) -> tuple[Callable[[str, bytes], Shared], tuple[str, bytes]]:
        with self._lock:
            if self._blob is None:
                import cloudpickle  # what loky pickles with
                from hydra.core.singleton import Singleton

                self._blob = cloudpickle.dumps((*self._local, Singleton.get_state()))
        return (_unpacked, (self.token, self._blob))


#: The sweep state unpacked in this (worker) process: {token: Shared}.
_UNPACKED: dict[str, Shared] = {}


def _unpacked(token: str, blob: bytes) -> Shared:
    found = _UNPACKED.get(token)
    if found is None:
        from hydra.core.singleton import Singleton
        from hydra.core.utils import setup_globals

        task_function, callbacks, state = pickle.loads(blob)
        setup_globals()
        Singleton.set_state(state)
        found = Shared(task_function, callbacks)
        found.token = token
        _UNPACKED.clear()  # a worker serves one sweep at a time
        _UNPACKED[token] = found
    return found
