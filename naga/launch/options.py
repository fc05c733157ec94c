"""What the command line asked for beyond overrides: the shape of a sweep."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SweepOptions:
    """How to turn one config into many jobs, and where to run them."""

    multirun: bool = False  # -m/--multirun: Hydra's sweep grammar in the overrides
    tasks: Path | None = None  # --tasks FILE: one job per value/mapping in FILE
    task_to: str | None = None  # --task_to KEY: the config key each task sets
    tasks_key: str | None = None  # --tasks-key KEY: take the task list from the config itself
    n_jobs: int | None = None  # --n_jobs N: run N jobs at once with the joblib launcher
    slurm_config: Path | None = None  # --slurm_config FILE: submit to Slurm with these parameters
    skip_completed: bool = False  # --skip-completed: only jobs with no matching completed run
    print_configs: bool = False  # --cfg: print each job's config instead of running the sweep
    detach: bool = False  # --detach: submit every job (submitit), write sweep.lock, exit
    isolate: bool = True  # False (--no-isolate): submitit jobs import the live work tree
    resume: Path | None = None  # --resume DIR (from `naga resume`): DIR's unfinished jobs again

    @property
    def is_sweep(self) -> bool:
        """True when the command line describes more than one job."""
        given = (self.tasks, self.tasks_key, self.resume)
        return self.multirun or any(item is not None for item in given)
