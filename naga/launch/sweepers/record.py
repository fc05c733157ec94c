"""What a study leaves in ``sweep.lock`` and on stderr while it runs.

Each trial is a job entry (``trial_0007``) with a ``trial`` block; the top-level ``best`` is
rewritten whenever it changes, so an interrupted study still says which trial was best
(docs/sweeps.md shows the file). The controller writes under the lock file its trials' Slurm
jobs update their entries with (naga.launch.record.sync), so neither update is lost.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from naga.launch.record.files import as_list, as_mapping, error_line, shown_path
from naga.launch.record.progress import PREFIX
from naga.launch.record.sweeplock import JobRecord, SweepState
from naga.launch.sweepers.optuna_loop import Best, TrialJob, TrialOutcome
from naga.lock.status import COMPLETED, FAILED, FINAL, LIVE, LOST, QUEUED, RUNNING

if TYPE_CHECKING:
    from naga.launch.sweepers.optuna_study import StudySettings


def trial_name(number: int) -> str:
    """A trial's folder: ``trial_0007`` (four digits, more past 9999; sorts by number)."""
    return f"trial_{number:04d}"


def outcome_of(
    number: int, save_dir: Path, *, sweep_id: str, error: str | None = None
) -> TrialOutcome:
    """How a trial's job ended, from its run.lock (``lost`` when it left none of this sweep).

    Args:
        sweep_id: The study's sweep id (a run.lock of another sweep says nothing).
        error: Why the launcher lost the job, used when the run.lock says nothing more.
    """
    from naga.lock.format import LOCK_NAME, try_read
    from naga.lock.liveness import effective_status

    lock = try_read(save_dir / LOCK_NAME)
    sweep = ((lock or {}).get("extra") or {}).get("sweep") or {}
    if not lock or sweep.get("sweep_id") != sweep_id:
        return TrialOutcome(number, LOST, error=error or "the trial's job left no run.lock")
    status = effective_status(lock)
    if status == RUNNING:  # the job ended (its launcher says so) with its receipt open
        status = LOST
    found = lock.get("metrics")
    metrics: dict[str, object] = dict(found) if isinstance(found, dict) else {}
    reason = error_line(lock.get("error")) or (error if status != COMPLETED else None)
    return TrialOutcome(number, str(status), metrics, reason)


def finished_outcome(number: int, save_dir: Path, *, sweep_id: str) -> TrialOutcome | None:
    """The trial's outcome once its run.lock (of this sweep) is final, else None."""
    from naga.lock.format import LOCK_NAME, try_read

    lock = try_read(save_dir / LOCK_NAME, head=True)
    sweep = ((lock or {}).get("extra") or {}).get("sweep") or {}
    if not lock or sweep.get("sweep_id") != sweep_id or lock.get("status") not in FINAL:
        return None
    return outcome_of(number, save_dir, sweep_id=sweep_id)


class StudyRecord:
    """The loop's observer: sweep.lock entries, ``best``, and one line per ended trial."""

    def __init__(self, state: SweepState, settings: StudySettings, *, n_trials: int) -> None:
        self.state = state
        self.settings = settings
        self.n_trials = n_trials
        self.by_number = {job.num: job for job in state.jobs}

    def trial_started(self, job: TrialJob) -> None:
        """A trial was asked and its job started: a new entry, ``running``."""
        name = trial_name(job.number)
        with self.state.lock:
            record = JobRecord(
                num=job.number,
                name=name,
                overrides=list(job.overrides),
                save_dir=self.state.root / name,
                status=QUEUED,  # running once its run.lock says so
            )
            record.extra["trial"] = _trial_block(job.number, "running", job.params)
            self.by_number[job.number] = record
            self.state.jobs.append(record)
        self.write()

    def trial_told(self, outcome: TrialOutcome, state: str, reason: str | None) -> None:
        """The trial's result was told: its entry takes the run.lock's facts and the verdict."""
        from naga.launch.record.progress import apply_run_lock
        from naga.launch.sweepers.optuna_study import objective_values

        with self.state.lock:
            record = self.by_number[outcome.number]
            apply_run_lock(record)
            record.status = outcome.status if outcome.status != RUNNING else LOST
            if state == "complete":
                values = objective_values(outcome.metrics, self.settings.objectives)
                assert not isinstance(values, str)
                shown = dict(zip(self.settings.objectives, values, strict=True))
                record.error = None
            else:
                shown = None
                if record.status == COMPLETED:  # ran, but returned no objective
                    record.status = FAILED
                record.error = reason or outcome.error
            as_mapping(record.extra["trial"]).update(state=state, values=shown)
        self.write()
        self._report(record, shown)

    def lost(self, numbers: Sequence[int]) -> None:
        """Trials whose controller was gone before they ended: told as failed, asked again."""
        with self.state.lock:
            for number in numbers:
                record = self.by_number.get(number)
                if record is None:
                    continue
                record.status = LOST
                record.error = record.error or "its controller stopped before the trial ended"
                record.extra.setdefault("trial", _trial_block(number, "fail", {}))
                as_mapping(record.extra["trial"])["state"] = "fail"
        self.write()

    def best_changed(self, best: Best) -> None:
        """Rewrite ``best`` in sweep.lock (one trial; or the Pareto front, several)."""
        entries = [
            {
                "trial": number,
                "values": dict(zip(self.settings.objectives, values, strict=True)),
                "params": dict(params),
                "save_dir": trial_name(number),
            }
            for number, values, params in zip(best.numbers, best.values, best.params, strict=True)
        ]
        with self.state.lock:
            self.state.extra["best"] = entries[0] if len(entries) == 1 else entries
        self.write()

    def write(self) -> None:
        """Rewrite sweep.lock under its lock file (the trials' Slurm jobs update it too)."""
        from naga.errors import LockError
        from naga.launch.record.progress import apply_run_lock
        from naga.lock.writer import locked

        with self.state.lock:  # what the open trials' run.locks say (started, times, ids)
            for job in self.state.jobs:
                if job.status in LIVE:
                    apply_run_lock(job)
        if not getattr(self.state, "_written", False):
            self.state.write()  # the first write takes the folder over under the lock itself
            return
        try:
            with locked(self.state.path):
                self.state.write()
        except LockError:  # a stuck lock must not stop the study; the next change writes
            self.state.write()

    def _report(self, record: JobRecord, values: Mapping[str, float] | None) -> None:
        done = sum(
            1
            for job in self.state.jobs
            if as_mapping(job.extra.get("trial")).get("state") == "complete"
        )
        took = (
            f" in {record.duration_s:.2f}s" if isinstance(record.duration_s, (int, float)) else ""
        )
        if values is not None:
            what = ", ".join(f"{key}={value:.6g}" for key, value in values.items())
        else:
            what = record.error or "no error recorded"
        best = self.state.extra.get("best")
        best_text = ""
        if isinstance(best, dict):
            shown = ", ".join(f"{k}={v:.6g}" for k, v in best["values"].items())
            best_text = f"; best: trial {best['trial']} ({shown})"
        line = (
            f"{PREFIX} trial {record.num} {record.status}{took}: {what} "
            f"[{done}/{self.n_trials} complete{best_text}]"
        )
        print(line, file=sys.stderr, flush=True)


def _trial_block(number: int, state: str, params: Mapping[str, object]) -> dict[str, object]:
    return {"number": number, "state": state, "params": dict(params), "values": None}


def records_from(data: Mapping[str, object], root: Path) -> list[JobRecord]:
    """The trial entries of a study's sweep.lock as records (a resumed study keeps them)."""
    records = []
    for entry in as_list(data.get("jobs")):
        if not isinstance(entry, dict) or not isinstance(entry.get("num"), int):
            continue
        name = str(entry.get("name") or trial_name(entry["num"]))
        known = {
            "num", "name", "overrides", "save_dir", "status", "started_at", "duration_s",
            "error", "slurm_job_id", "run_id",
        }  # fmt: skip
        record = JobRecord(
            num=entry["num"],
            name=name,
            overrides=[str(item) for item in entry.get("overrides") or []],
            save_dir=root / os.fspath(entry.get("save_dir") or name),
            status=str(entry.get("status") or LOST),
            started_at=entry.get("started_at"),
            duration_s=entry.get("duration_s"),
            error=entry.get("error"),
            slurm_job_id=entry.get("slurm_job_id"),
            run_id=entry.get("run_id"),
            extra={key: value for key, value in entry.items() if key not in known},
        )
        records.append(record)
    return records


def summary_line(state: SweepState, *, n_trials: int) -> str:
    """The study's last line: its status, the trials per state, the best, where to look."""
    counts = Counter(job.status for job in state.jobs)
    parts = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    took = f" in {state.duration_s:.1f}s" if state.duration_s is not None else ""
    best = state.extra.get("best")
    best_text = ""
    if isinstance(best, dict):
        shown = ", ".join(f"{k}={v:.6g}" for k, v in best["values"].items())
        where = shown_path(state.root / str(best["save_dir"]))
        best_text = f"; best trial {best['trial']}: {shown} ({where})"
    elif isinstance(best, list):
        best_text = f"; {len(best)} trials on the Pareto front"
    return (
        f"{PREFIX} study {state.status}{took}: {parts or 'no trials'} of {n_trials} trials"
        f"{best_text}; see {shown_path(state.path)}"
    )
