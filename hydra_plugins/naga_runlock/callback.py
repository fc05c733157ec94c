"""The run.lock callback: thin; naga's lock code is imported when a job starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback


class RunLockCallback(Callback):
    """Write ``<job output dir>/run.lock`` for every job of a plain Hydra app.

    The record holds the job's resolved config, its status (completed/failed with the
    error), times, the launcher (multirun) and the git state of the app's repository.
    It is written in the job's own process, so loky workers and Slurm nodes write theirs.

    Args:
        track_code: Record the git state of the app's repository.
        lock_name: File name of the receipt in each job's output directory.
    """

    def __init__(self, track_code: bool = True, lock_name: str = "run.lock") -> None:
        self.track_code = track_code
        self.lock_name = lock_name
        self._runs: dict[str, Any] = {}

    def on_job_start(self, config: Any, *, task_function: Any = None, **kwargs: Any) -> None:
        """Open the job's run (its start time and command are recorded at the end)."""
        from naga.launch._hydra import launcher_name
        from naga.lock.session import start_run

        output_dir = Path(str(config.hydra.runtime.output_dir))
        mode = str(config.hydra.get("mode") or "")
        launcher = launcher_name(config) if mode.endswith("MULTIRUN") else None
        self._runs[str(output_dir)] = start_run(
            lock_path=output_dir / self.lock_name, function=task_function, launcher=launcher
        )

    def on_job_end(self, config: Any, job_return: Any, **kwargs: Any) -> None:
        """Write the job's run.lock: resolved config, status, error, git state."""
        from naga.launch._hydra import job_failed
        from naga.lock.session import finish_run

        ctx = self._runs.pop(str(config.hydra.runtime.output_dir), None)
        if ctx is None:
            return
        error = job_failed(job_return)
        finish_run(
            ctx,
            config=job_return.cfg,
            status="completed" if error is None else "failed",
            error=error,
            track_code=self.track_code,
        )
