"""``sweep.lock``: the receipt of a whole sweep, next to its jobs' directories.

Rewritten atomically each time a job changes state, so a killed sweep still leaves the
state it reached. The sweep's process writes it; a submitit sweep's jobs also rewrite their
own entries (naga.launch.record.sync)::

    naga_sweep: 1
    sweep_id: 3f2a...            # uuid4 hex
    status: running              # running | completed | failed | interrupted
    started_at: '2026-11-21T06:30:00+00:00'
    finished_at: null
    duration_s: null
    command: [process.py, -m, param=1,2,3]
    app: process
    launcher: basic              # basic | joblib | submitit_local | submitit_slurm
    save_dir: /abs/results/process
    overrides: [param=1,2,3]     # the sweep as given
    tasks: null                  # {file, key, task_to} for --tasks / --tasks-key
    counts: {total: 3, completed: 2, failed: 1, interrupted: 0, lost: 0, skipped: 0, running: 0,
             queued: 0}
    launch:                      # how it was started, for `naga resume` (naga.launch.dispatch)
      python: /home/me/.venv/bin/python
      start: [process.py]        # or [-m, pkg.module]
      args: [-m, param=1,2,3]    # sys.argv[1:] without --detach / --resume
      cwd: /home/me/project
      host: login1               # the submitting process (a waiting sweep's liveness)
      pid: 81234
      pid_start: ...
      detached: false
      hydra_overrides: [...]     # everything the sweep was composed with
      given_root: results/process
      tasks_per_job: 1
      isolate: true
      code: 6f1e...              # the commit/snapshot the jobs import (null: not isolated)
    jobs:
    - num: 0
      name: param=1
      overrides: [param=1]
      save_dir: param=1          # relative to this file's directory
      status: completed          # queued, running, completed, failed, interrupted, lost, skipped
      started_at: ...
      duration_s: 0.01
      error: null                # one line: "ZeroDivisionError: division by zero"
      slurm_job_id: null         # 1234_0 (array element) once submitted to Slurm
      run_id: 9f1c...            # the job's run.lock run_id
      # attempts: 2              # a requeued job (its run.lock's attempts)
      # job_id: '81234'          # a submitit_local job: its controller's pid
"""

from __future__ import annotations

import os
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from naga.launch.record.files import SWEEP_LOCK
from naga.lock.atomic import remove_stale_temps, write_atomic
from naga.lock.format import LOCK_NAME, dumps
from naga.lock.record import utc_now
from naga.lock.status import DONE, JOB, QUEUED, RUNNING

SWEEP_SCHEMA_VERSION = 1
#: A temp file of sweep.lock older than this was left by a sweep killed mid-write.
_STALE_TEMP_S = 60.0


@dataclass
class JobRecord:
    """What the sweep knows about one job."""

    num: int
    name: str
    overrides: list[str]
    save_dir: Path  # absolute
    status: str = QUEUED
    started_at: str | None = None
    duration_s: float | None = None
    error: str | None = None
    slurm_job_id: str | None = None
    run_id: str | None = None
    # (mtime_ns, size) of a run.lock left by an earlier sweep: ignored until it changes.
    stale_stat: tuple[int, int] | None = None
    #: More keys of the entry (``attempts`` of a requeued job, a local job's ``job_id``).
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        """True once the job reached a final status."""
        return self.status in DONE

    def as_dict(self, root: Path) -> dict[str, object]:
        """The job's entry in sweep.lock."""
        try:
            shown = os.path.relpath(self.save_dir, root)
        except ValueError:  # pragma: no cover - different drives (Windows)
            shown = str(self.save_dir)
        return {
            "num": self.num,
            "name": self.name,
            "overrides": list(self.overrides),
            "save_dir": shown,
            "status": self.status,
            "started_at": self.started_at,
            "duration_s": self.duration_s,
            "error": self.error,
            "slurm_job_id": self.slurm_job_id,
            "run_id": self.run_id,
            **self.extra,
        }


@dataclass
class SweepState:
    """The live state of a sweep; thread-safe updates, atomic writes of sweep.lock."""

    root: Path
    jobs: list[JobRecord]
    launcher: str
    app: str
    command: list[str]
    overrides: list[str]
    tasks: dict[str, object] | None = None
    sweep_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    status: str = RUNNING
    started_at: str = field(default_factory=lambda: now_iso())  # noqa: PLW0108 - defined below
    finished_at: str | None = None
    duration_s: float | None = None
    given_root: str = ""  # save_dir as the config gave it (relative to the cwd, usually)
    #: More top-level keys: ``launch``, what ``naga resume`` needs to submit jobs again.
    extra: dict[str, object] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _written: bool = field(default=False, repr=False)
    _write_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def path(self) -> Path:
        """Where sweep.lock lives: the sweep root."""
        return self.root / SWEEP_LOCK

    def counts(self) -> dict[str, int]:
        """Jobs per status, plus the total."""
        with self.lock:
            out = {"total": len(self.jobs)} | dict.fromkeys(JOB, 0)
            for job in self.jobs:
                out[job.status] = out.get(job.status, 0) + 1
            return out

    def as_dict(self) -> dict[str, object]:
        """The whole sweep.lock document."""
        with self.lock:
            return {
                "naga_sweep": SWEEP_SCHEMA_VERSION,
                "sweep_id": self.sweep_id,
                "status": self.status,
                "started_at": self.started_at,
                "finished_at": self.finished_at,
                "duration_s": self.duration_s,
                "command": list(self.command),
                "app": self.app,
                "launcher": self.launcher,
                "save_dir": str(self.root),
                "overrides": list(self.overrides),
                "tasks": self.tasks,
                "counts": self.counts(),
                **self.extra,
                "jobs": [job.as_dict(self.root) for job in self.jobs],
            }

    def write(self) -> Path:
        """Write sweep.lock atomically and durably and return its path.

        The first write takes the folder over (naga.launch.record.claim): another sweep's
        record moves to the folder's history, unless that sweep has live jobs.

        Raises:
            OSError: The sweep's directory cannot be written.
            UsageError: The folder's sweep, another one, has jobs queued or running.
            LockError: The lock file beside sweep.lock cannot be taken.
        """
        # The state is locked only while it is copied: the jobs' threads must not wait
        # while a 1000-job sweep.lock is serialised. Writers take turns, so a newer copy
        # is never overwritten by an older one.
        with self._write_lock:
            with self.lock:
                data = self.as_dict()
            if self._written:
                write_atomic(self.path, dumps(data))
                return self.path
            from naga.launch.record.claim import take_over
            from naga.lock.writer import locked

            remove_stale_temps(self.path, min_age_s=_STALE_TEMP_S)
            # Under the lock the jobs' own updates take: an earlier sweep's job finishing
            # now writes into that sweep's record before it moves, never into this one.
            with locked(self.path):
                take_over(self.root, self.sweep_id)
                write_atomic(self.path, dumps(data))
            self._written = True
            return self.path


def now_iso() -> str:
    """The current UTC time, ISO 8601 (as run.lock writes it)."""
    return utc_now().isoformat()


def run_lock_stat(save_dir: Path) -> tuple[int, int] | None:
    """(mtime_ns, size) of ``save_dir/run.lock``, or None when there is none."""
    try:
        st = (save_dir / LOCK_NAME).stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)
