"""Watch a running sweep: job states from their run.locks, sweep.lock, progress, summary.

Jobs in other processes are learnt by polling their run.locks, parsed only when (mtime, size)
changed (a few stats per tick for 1000 jobs). sweep.lock is rewritten on state changes at most
as often as keeps its writing under 5% of the time, and always at the end.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from pathlib import Path
from typing import IO

from naga.launch.record.files import error_line, shown_path, text_or_none
from naga.launch.record.sweeplock import JobRecord, SweepState, run_lock_stat
from naga.lock import status as st
from naga.lock.format import LOCK_NAME, try_read

PREFIX = "[naga]"
#: Per-job "started" markers, so the parent can show a job as running before it ends.
MARKER_DIR = ".naga-sweep"


def marker_path(root: Path, name: str) -> Path:
    """Where a job notes that it started (for the progress display), below the sweep root."""
    return root / MARKER_DIR / f"{name}.json"


def mark_started(root: Path, name: str) -> None:
    """Note, in the job's own process, that job ``name`` started (pid, host, Slurm id)."""
    import json

    from naga.lock.record import host

    marker = marker_path(root, name)
    with contextlib.suppress(OSError):  # progress is a nicety; never fail a job over it
        marker.parent.mkdir(parents=True, exist_ok=True)
        facts = {"pid": os.getpid(), "host": host(), "slurm_job_id": os.environ.get("SLURM_JOB_ID")}
        marker.write_text(json.dumps(facts), encoding="utf-8")


class Monitor:
    """Background thread that keeps ``state`` (and sweep.lock) in step with the jobs."""

    def __init__(
        self,
        state: SweepState,
        *,
        interval: float = 0.5,
        stream: IO[str] | None = None,
        poll_files: bool = True,
    ) -> None:
        self.state = state
        self.interval = interval
        self.poll_files = poll_files
        self._dirty = False
        self._written_at = 0.0
        self._write_cost = 0.0
        self.stream = stream if stream is not None else sys.stderr
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self._stats: dict[int, tuple[int, int] | None] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = time.monotonic()
        self._line_shown = False

    def start(self) -> None:
        """Write the first sweep.lock and start polling."""
        # Markers of an earlier sweep in the same root would show its jobs as running.
        names = {f"{job.name}.json" for job in self.state.jobs}
        with contextlib.suppress(OSError), os.scandir(self.state.root / MARKER_DIR) as entries:
            for entry in entries:
                if entry.name in names:
                    with contextlib.suppress(FileNotFoundError):
                        Path(entry.path).unlink()
        self._write()
        self._thread = threading.Thread(target=self._run, name="naga-sweep-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop polling after one last poll; clears the live line."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.poll()
        if self.live and self._line_shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.poll()
            except Exception:  # pragma: no cover - never let progress kill a sweep
                continue

    def changed(self) -> None:
        """Note that jobs changed state: sweep.lock is rewritten now or at the next tick."""
        self._dirty = True
        if time.monotonic() - self._written_at >= 20 * self._write_cost:
            self._write()

    def _write(self) -> None:
        start = time.monotonic()
        self._dirty = False  # before copying the state: a change made meanwhile writes again
        self.state.write()
        self._written_at = time.monotonic()
        self._write_cost = self._written_at - start

    def poll(self) -> bool:
        """Read the run.locks that changed; rewrite sweep.lock if any job moved."""
        changed = False
        with self.state.lock:
            for job in self.state.jobs if self.poll_files else ():
                if job.done:
                    continue
                if job.status == st.QUEUED and marker_path(self.state.root, job.name).exists():
                    job.status = st.RUNNING
                    changed = True
                stat = run_lock_stat(job.save_dir)
                if stat is None or stat == job.stale_stat or stat == self._stats.get(job.num):
                    continue
                self._stats[job.num] = stat
                if apply_run_lock(job):
                    changed = True
                    if job.done:
                        self.job_finished(job)
        if changed or self._dirty:
            self._write()
        if self.live:
            self._show_line()
        return changed

    def job_finished(self, job: JobRecord) -> None:
        """Report a job that ended (its run.lock, or a JobReturn the parent learnt directly)."""
        if self.live:
            if job.status in st.BAD:
                self._print(f"{PREFIX} job {job.num} {job.status} ({job.name}): {job.error}")
            return
        total = len(self.state.jobs)
        took = f" in {job.duration_s:.2f}s" if job.duration_s is not None else ""
        extra = f": {job.error}" if job.status != st.COMPLETED and job.error else ""
        self._print(f"{PREFIX} job {job.num + 1}/{total} {job.status}{took} ({job.name}){extra}")

    def _print(self, line: str) -> None:
        if self.live and self._line_shown:
            self.stream.write("\r\x1b[K")
        self.stream.write(line + "\n")
        self.stream.flush()
        if self.live:
            self._show_line()

    def _show_line(self) -> None:
        counts = self.state.counts()
        elapsed = time.monotonic() - self._started
        finished = sum(counts[status] for status in st.DONE)
        line = (
            f"{PREFIX} {finished}/{counts['total']} done · {counts['failed']} failed · "
            f"{counts['running']} running · {counts['queued']} queued · {elapsed:.0f}s"
        )
        self.stream.write("\r\x1b[K" + line)
        self.stream.flush()
        self._line_shown = True


def apply_run_lock(job: JobRecord) -> bool:
    """Copy status, times, error and Slurm id from the job's run.lock; True if it moved."""
    data = try_read(job.save_dir / LOCK_NAME, head=True)
    if data is None:
        return False
    from naga.lock.liveness import effective_status

    before = (job.status, job.duration_s, job.error)
    status = effective_status(data)
    if status in st.RUN:
        job.status = st.job_status(status)
    job.started_at = data.get("started_at") or job.started_at
    job.duration_s = data.get("duration_s", job.duration_s)
    job.error = error_line(data.get("error")) or job.error
    job.slurm_job_id = text_or_none(data.get("slurm_job_id")) or job.slurm_job_id
    job.run_id = data.get("run_id") or job.run_id
    return (job.status, job.duration_s, job.error) != before


def summary_lines(state: SweepState) -> list[str]:
    """The end-of-sweep report: counts, then one line per failed job."""
    counts = state.counts()
    took = f" in {state.duration_s:.1f}s" if state.duration_s is not None else ""
    parts = [f"{counts['completed']} completed", f"{counts['failed']} failed"]
    if counts[st.SKIPPED]:
        parts.append(f"{counts['skipped']} skipped (already completed)")
    for status in (st.INTERRUPTED, st.LOST):
        if counts[status]:
            parts.append(f"{counts[status]} {status}")
    unfinished = counts[st.RUNNING] + counts[st.QUEUED]
    if unfinished:
        parts.append(f"{unfinished} did not finish")
    lines = [
        f"{PREFIX} sweep {state.status}{took}: {', '.join(parts)} of {counts['total']} jobs; "
        f"see {state.path}"
    ]
    for job in state.jobs:
        if job.status in st.BAD:
            where = shown_path(job.save_dir)
            lines.append(f"{PREFIX}   {job.status}: {where}: {job.error or 'no error recorded'}")
    return lines
