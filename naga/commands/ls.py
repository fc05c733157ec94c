"""``naga ls [DIR...]``: every run below some directories, with its config and metrics.

By default one table per script, newest first, showing the config keys that differ and
every metric; ``--where``/``--sort``/``--columns``/``--group-by`` select, order and
aggregate, and ``--format`` prints CSV, JSON or Markdown instead (docs/results.md).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from naga.lock.status import RUN

FORMATS = ("table", "csv", "json", "markdown")


def add_parser(subparsers: Any) -> None:
    """Declare ``naga ls``."""
    parser = subparsers.add_parser(
        "ls",
        help="list the runs below directories with their config and metrics; filter, sort, group",
        description="List every run.lock below the given directories (default: the current "
        "one). The default table has one block per script, newest first: path, status, "
        "finish time, duration, the config keys whose values differ and every metric. "
        "Keys are the columns of naga.runs(): run, status, started_at, finished_at, "
        "duration_s, script, commit, dirty, code, sweep, sweep.job, trial, run_id, config.<key>, "
        "metrics.<name>, data.<key>; a config key may be written without 'config.' when "
        "unambiguous (lr for config.lr).",
    )
    parser.add_argument("dirs", metavar="DIR", nargs="*", default=["."], help="where to look")
    parser.add_argument(
        "--status",
        choices=RUN,
        action="append",
        help="only runs with this status (repeatable)",
    )
    parser.add_argument(
        "--where",
        metavar="EXPR",
        action="append",
        default=[],
        help="only runs where KEY=VALUE (or !=, <, <=, >, >=); repeatable, all must hold; "
        "quote it in the shell: --where 'loss<0.5'",
    )
    parser.add_argument(
        "--sort",
        metavar="KEY[,KEY]",
        help="order by these columns, -KEY for descending (default: newest first)",
    )
    parser.add_argument(
        "--columns", metavar="A,B,C", help="show exactly these columns (run is always first)"
    )
    parser.add_argument(
        "--group-by",
        metavar="KEY[,KEY]",
        help="one row per distinct value of these keys, with count/mean/std/min/max of every "
        "metric (e.g. across seeds)",
    )
    parser.add_argument(
        "--format", choices=FORMATS, default=None, help="output format (default: table)"
    )
    parser.add_argument("--json", action="store_true", help="the same as --format json")


def run(args: argparse.Namespace) -> int:
    """Print the runs; exit 0 (also when none was found), 2 on a bad key or expression."""
    from naga.commands import _results as out
    from naga.errors import UsageError
    from naga.results.frame import rows_below, select
    from naga.results.query import columns_of, group_rows, parse_sort, resolve, sort_rows

    if args.json and args.format not in (None, "json"):
        raise UsageError(f"--json and --format {args.format} disagree; pass only one of them")
    fmt = "json" if args.json else (args.format or "table")
    rows, problems = rows_below(args.dirs, relative_to_root=False)
    for problem in problems:
        # One unreadable receipt must not hide every other run.
        print(f"naga ls: warning: {problem}", file=sys.stderr)
    rows = select(rows, where=args.where, status=args.status)
    if not rows:
        if fmt == "json":
            print("[]")
        elif fmt == "table":
            where = ", ".join(args.dirs)
            extra = f" with status {'/'.join(args.status)}" if args.status else ""
            extra += " matching --where" if args.where else ""
            print(f"no run.lock{extra} below {where}")
        return 0

    columns = columns_of(rows)
    if args.group_by:
        by = [resolve(k, columns, option="--group-by") for k in _split(args.group_by, "--group-by")]
        rows = group_rows(rows, by)
        columns = list(rows[0])
    elif not args.sort:
        rows = out.newest_first(rows)
    if args.sort:
        rows = sort_rows(rows, parse_sort(args.sort, columns))
    if args.columns:
        chosen = [
            resolve(k, columns, option="--columns") for k in _split(args.columns, "--columns")
        ]
        lead = [] if args.group_by or "run" in chosen else ["run"]
        columns = lead + list(dict.fromkeys(chosen))

    if fmt == "csv":
        print(out.to_csv(columns, rows))
    elif fmt == "json":
        print(out.to_json(columns, rows))
    elif args.group_by or args.columns:
        if args.group_by and not args.columns:
            # For people, a metric's count says something only where some runs lack it.
            columns = [
                c
                for c in columns
                if not (c.endswith(".count") and all(row[c] == row["runs"] for row in rows))
            ]
        render = out.markdown if fmt == "markdown" else out.table
        print(render(columns, rows, heads=out.headers(columns)))
    else:
        _print_blocks(out, rows, markdown=fmt == "markdown")
    return 0


def _print_blocks(out: Any, rows: list[dict[str, Any]], *, markdown: bool) -> None:
    parts = []
    for script, members, columns in out.blocks(rows):
        count = f"{len(members)} run{'s' if len(members) != 1 else ''}"
        heads = out.headers(columns, block=True)
        if markdown:
            body = out.markdown(columns, members, heads=heads)
            parts.append(f"### {script} ({count})\n\n{body}")
        else:
            parts.append(f"{script}  ({count})\n{out.table(columns, members, heads=heads)}")
    print("\n\n".join(parts))


def _split(text: str, option: str) -> list[str]:
    from naga.errors import UsageError

    keys = [k.strip() for k in text.split(",")]
    if not all(keys):
        raise UsageError(f"{option} '{text}': empty key in the list; write e.g. lr,seed")
    return keys
