"""The task function Hydra's launchers run for each job of a naga sweep.

It is pickled (cloudpickle) to loky workers and Slurm nodes, so it is a small class
holding the App, importable from naga in every worker.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from naga.launch.job import App, start_job
from naga.launch.record.progress import mark_started
from naga.lock.interrupt import Interrupted
from naga.lock.status import RUNNING

if TYPE_CHECKING:
    from omegaconf import DictConfig


class JobFailed(RuntimeError):
    """A job of a sweep failed; carries the error line across processes.

    The user's own exception may not survive pickling back to the parent (a custom
    class with required arguments, a lambda in an attribute), so jobs running outside
    the parent process return this instead; the full traceback is in the job's run.lock.
    """


@dataclass
class SweepTask:
    """``task_function`` for Hydra's launchers: one naga job per call."""

    app: App
    launcher: str
    sweep_id: str
    root: str
    in_process: bool
    #: The Optuna study whose trials these jobs are (naga.launch.sweepers): each run.lock
    #: names its trial number and study under ``extra.sweep``.
    study: str | None = None
    #: Jobs of a sweeper that decides them as it goes (a third-party Hydra sweeper): each
    #: job adds its own entry to sweep.lock, since nobody knew it up front.
    register: bool = False

    def __call__(self, cfg: DictConfig) -> object:
        from hydra.core.hydra_config import HydraConfig
        from omegaconf import open_dict

        from naga.launch.record.files import error_line

        hydra_cfg = HydraConfig.get()
        name = str(hydra_cfg.sweep.subdir)
        num = int(hydra_cfg.job.num) if getattr(hydra_cfg.job, "num", None) is not None else None
        if not self.in_process:  # in process, the sweep sees its jobs start
            mark_started(Path(self.root), name)
        # The parent chose every job's directory; write it into the job's config so that
        # `cfg.save_dir`, the run.lock and sweep.lock all agree on it.
        with open_dict(cfg):
            cfg.save_dir = self.root
        overrides = [str(item) for item in hydra_cfg.overrides.task]
        sweep: dict[str, object] = {
            "sweep_id": self.sweep_id,
            "name": name,
            "num": num,
            "overrides": overrides,
        }
        if self.study is not None:
            sweep.update(trial=num, study=self.study)
        extra = {"sweep": sweep}
        if self.register:
            _register_job(Path(self.root), self.sweep_id, name, num, overrides)
        try:
            job = start_job(self.app, cfg, launcher=self.launcher, job_dir_name=name, extra=extra)
            return job.call()
        except (Interrupted, KeyboardInterrupt) as exc:
            if self.in_process:
                raise  # the whole sweep stops with its job
            # A worker (loky, a Slurm node) reports the job like a failure, so the launcher
            # carries on with the other jobs; its run.lock says interrupted, with the signal.
            raise JobFailed(f"interrupted: {error_line(exc)}") from None
        except SystemExit as exc:
            if exc.code in (0, None):
                return None
            raise JobFailed(f"SystemExit: the job called sys.exit({exc.code!r})") from None
        except Exception as exc:
            if self.in_process:
                raise  # keep the user's exception (and traceback) for the debugger
            raise JobFailed(error_line(exc)) from None
        finally:
            if self.register:
                _job_ended(Path(self.root), self.sweep_id, name)


def _register_job(
    root: Path, sweep_id: str, name: str, num: int | None, overrides: Sequence[str]
) -> None:
    """A job of a third-party sweeper adds its own entry to sweep.lock, ``running``."""
    from naga.launch.record.sweeplock import now_iso
    from naga.launch.record.sync import update_jobs

    entry = {
        "num": num,
        "overrides": [str(item) for item in overrides],
        "save_dir": name,
        "status": RUNNING,
        "started_at": now_iso(),
        "duration_s": None,
        "error": None,
    }
    update_jobs(root, {name: entry}, sweep_id=sweep_id, add=True)


def _job_ended(root: Path, sweep_id: str, name: str) -> None:
    """The job's entry takes its final run.lock's status, times, error and run id."""
    from naga.launch.record.sync import entry_from_run_lock, update_jobs
    from naga.lock.format import LOCK_NAME, try_read

    lock = try_read(root / name / LOCK_NAME, head=True)
    if lock:
        update_jobs(root, {name: entry_from_run_lock(lock)}, sweep_id=sweep_id, add=True)
