"""Any other Hydra launcher plugin (Ray, RQ, a lab's own): the plugin launches the jobs, with
naga's task function and a ``PrecomposedLoader``; the sweep polls their run.locks meanwhile.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from naga.launch.launchers.base import Launch, Launcher

if TYPE_CHECKING:
    from hydra.core.utils import JobReturn
    from hydra.plugins.launcher import Launcher as HydraLauncher

    from naga._hydra_compat import Callbacks
    from naga.launch.launchers.task import SweepTask
    from naga.launch.record.progress import Monitor
    from naga.launch.record.sweeplock import JobRecord

__all__ = ["HydraPlugin"]


class HydraPlugin(Launcher):
    """A Hydra launcher plugin that runs the jobs itself and returns their ``JobReturn``s."""

    def run(self, sweep: Launch, todo: Sequence[JobRecord], monitor: Monitor) -> None:
        """Hand the ``todo`` jobs to the plugin, then record what it returned."""
        from naga.launch.plan import hydra_session
        from naga.launch.plan.handoff import PrecomposedLoader
        from naga.launch.record.outcome import apply_results

        task = sweep.task(in_process=False)
        loader = PrecomposedLoader(sweep.session.hydra.config_loader)
        with hydra_session.multirun_callbacks(sweep.session) as callbacks:
            plugin = hydra_session.make_launcher(sweep.session, task, callbacks, loader=loader)
            results = self.launch(sweep, todo, plugin, task, callbacks)
        apply_results(todo, results, monitor)

    def launch(
        self,
        sweep: Launch,
        todo: Sequence[JobRecord],
        plugin: HydraLauncher,
        task: SweepTask,
        callbacks: Callbacks,
    ) -> Mapping[int, JobReturn]:
        """Run the jobs with the plugin set up for them; each job's ``JobReturn`` by number."""
        del task, callbacks
        lists = [list(sweep.launch_lists[job.num]) for job in todo]
        returns = plugin.launch(lists, initial_job_idx=0)
        return {job.num: ret for job, ret in zip(todo, returns, strict=False)}
