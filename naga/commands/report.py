"""``naga report DIR... [-o report.html]``: one self-contained, interactive HTML file.

The file opens from disk in any current browser with no network: a summary, the grouped
table (the numbers of ``naga ls --group-by``, with 95% intervals and the best run), charts
(the numbers of ``naga plot --json``), and a card per run (docs/report.md). Plotly comes
with the ``report`` extra and is imported by this command only.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

from naga.commands._results import add_filters

DEFAULT_OUTPUT = "report.html"


def add_parser(subparsers: Any) -> None:
    """Declare ``naga report``."""
    parser = subparsers.add_parser(
        "report",
        help="write one self-contained interactive HTML report of the runs below directories",
        description="Write one HTML file that opens offline in any browser: a summary of the "
        "runs below the given directories, the grouped table (by default grouped by every "
        "config key that varies except seed-like keys and save_dir; count/mean/std/95% "
        "CI/min/max and the best run per metric, sortable, filterable, each group "
        "expandable to its runs), charts (parallel coordinates; metrics against settings "
        "with a min–max band over seeds; the objective by trial of a sweep), and a card "
        "per run (status and error, times, host, launcher, command, config, code, data, "
        "lineage). Needs plotly: pip install 'naga[report]'.",
    )
    parser.add_argument("dirs", metavar="DIR", nargs="*", default=["."], help="where to look")
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        default=DEFAULT_OUTPUT,
        help=f"the HTML file to write (default: {DEFAULT_OUTPUT})",
    )
    add_filters(parser)
    parser.add_argument(
        "--group-by",
        metavar="KEY[,KEY]",
        help="group by exactly these keys (default: every varying config key but seeds)",
    )
    parser.add_argument(
        "--seed-keys",
        metavar="KEY[,KEY]",
        help="the keys that vary like seeds, left out of the default grouping (default: "
        "config keys whose last part contains 'seed'); an empty string for none",
    )
    parser.add_argument(
        "--x",
        metavar="KEY",
        action="append",
        default=[],
        help="draw the metrics against this key (repeatable; default: the group keys)",
    )
    parser.add_argument(
        "--y",
        metavar="METRIC",
        action="append",
        default=[],
        help="draw this metric (repeatable; default: the first metrics)",
    )
    parser.add_argument("--hue", metavar="KEY", help="one line per value of this key")
    parser.add_argument(
        "--minimize",
        metavar="METRIC",
        action="append",
        default=[],
        help="lower is better for this metric (the best run; default from the name: loss, "
        "error, mse, ... are minimized, others maximized)",
    )
    parser.add_argument(
        "--maximize",
        metavar="METRIC",
        action="append",
        default=[],
        help="higher is better for this metric",
    )
    parser.add_argument(
        "--objective",
        metavar="METRIC",
        help="the metric an optimization sweep optimizes (default: value, if recorded)",
    )
    parser.add_argument("--title", help="the page's title (default: naga report: DIR...)")


def run(args: argparse.Namespace) -> int:
    """Write the report; exit 0, or 2 on a bad key, directory or output path."""
    import time

    from naga._version import __version__
    from naga.errors import UsageError
    from naga.lock.atomic import write_atomic
    from naga.results.report.build import Options, build, built_at
    from naga.results.report.page import TABULATOR_VERSION, page, plotly_js

    start = time.perf_counter()
    output = Path(args.output)
    _check_output(output)
    plotly, plotly_version = plotly_js()  # before reading: a missing extra fails at once
    options = Options(
        where=args.where,
        status=args.status,
        group_by=_split(args.group_by, "--group-by") if args.group_by else None,
        seed_keys=(
            None
            if args.seed_keys is None
            else ([] if args.seed_keys.strip() == "" else _split(args.seed_keys, "--seed-keys"))
        ),
        x=args.x,
        y=args.y,
        hue=args.hue,
        minimize=args.minimize,
        maximize=args.maximize,
        objective=args.objective,
        title=args.title,
        meta={
            "naga_version": __version__,
            "built_at": built_at(),
            "command": shlex.join(["naga", "report", *sys.argv[2:]])
            if sys.argv[1:2] == ["report"]
            else shlex.join(["naga", "report", *args.dirs, "-o", str(output)]),
            "plotly_version": plotly_version,
            "tabulator_version": TABULATOR_VERSION,
        },
    )
    document = build(args.dirs, options)
    for problem in document["summary"]["problems"]:
        print(f"naga report: warning: {problem}", file=sys.stderr)
    text = page(document, plotly=plotly)
    try:
        write_atomic(output, text)
    except OSError as exc:
        raise UsageError(
            f"-o {output}: cannot write it ({exc.strerror or exc}); choose a writable path"
        ) from exc
    summary = document["summary"]
    groups = len(document["groups"]["rows"])
    size = len(text.encode("utf-8"))
    print(
        f"wrote {output}: {summary['runs']} runs in {groups} group{'s' * (groups != 1)}, "
        f"{len(document['plots']) + len(document['parallel']) + len(document['trials'])} "
        f"charts, {size / 1e6:.1f} MB, in {time.perf_counter() - start:.1f} s; "
        "open it in any browser (it needs no network)"
    )
    return 0


def _check_output(output: Path) -> None:
    """Refuse an output path that cannot be written before any work is done."""
    import os

    from naga.errors import UsageError

    if output.is_dir():
        raise UsageError(f"-o {output}: is a directory; name the HTML file to write")
    parent = output.parent if str(output.parent) else Path()
    if not parent.is_dir():
        raise UsageError(
            f"-o {output}: directory '{parent}' does not exist; create it or choose another path"
        )
    if not os.access(parent, os.W_OK | os.X_OK) or (
        output.exists() and not os.access(output, os.W_OK)
    ):
        raise UsageError(f"-o {output}: not writable; choose a path you can write")


def _split(text: str, option: str) -> list[str]:
    from naga.errors import UsageError

    keys = [k.strip() for k in text.split(",")]
    if not all(keys):
        raise UsageError(f"{option} '{text}': empty key in the list; write e.g. lr,seed")
    return keys
