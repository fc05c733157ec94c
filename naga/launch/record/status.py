"""The state of a sweep now: sweep.lock, the jobs' run.locks and what Slurm says.

Slurm is asked first (one ``squeue`` for the whole sweep), the files after, so a job that
ends in between is seen ended, never lost.

For each job, in this order:

1. A final status in sweep.lock (written by the job itself, or by the sweep's process)
   stands, unless Slurm holds the job again (a requeue: pending, or running its next
   attempt): then an ``interrupted`` or ``lost`` job is ``queued``.
2. A job Slurm holds is ``queued`` (pending, requeued) or ``running``.
3. Otherwise its run.lock decides, if it belongs to this sweep: final statuses as
   written; ``running`` (or ``requeued``) whose Slurm job left the queue, or whose process
   is gone on this host, is ``lost``.
4. A job with neither: ``lost`` when its Slurm job left the queue (or the local job's
   process is gone) without a receipt; ``interrupted`` when the sweep's own process
   stopped before the job started; else still ``queued``.

Only the run.locks of jobs that are not final in sweep.lock and not in the queue are read,
and only their first part (the fields above ``environment``), so a 1,000-job sweep is
read in well under a second.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from naga.errors import UsageError
from naga.launch.record.files import (
    SWEEP_LOCK,
    as_list,
    as_mapping,
    error_line,
    history_root,
    is_history,
    text_or_none,
)
from naga.lock import status as st
from naga.lock.metrics import number_or_none
from naga.lock.slurm import PENDING, RUNNING, QueueView, slurm_queue

__all__ = ["COUNTED", "JobView", "SweepView", "read_sweep"]

#: The counts ``naga status`` shows, in order.
COUNTED = (*st.LIVE, st.COMPLETED, *st.BAD)


@dataclass
class JobView:
    """One job as it stands now."""

    num: int
    name: str
    status: str
    save_dir: Path
    overrides: list[str] = field(default_factory=list)
    job_id: str | None = None  # Slurm's (or a local job's pid)
    started_at: str | None = None
    duration_s: float | None = None
    error: str | None = None
    attempts: int | None = None

    def as_dict(self) -> dict[str, object]:
        """The job for ``naga status --json``."""
        return {
            "num": self.num,
            "name": self.name,
            "status": self.status,
            "job_id": self.job_id,
            "started_at": self.started_at,
            "duration_s": self.duration_s,
            "error": self.error,
            "attempts": self.attempts,
            "save_dir": str(self.save_dir),
            "overrides": list(self.overrides),
        }


@dataclass
class SweepView:
    """A sweep as it stands now."""

    root: Path
    data: dict[str, object]  # sweep.lock as read
    jobs: list[JobView]
    #: The record read: ``root/sweep.lock``, or an earlier sweep's in the folder's history.
    record: Path | None = None

    @property
    def archived(self) -> bool:
        """True for an earlier sweep of the folder (a record of its history)."""
        return self.record is not None and self.record.name != SWEEP_LOCK

    @property
    def launcher(self) -> str:
        """The launcher the sweep was started with."""
        return str(self.data.get("launcher") or "unknown")

    def counts(self) -> dict[str, int]:
        """Jobs per status (``skipped`` counts as completed), plus ``total``."""
        out = {"total": len(self.jobs)} | dict.fromkeys(COUNTED, 0)
        for job in self.jobs:
            key = st.COMPLETED if job.status == st.SKIPPED else job.status
            out[key] = out.get(key, 0) + 1
        return out

    @property
    def pending(self) -> int:
        """Jobs still queued or running."""
        counts = self.counts()
        return counts[st.QUEUED] + counts[st.RUNNING]

    @property
    def exit_code(self) -> int:
        """0 every job completed; 3 some still queued or running; 1 some did not complete."""
        counts = self.counts()
        if self.pending:
            return 3
        return 1 if sum(counts[s] for s in st.BAD) else 0

    @property
    def status(self) -> str:
        """``running`` while jobs are pending, else ``completed`` or ``failed``."""
        return {0: st.COMPLETED, 1: st.FAILED, 3: st.RUNNING}[self.exit_code]

    def as_dict(self) -> dict[str, object]:
        """The sweep for ``naga status --json``."""
        return {
            "sweep_dir": str(self.root),
            "sweep_id": self.data.get("sweep_id"),
            "launcher": self.launcher,
            "status": self.status,
            "counts": self.counts(),
            "jobs": [job.as_dict() for job in self.jobs],
        }


def record_path(given: Path) -> tuple[Path, Path]:
    """``(sweep folder, record)`` of a SWEEP_DIR argument.

    The argument is the folder, its sweep.lock, or a record of an earlier sweep in the
    folder's history (naga.launch.record.claim).
    """
    if given.name == SWEEP_LOCK:
        return given.parent, given
    if is_history(given) and given.is_file():
        return history_root(given), given
    return given, given / SWEEP_LOCK


def load_sweep_lock(root: Path, *, command: str) -> dict[str, object]:
    """sweep.lock of ``root`` (a sweep directory, its sweep.lock, or an earlier record).

    Raises:
        UsageError: There is no readable sweep.lock there.
    """
    from naga.lock.format import loads

    _, path = record_path(root)
    try:
        data = loads(path.read_bytes())
    except OSError:
        hint = "give the sweep's directory (the save_dir a -m or --tasks run reported)"
        if not root.exists():
            raise UsageError(f"{command} {root}: no such directory; {hint}") from None
        raise UsageError(f"{command} {root}: no {SWEEP_LOCK} in this directory; {hint}") from None
    except Exception as exc:
        raise UsageError(
            f"{command} {root}: {path} is not valid YAML ({error_line(exc)}); "
            "it was not written by naga"
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("jobs"), list):
        raise UsageError(f"{command} {root}: {path} is not a naga sweep.lock (no jobs list)")
    return data


def read_sweep(root: Path, *, command: str = "naga status") -> SweepView:
    """What every job of the sweep in ``root`` is doing now (see the module docstring).

    Raises:
        UsageError: ``root`` holds no sweep.lock.
    """
    data = load_sweep_lock(root, command=command)
    root, record = record_path(root)
    entries = [entry for entry in as_list(data["jobs"]) if isinstance(entry, dict)]
    # One squeue call for the jobs with a Slurm id (none asked when no job has one).
    queue = slurm_queue(text_or_none(entry.get("slurm_job_id")) for entry in entries)
    context = _Context(root=root.absolute(), data=data, queue=queue)
    jobs = [context.job(index, entry) for index, entry in enumerate(entries)]
    return SweepView(root=root.absolute(), data=data, jobs=jobs, record=record.absolute())


@dataclass
class _Context:
    root: Path
    data: dict[str, object]
    queue: QueueView | None

    def job(self, index: int, entry: dict[str, object]) -> JobView:
        name = str(entry.get("name") or f"job-{index}")
        local_id = entry.get("job_id")
        num, attempts = entry.get("num", index), entry.get("attempts")
        view = JobView(
            num=num if isinstance(num, int) else index,
            name=name,
            status=str(entry.get("status") or st.QUEUED),
            save_dir=self.root / str(entry.get("save_dir") or name),
            overrides=[str(item) for item in as_list(entry.get("overrides"))],
            job_id=_text(entry.get("slurm_job_id")) or _text(local_id),
            started_at=text_or_none(entry.get("started_at")),
            duration_s=number_or_none(entry.get("duration_s")),
            error=text_or_none(entry.get("error")),
            attempts=attempts if isinstance(attempts, int) else None,
        )
        slurm_id = _text(entry.get("slurm_job_id"))
        held = self.queue.state(slurm_id) if self.queue is not None else None
        if view.status in st.DONE:
            # Slurm may run an interrupted job again (a requeue): then it is pending again,
            # or already running its next attempt, which has not said so yet. (A job that is
            # only being interrupted is COMPLETING, or RUNNING for the moment its process
            # takes to exit: shown as still to run rather than a sweep --watch ends early.)
            if view.status in (st.INTERRUPTED, st.LOST) and (held in PENDING or held == "RUNNING"):
                view.status = st.QUEUED
            return view
        if held in PENDING:
            view.status = st.QUEUED
            return view
        if held in RUNNING:
            # An array element runs its jobs one after another: only the one that said so
            # runs, the others wait their turn.
            if view.status == st.RUNNING:
                self._running_time(view)
            return view
        gone = self.queue is not None and self.queue.gone(slurm_id)
        lock = _read_head(view.save_dir / "run.lock")
        if lock is not None and self._ours(lock):
            self._from_run_lock(view, lock, slurm_gone=gone)
        elif gone:
            view.status = st.LOST
            view.error = view.error or "left the Slurm queue without writing a final run.lock"
        elif local_id and not _local_alive(str(local_id), as_mapping(self.data.get("launch"))):
            view.status = st.LOST
            view.error = view.error or "its submitit_local job ended without a final run.lock"
        elif not slurm_id and not local_id and not self._sweep_process_alive():
            stopped = self.data.get("status") in st.FINAL
            view.status = st.INTERRUPTED if stopped else st.LOST
            view.error = view.error or "never started: the sweep's process stopped first"
        if view.status == st.RUNNING:
            self._running_time(view)
        return view

    def _ours(self, lock: dict[str, object]) -> bool:
        # A run.lock an earlier sweep left in the same directory says nothing about this one.
        extra = lock.get("extra")
        sweep = extra.get("sweep") if isinstance(extra, dict) else None
        return isinstance(sweep, dict) and sweep.get("sweep_id") == self.data.get("sweep_id")

    def _from_run_lock(self, view: JobView, lock: dict[str, object], *, slurm_gone: bool) -> None:
        from naga.lock.liveness import effective_status, recorded_slurm_id

        status = str(lock.get("status") or st.RUNNING)
        # sweep.lock's id when it has one; else the one scancel takes, as the job recorded it.
        view.job_id = view.job_id or recorded_slurm_id(lock)
        view.started_at = text_or_none(lock.get("started_at")) or view.started_at
        view.duration_s = number_or_none(lock.get("duration_s", view.duration_s))
        view.error = error_line(lock.get("error")) or view.error
        attempts = lock.get("attempts")
        if isinstance(attempts, int):
            view.attempts = attempts
        if status in st.UNDER_WAY:
            if slurm_gone:
                view.status = st.LOST
                view.error = view.error or "left the Slurm queue while its run.lock said running"
                return
            shown = effective_status(lock)
            view.status = st.job_status(shown)
            if view.status == st.RUNNING:
                self._running_time(view)
            return
        view.status = status

    def _running_time(self, view: JobView) -> None:
        if view.duration_s is None and view.started_at:
            try:
                begun = datetime.fromisoformat(str(view.started_at)).timestamp()
            except ValueError:
                return
            view.duration_s = round(time.time() - begun, 1)

    def _sweep_process_alive(self) -> bool:
        launch = as_mapping(self.data.get("launch"))
        if launch.get("detached"):
            return False  # nothing waits on a detached sweep's behalf
        if self.data.get("status") != st.RUNNING:
            return False
        pid = launch.get("pid")
        if not isinstance(pid, int) or launch.get("host") != os.uname().nodename:
            return True  # another machine's process: cannot tell from here
        from naga.lock.liveness import is_alive

        process = {"pid": pid, "pid_start": launch.get("pid_start"), "host": launch.get("host")}
        return is_alive(process) is not False


def _local_alive(job_id: str, launch: dict[str, object]) -> bool:
    # A submitit_local job id is the pid of its controller process on the submitting host.
    if launch.get("host") != os.uname().nodename or not job_id.isdigit():
        return True
    try:
        os.kill(int(job_id), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_head(path: Path) -> dict[str, object] | None:
    """The fields of a run.lock above ``environment`` (status, times, error, ids, extra)."""
    from naga.lock.format import loads

    try:
        raw = path.read_bytes()
    except OSError:
        return None
    cut = raw.find(b"\nenvironment:")
    for text in (raw[:cut], raw) if cut > 0 else (raw,):
        try:
            data = loads(text)
        except Exception:  # a head cut in an odd place, or a file being replaced: whole file
            continue
        if isinstance(data, dict):
            return data
    return None


def _text(value: object) -> str | None:
    return None if value in (None, "") else str(value)
