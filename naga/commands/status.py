"""``naga status SWEEP_DIR [--watch] [--json]``: where every job of a sweep stands.

One line per job and the counts, from sweep.lock, the jobs' run.locks and Slurm's queue
(naga.launch.record.status). Exit status: 0 when every job completed, 1 when none is
pending but some did not complete, 3 while jobs are queued or running.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import IO, Any

from naga.lock.status import COMPLETED, FAILED, INTERRUPTED, LOST, QUEUED, REQUEUED, RUNNING

#: Exit status while jobs are still queued or running.
PENDING_EXIT = 3


def add_parser(subparsers: Any) -> None:
    """Declare ``naga status``."""
    parser = subparsers.add_parser(
        "status",
        help="show every job of a sweep: queued, running, completed, failed, interrupted, lost",
        description="Show one line per job of the sweep in SWEEP_DIR (its save_dir, holding "
        "sweep.lock) and the counts per status, from sweep.lock, the jobs' run.locks and "
        "Slurm's queue. Exit status: 0 every job completed, 1 none pending but some failed, "
        "interrupted or lost, 3 jobs still queued or running.",
    )
    parser.add_argument("sweep", metavar="SWEEP_DIR", help="the sweep's directory")
    parser.add_argument(
        "--watch",
        action="store_true",
        help="redraw until no job is queued or running (a progress bar on a terminal, one "
        "line per change otherwise), then exit as without --watch",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the sweep as JSON (with --watch: one per change)"
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="seconds between looks with --watch (default 2)",
    )


def run(args: argparse.Namespace) -> int:
    """Show the sweep (once, or until it is over); return 0, 1 or 3 as documented."""
    from naga.errors import UsageError
    from naga.launch.record.files import history
    from naga.launch.record.status import read_sweep

    if args.interval <= 0:
        raise UsageError(f"--interval {args.interval}: give a positive number of seconds")
    root = Path(args.sweep)
    view = read_sweep(root)
    if not args.watch:
        earlier = [] if view.archived else history(view.root)
        if args.json:
            data = view.as_dict() | {"history": [str(path) for path in earlier]}
            print(json.dumps(data, indent=2, default=str))
        else:
            lines = table(view)
            if earlier:
                lines.insert(1, history_line(view, earlier))
            sys.stdout.write("".join(line + "\n" for line in lines))
        return _exit_code(view)
    return _watch(root, view, args)


def _exit_code(view: Any) -> int:
    from naga.launch.sweepers.detached import is_study, study_exit_code

    if is_study(view.data):  # a study: its controller and budget decide
        return study_exit_code(view)
    return int(view.exit_code)


def table(view: Any) -> list[str]:
    """The sweep as lines: a header, one line per job, the counts."""
    rows = [_cells(job) for job in view.jobs]
    widths = [max([len(row[col]) for row in rows], default=0) for col in range(4)]
    lines = [header(view)]
    for row in rows:
        text = "  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True))
        lines.append(("  " + text + ("  " + row[4] if row[4] else "")).rstrip())
    lines.append(counts_line(view))
    if view.data.get("sweeper"):  # a search: the study's own lines (naga.launch.sweepers)
        from naga.launch.sweepers.detached import study_lines

        lines.extend(study_lines(view))
    return lines


def header(view: Any) -> str:
    """``sweep results/x  (submitit_slurm, 4 jobs, id 3f2a1c9e)``."""
    from naga.launch.record.files import shown_path

    shown = _printable(shown_path(view.root))
    sweep_id = str(view.data.get("sweep_id") or "")[:8]
    when = ""
    if view.archived:  # a record of the folder's history, not its current sweep
        when = f", an earlier sweep, started {str(view.data.get('started_at') or '?')[:19]}"
    return f"sweep {shown}  ({view.launcher}, {len(view.jobs)} jobs, id {sweep_id}{when})"


def _printable(text: str) -> str:
    # One line, whatever the directory is called: control characters (a newline) escaped.
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def history_line(view: Any, earlier: list[Path]) -> str:
    """``  earlier sweeps here: 2, the last one in .naga-sweep/history/2026..._1baac264.lock``."""
    import os

    last = os.path.relpath(earlier[-1], view.root)
    return f"  earlier sweeps here: {len(earlier)}, the last one in {_printable(last)}"


def counts_line(view: Any) -> str:
    """``4 jobs: 1 queued, 1 running, 1 completed, 1 failed, 0 interrupted, 0 lost``."""
    from naga.launch.record.status import COUNTED

    counts = view.counts()
    parts = ", ".join(f"{counts[status]} {status}" for status in COUNTED)
    return f"{counts['total']} jobs: {parts}"


def _cells(job: Any) -> list[str]:
    from naga.commands import _render as r

    status = job.status
    note = ""
    if status == QUEUED and job.started_at:
        note = REQUEUED
    if job.attempts and job.attempts > 1:
        note = f"attempt {job.attempts}" if not note else f"{note}, attempt {job.attempts}"
    if note:
        status = f"{status} ({note})"
    duration = r.duration(job.duration_s) if job.status != QUEUED else "-"
    error = job.error if job.status != COMPLETED and job.error else ""
    return [job.name, status, job.job_id or "-", duration, error]


def _watch(root: Path, view: Any, args: argparse.Namespace) -> int:
    from naga.launch.record.status import read_sweep

    stream = sys.stdout
    live = stream.isatty() and not args.json
    seen: dict[str, tuple[str, str | None]] = {}
    while True:
        if args.json:
            _json_changes(view, seen, stream)
        elif live:
            _redraw(view, stream)
        else:
            _plain_changes(view, seen, stream)
        if not view.pending:
            if live:
                stream.write("\n")
            elif not args.json:
                stream.write(f"done: {counts_line(view)}\n")
            stream.flush()
            return _exit_code(view)
        time.sleep(args.interval)
        view = read_sweep(root)


def _json_changes(view: Any, seen: dict[str, Any], stream: IO[str]) -> None:
    state = {job.name: (job.status, job.error) for job in view.jobs}
    if state != seen:
        seen.clear()
        seen.update(state)
        stream.write(json.dumps(view.as_dict(), default=str) + "\n")
        stream.flush()


def _plain_changes(view: Any, seen: dict[str, Any], stream: IO[str]) -> None:
    lines = table(view)
    if not seen:
        stream.write("".join(line + "\n" for line in lines))
    else:
        rows = lines[1:-1]
        changed = [
            row
            for job, row in zip(view.jobs, rows, strict=True)
            if seen.get(job.name) != (job.status, job.error)
        ]
        if changed:
            stream.write("".join(row + "\n" for row in changed) + lines[-1] + "\n")
    seen.update({job.name: (job.status, job.error) for job in view.jobs})
    stream.flush()


def _redraw(view: Any, stream: IO[str]) -> None:
    columns, rows = shutil.get_terminal_size((100, 30))
    counts = view.counts()
    done = counts["total"] - view.pending
    width = max(10, min(50, columns - 30))
    filled = round(width * done / counts["total"]) if counts["total"] else width
    bar = f"[{'#' * filled}{'.' * (width - filled)}] {done}/{counts['total']} done"
    lines = [header(view), bar, counts_line(view)]
    # The jobs worth a look first: failures, then what runs, then the queue.
    order = {
        status: rank for rank, status in enumerate((FAILED, LOST, INTERRUPTED, RUNNING, QUEUED))
    }
    shown = sorted(
        (job for job in view.jobs if job.status in order),
        key=lambda job: (order[job.status], job.num),
    )
    body = table(view)[1:-1]
    by_name = dict(zip((job.name for job in view.jobs), body, strict=True))
    room = max(0, rows - len(lines) - 2)
    lines.extend(by_name[job.name] for job in shown[:room])
    if len(shown) > room:
        lines.append(f"  ... and {len(shown) - room} more")
    stream.write("\x1b[H\x1b[2J" + "\n".join(line[:columns] for line in lines))
    stream.flush()
