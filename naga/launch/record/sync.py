"""A job keeps its own entry of ``sweep.lock`` up to date, from any node of a cluster.

A detached sweep has no parent watching, so each job rewrites its entry (and the counts and
final status) under the ``flock`` of ``.sweep.lock.lock``, which holds across the nodes of a
shared filesystem. An update for another sweep's record (the folder was taken over) is dropped.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path

from naga.launch.record.files import SWEEP_LOCK, error_line
from naga.launch.record.sweeplock import now_iso
from naga.lock.status import BAD, COMPLETED, DONE, FAILED, FINAL, JOB, REQUEUED, RUNNING, job_status

__all__ = ["entry_from_run_lock", "update_jobs"]


def update_jobs(
    root: Path,
    changes: Mapping[str, Mapping[str, object]],
    *,
    sweep_id: str,
    top: Mapping[str, object] | None = None,
    add: bool = False,
) -> bool:
    """Merge ``changes`` (job name -> fields) into the job entries of ``root/sweep.lock``.

    ``top`` sets top-level keys too (a resumed sweep's new ``launch`` record). With
    ``add``, a job without an entry gets one (the jobs of a third-party sweeper, which
    nobody knew up front).

    A sweep.lock of another sweep than ``sweep_id`` is left alone.

    Returns:
        True when sweep.lock was rewritten; False when there is none, it cannot be read,
        or it is another sweep's: a job never fails because of the sweep's bookkeeping.
    """
    from naga.errors import LockError
    from naga.lock.atomic import write_atomic
    from naga.lock.format import dumps, loads
    from naga.lock.writer import locked

    path = root / SWEEP_LOCK
    if not (changes or top) or not path.exists():
        return False
    try:
        with locked(path):
            data = loads(path.read_bytes())
            if not isinstance(data, dict) or not isinstance(data.get("jobs"), list):
                return False
            if str(data.get("sweep_id")) != sweep_id:
                return False  # a newer sweep's record: this job's sweep is history there
            data.update(top or {})
            for entry in data["jobs"]:
                new = changes.get(str(entry.get("name")))
                if new:
                    entry.update(new)
            if add:
                known = {str(entry.get("name")) for entry in data["jobs"]}
                data["jobs"].extend(
                    {"name": name, **new} for name, new in changes.items() if name not in known
                )
            _recount(data, data["jobs"])
            write_atomic(path, dumps(data))
    except (LockError, OSError, ValueError) as exc:
        _warn(f"naga could not update {path}: {exc}")
        return False
    except Exception as exc:  # a YAML error: the file is not one naga wrote
        _warn(f"naga could not update {path}: {exc}")
        return False
    return True


def entry_from_run_lock(lock: Mapping[str, object]) -> dict[str, object]:
    """The sweep.lock fields a job's run.lock decides (status, times, error, ids)."""
    status = str(lock.get("status") or RUNNING)
    out: dict[str, object] = {
        # A requeued job waits in the queue again: sweep.lock reports the job once, queued.
        "status": job_status(status),
        "started_at": lock.get("started_at"),
        "duration_s": lock.get("duration_s"),
        "error": error_line(lock.get("error")),
        "run_id": lock.get("run_id"),
    }
    attempts = lock.get("attempts")
    if isinstance(attempts, int) or status == REQUEUED:
        out["attempts"] = attempts if isinstance(attempts, int) else 1
    return out


def _recount(data: dict[str, object], jobs: list[dict[str, object]]) -> None:
    counts = {"total": len(jobs)} | dict.fromkeys(JOB, 0)
    for entry in jobs:
        status = str(entry.get("status"))
        counts[status] = counts.get(status, 0) + 1
    data["counts"] = counts
    if data.get("sweeper") is not None:
        # A search (naga's study, a Hydra sweeper plugin) asks for more jobs as others end:
        # all listed jobs done is not the end, which only its controller knows and writes.
        return
    if all(str(entry.get("status")) in DONE for entry in jobs):
        bad = sum(counts[s] for s in BAD)
        data["status"] = FAILED if bad else COMPLETED
        data["finished_at"] = now_iso()
        data["duration_s"] = _since(data.get("started_at"))
    elif data.get("status") in FINAL:
        data["status"] = RUNNING  # resumed, or a job requeued after the end was written
        data["finished_at"] = data["duration_s"] = None


def _since(started: object) -> float | None:
    from datetime import datetime

    try:
        begun = datetime.fromisoformat(str(started))
    except ValueError:
        return None
    return round(time.time() - begun.timestamp(), 3)


def _warn(message: str) -> None:
    import contextlib
    import sys

    with contextlib.suppress(Exception):  # a closed stderr
        print(f"[naga] warning: {message} (pid {os.getpid()})", file=sys.stderr)
