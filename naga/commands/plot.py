"""``naga plot ROOT --x KEY --y KEY``: a metric against a config key across runs.

One line per ``--hue`` value; where several runs share an x (seeds), the line goes
through their mean with a min–max (or ±std) band. ``--json`` prints the series instead of
drawing them, so the numbers can be checked (docs/results.md).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from naga.commands._results import add_filters

BANDS = ("minmax", "std", "none")


def add_parser(subparsers: Any) -> None:
    """Declare ``naga plot``."""
    parser = subparsers.add_parser(
        "plot",
        help="plot a metric against a config key across the runs below a directory",
        description="Plot --y (a metric, or any column holding numbers) against --x (a "
        "config key, or any column) for every run below ROOT, one line per --hue value. "
        "Runs sharing an x value (e.g. seeds) become one point, their mean, with a band "
        "(min–max by default, or ±1 standard deviation). Keys are naga ls's columns; "
        "config keys need no 'config.' prefix when unambiguous. Writes a PNG, SVG or PDF "
        "(matplotlib, an extra: pip install 'naga[results]'), or prints the series as JSON.",
    )
    parser.add_argument("root", metavar="ROOT", nargs="?", default=".", help="where to look")
    parser.add_argument("--x", required=True, metavar="KEY", help="the x axis, e.g. lr")
    parser.add_argument("--y", required=True, metavar="KEY", help="the y axis, e.g. loss")
    parser.add_argument("--hue", metavar="KEY", help="one line per value of this key")
    add_filters(parser)
    parser.add_argument(
        "--band", choices=BANDS, default="minmax", help="spread shown around the mean"
    )
    parser.add_argument("--logx", action="store_true", help="logarithmic x axis")
    parser.add_argument("--logy", action="store_true", help="logarithmic y axis")
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="the figure: .png, .svg or .pdf (default: <y>-vs-<x>.png in the current directory)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the plotted series as JSON, draw nothing"
    )


def run(args: argparse.Namespace) -> int:
    """Draw (or print) the series; exit 0, or 2 on a bad key, expression or file type."""
    from naga.errors import UsageError
    from naga.results.frame import rows_below, select
    from naga.results.plot import FILE_TYPES, draw, series
    from naga.results.query import columns_of, resolve

    output = Path(args.output) if args.output else None
    if output is not None and output.suffix.lower() not in FILE_TYPES:
        raise UsageError(
            f"--output {output}: unknown file type '{output.suffix}'; use one of "
            f"{', '.join(FILE_TYPES)}"
        )
    rows, problems = rows_below([args.root], relative_to_root=False)
    for problem in problems:
        print(f"naga plot: warning: {problem}", file=sys.stderr)
    rows = select(rows, where=args.where, status=args.status)
    if not rows:
        raise UsageError(f"no runs to plot below {args.root}; check ROOT, --where and --status")
    columns = columns_of(rows)
    x = resolve(args.x, columns, option="--x")
    y = resolve(args.y, columns, option="--y")
    hue = resolve(args.hue, columns, option="--hue") if args.hue else None
    lines, left_out = series(rows, x=x, y=y, hue=hue)
    if not lines:
        raise UsageError(
            f"none of the {len(rows)} runs has both {x} and a finite {y}; "
            "check --x/--y (naga ls shows the columns)"
        )
    if args.json:
        document = {
            "x": x,
            "y": y,
            "hue": hue,
            "band": args.band,
            "runs": len(rows) - left_out,
            "left_out": left_out,
            "series": [line.as_json() for line in lines],
        }
        print(json.dumps(document, ensure_ascii=False, default=str))
        return 0
    if output is None:
        output = Path(f"{_slug(y)}-vs-{_slug(x)}.png")
    draw(lines, output, x=x, y=y, hue=hue, band=args.band, logx=args.logx, logy=args.logy)
    points = sum(len(line.x) for line in lines)
    skipped = f"; {left_out} without {x} or a finite {y} left out" if left_out else ""
    print(
        f"wrote {output}: {y} against {x}, {len(lines)} line{'s' * (len(lines) != 1)}, "
        f"{points} point{'s' * (points != 1)} from {len(rows) - left_out} runs{skipped}"
    )
    return 0


def _slug(column: str) -> str:
    name = column.split(".", 1)[1] if column.startswith(("config.", "metrics.")) else column
    return re.sub(r"[^A-Za-z0-9._=+-]", "_", name)
