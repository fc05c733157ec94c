"""Result rows as text: the per-script table of ``naga ls``, and table/markdown/CSV/JSON.

Machines get every value exactly (CSV and JSON carry full column names and Python's
``repr`` of floats, ``nan``/``inf`` included); people get short headers (``lr`` for
``config.lr`` where that is unambiguous) and numbers to six significant digits.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

from naga.commands import _render as r
from naga.lock.status import RUN
from naga.results.locks import VOLATILE_CONFIG_KEYS, parse_time
from naga.results.query import is_number, render, short_column

Row = dict[str, Any]
FORMATS = ("table", "csv", "json", "markdown")
#: The first columns of a per-script block, with their headers.
BLOCK_HEAD = (("run", "RUN"), ("status", "STATUS"), ("finished_at", "FINISHED"),
              ("duration_s", "DURATION"))  # fmt: skip
_VOLATILE = {f"config.{key}" for key in VOLATILE_CONFIG_KEYS}
# `tree:<40 hex>` shown as `tree:<12 hex>`, as the commit column shows commits.
_SHORT_CODE = re.compile(r"\b(tree|commit):([0-9a-f]{12})[0-9a-f]+")


def add_filters(parser: Any) -> None:
    """``--where`` and ``--status``, as ``naga plot`` and ``naga report`` take them."""
    parser.add_argument(
        "--where",
        metavar="EXPR",
        action="append",
        default=[],
        help="only runs where KEY=VALUE (or !=, <, <=, >, >=); repeatable, as in naga ls",
    )
    parser.add_argument("--status", choices=RUN, action="append", help="only runs with this status")


def newest_first(rows: Sequence[Row]) -> list[Row]:
    """Newest first by finish (or start) time; runs without any time go last, by path."""
    oldest = datetime.min.replace(tzinfo=timezone.utc)

    def key(row: Row) -> tuple[datetime, str]:
        when = parse_time(row.get("finished_at")) or parse_time(row.get("started_at"))
        if when is not None and when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return (when or oldest, str(row.get("run")))

    return sorted(rows, key=key, reverse=True)


def blocks(rows: Sequence[Row]) -> list[tuple[str, list[Row], list[str]]]:
    """One ``(script, rows, columns)`` block per script, the block of the newest run first.

    A block's columns are run, status, finish time, duration, a study's trial number,
    ``code`` when its runs ran different code, the config keys whose values differ within
    the block (``save_dir`` never), and every metric its runs recorded.
    """
    by_script: dict[str, list[Row]] = {}
    for row in rows:
        by_script.setdefault(str(row.get("script") or "(no script)"), []).append(row)
    out = []
    for script, members in by_script.items():
        keys: dict[str, None] = {}
        for row in members:
            keys.update(dict.fromkeys(row))
        config = [k for k in keys if k.startswith("config.") and k not in _VOLATILE]
        differing = [k for k in config if _varies(members, k)] if len(members) > 1 else []
        metrics = [k for k in keys if k.startswith("metrics.")]
        # The trials of a study (hydra/sweeper=naga_optuna) show their numbers.
        trial = ["trial"] if any(row.get("trial") is not None for row in members) else []
        # Runs of one script that ran different code: say so, as for a differing config key.
        code = ["code"] if len(members) > 1 and _varies(members, "code") else []
        head = [c for c, _ in BLOCK_HEAD]
        out.append((script, members, head + trial + code + differing + metrics))
    return out


def _varies(rows: Sequence[Row], key: str) -> bool:
    first = _canon(rows[0].get(key, _ABSENT))
    return any(_canon(row.get(key, _ABSENT)) != first for row in rows[1:])


_ABSENT = object()


def _canon(value: Any) -> str:
    if value is _ABSENT:
        return "\0absent"
    return json.dumps(value, sort_keys=True, default=str)


def headers(columns: Sequence[str], *, block: bool = False) -> list[str]:
    """Short headers for people: ``config.``/``metrics.`` dropped where no two collide.

    With ``block``, the first columns are those of a per-script block (RUN, STATUS, ...).
    """
    short = [short_column(column) for column in columns]
    counts = Counter(short)
    out = [
        name if counts[name] == 1 and (name == column or name not in columns) else column
        for column, name in zip(columns, short, strict=True)
    ]
    if block:
        out[: len(BLOCK_HEAD)] = [head for _, head in BLOCK_HEAD]
    return out


def formatter(column: str) -> Callable[[Any], str]:
    """How to show the (non-null) values of one column (chosen once per column)."""
    if column in ("finished_at", "started_at"):
        return _short_time
    if column == "duration_s":
        return r.duration
    if column in ("commit", "run_id"):
        return lambda value: str(value)[:12]
    if column == "code":
        return lambda value: _SHORT_CODE.sub(r"\1:\2", str(value))
    return _number_or_value


def _number_or_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, str):
        return value
    return render(value)


def _short_time(value: Any) -> str:
    text = str(value)
    if len(text) >= 16 and text.endswith("+00:00") and text[10] == "T":
        return f"{text[:10]} {text[11:16]}"  # naga writes UTC: no need to parse
    return r.short_time(parse_time(value))


def cells(columns: Sequence[str], rows: Sequence[Row]) -> list[list[str]]:
    """The shown text of every cell, row by row."""
    shown = [formatter(c) for c in columns]
    return [
        [
            "-" if (v := row.get(c)) is None else show(v)
            for c, show in zip(columns, shown, strict=True)
        ]
        for row in rows
    ]


def table(columns: Sequence[str], rows: Sequence[Row], *, heads: Sequence[str]) -> str:
    """Aligned plain-text columns."""
    return r.table(list(heads), cells(columns, rows))


def markdown(columns: Sequence[str], rows: Sequence[Row], *, heads: Sequence[str]) -> str:
    """A GitHub-flavoured Markdown table; columns of numbers are right-aligned."""

    def esc(text: str) -> str:
        return text.replace("|", "\\|")

    numeric = [
        any(is_number(row.get(c)) for row in rows)
        and all(row.get(c) is None or is_number(row.get(c)) for row in rows)
        for c in columns
    ]
    lines = [
        "| " + " | ".join(esc(h) for h in heads) + " |",
        "|" + "|".join("---:" if n else "---" for n in numeric) + "|",
    ]
    lines += ["| " + " | ".join(esc(text) for text in line) + " |" for line in cells(columns, rows)]
    return "\n".join(lines)


def to_csv(columns: Sequence[str], rows: Sequence[Row]) -> str:
    """CSV with full column names; empty for a missing value, floats exact (``repr``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_value(row.get(c)) for c in columns])
    return buffer.getvalue().rstrip("\n")


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return render(value)


def to_json(columns: Sequence[str], rows: Sequence[Row]) -> str:
    """A JSON array of objects, one per line; nan/inf as the strings NaN/Infinity/-Infinity."""
    if not rows:
        return "[]"
    lines = [
        json.dumps({c: _json_value(row.get(c)) for c in columns}, ensure_ascii=False, default=str)
        for row in rows
    ]
    return "[\n" + ",\n".join(lines) + "\n]"


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        # Strict JSON has no nan/inf; these strings are what JavaScript's Number() reads.
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value
