"""The run.lock callback: thin; naga's lock code is imported when a job starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback


class RunLockCallback(Callback):
    """Write ``<job output dir>/run.lock`` for every job of a plain Hydra app.

    The receipt is written ``running`` when the job starts and completed when it ends
    (status, error, times, the launcher in multirun, the git state of the app's
    repository), in the job's own process, so loky workers and Slurm nodes write theirs.

    Args:
        track_code: Record the git state of the app's repository.
        lock_name: File name of the receipt in each job's output directory.
    """

    def __init__(self, track_code: bool = True, lock_name: str = "run.lock") -> None:
        self.track_code = track_code
        self.lock_name = lock_name
        self._runs: dict[str, Any] = {}
        # Hydra builds its callbacks in the process the user started, then pickles them to
        # the launcher's workers: the user's script is known here, and only here.
        from naga.lock.origin import main_script, user_command

        self._main_script = main_script()
        self._command = user_command()

    def on_job_start(self, config: Any, *, task_function: Any = None, **kwargs: Any) -> None:
        """Open the job's run and write its ``running`` receipt."""
        from omegaconf import open_dict, read_write

        from naga.launch.launchers.registry import launcher_name
        from naga.lock.session import start_run

        output_dir = Path(str(config.hydra.runtime.output_dir))
        mode = str(config.hydra.get("mode") or "")
        launcher = launcher_name(config) if mode.endswith("MULTIRUN") else None
        task_cfg = config.copy()
        with read_write(task_cfg), open_dict(task_cfg):
            del task_cfg["hydra"]
        self._runs[str(output_dir)] = start_run(
            lock_path=output_dir / self.lock_name,
            origin=self._origin(task_function),
            config=task_cfg,
            launcher=launcher,
            track_code=self.track_code,
            command=self._command,
        )

    def on_job_end(self, config: Any, job_return: Any, **kwargs: Any) -> None:
        """Complete the job's run.lock: resolved config, status, error."""
        from naga.launch.job import job_failed
        from naga.lock.session import finish_run
        from naga.lock.status import COMPLETED, FAILED

        ctx = self._runs.pop(str(config.hydra.runtime.output_dir), None)
        if ctx is None:
            return
        error = job_failed(job_return)
        if error is None:
            from naga.launch.job import returned_metrics, returned_value

            # A task function's return value is its result, as for @clicfg (docs/results.md).
            returned = returned_value(job_return)
            ctx.metrics.update(returned_metrics(returned, ctx.function or "task"))
        finish_run(
            ctx,
            config=job_return.cfg,
            status=COMPLETED if error is None else FAILED,
            error=error,
            track_code=self.track_code,
        )

    def _origin(self, task_function: Any) -> Any:
        from dataclasses import replace

        from naga.lock.origin import origin_of

        origin = origin_of(task_function)
        if origin.script is None and getattr(task_function, "__module__", None) == "__main__":
            # Pickled by value into a worker, the function lost its file: it is the script.
            origin = replace(origin, script=self._main_script)
        return origin
