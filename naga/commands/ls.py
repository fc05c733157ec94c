"""``naga ls [DIR...]``: every run below some directories as a table, newest first."""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from naga.commands import _render as r
from naga.commands._locks import STATUSES, Run, comparable_config, find_runs

_MISSING = object()


def add_parser(subparsers: Any) -> None:
    """Declare ``naga ls``."""
    parser = subparsers.add_parser(
        "ls",
        help="list the runs below directories, newest first, with the config keys that differ",
        description="List every run.lock below the given directories (default: the current "
        "one) as a table: path, status, finish time, duration and the config keys whose "
        "values differ between the listed runs. Newest first.",
    )
    parser.add_argument("dirs", metavar="DIR", nargs="*", default=["."], help="where to look")
    parser.add_argument(
        "--status",
        choices=STATUSES,
        action="append",
        help="only runs with this status (repeatable)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object per run instead of a table"
    )


def run(args: argparse.Namespace) -> int:
    """Print the table; exit 0 (also when no run was found)."""
    roots = [Path(d) for d in args.dirs]
    runs = find_runs(roots)
    if args.status:
        runs = [run for run in runs if run.status in args.status]
    runs = sort_newest_first(runs)
    keys = differing_keys(runs)
    if args.json:
        for found in runs:
            config = comparable_config(found)
            record = {
                "path": str(found.path),
                "run_id": found.run_id,
                "status": found.status,
                "started_at": found.lock.get("started_at"),
                "finished_at": found.lock.get("finished_at"),
                "duration_s": found.lock.get("duration_s"),
                "differing": {key: config.get(key) for key in keys},
            }
            print(json.dumps(record, ensure_ascii=False, default=str))
        return 0
    if not runs:
        where = ", ".join(args.dirs)
        extra = f" with status {'/'.join(args.status)}" if args.status else ""
        print(f"no run.lock{extra} below {where}")
        return 0
    rows = []
    for found in runs:
        config = comparable_config(found)
        row = [
            found.display(),  # relative to cwd: pastes straight into `naga show`
            found.status,
            r.short_time(found.when()),
            r.duration(found.lock.get("duration_s")),
        ]
        row += [r.value(config[key]) if key in config else "-" for key in keys]
        rows.append(row)
    print(r.table(["RUN", "STATUS", "FINISHED", "DURATION", *keys], rows))
    return 0


def sort_newest_first(runs: list[Run]) -> list[Run]:
    """Newest first by finish (or start) time; runs without any time go last, by path."""
    oldest = datetime.min.replace(tzinfo=timezone.utc)

    def key(found: Run) -> tuple[datetime, str]:
        when = found.when()
        if when is not None and when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return (when or oldest, str(found.path))

    return sorted(runs, key=key, reverse=True)


def differing_keys(runs: list[Run]) -> list[str]:
    """Dotted config keys whose value is not the same in every run (save_dir excluded)."""
    configs = [comparable_config(found) for found in runs]
    if len(configs) < 2:
        return []
    keys: list[str] = []
    for config in configs:
        keys.extend(k for k in config if k not in keys)
    return [k for k in keys if len({_canon(c.get(k, _MISSING)) for c in configs}) > 1]


def _canon(value: Any) -> str:
    if value is _MISSING:
        return "\0missing"
    return json.dumps(value, sort_keys=True, default=str)
