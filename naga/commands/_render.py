"""Plain-text rendering shared by the ``naga`` subcommands: values, times, tables, trees.

Output is meant for terminals and for pasting into notes or issues, so it is plain text:
no colours, no box-drawing beyond the tree connectors, stable column order.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from naga.results.locks import parse_time
from naga.results.query import render


def value(obj: Any) -> str:
    """Render a config or lock value alone: :func:`naga.results.query.render`, quoted."""
    return render(obj, quote=True)


def duration(seconds: Any) -> str:
    """Render a duration in seconds as ``0.42s``, ``12.3s``, ``4m05s`` or ``2h03m``."""
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
        return "-"
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def timestamp(raw: Any) -> str:
    """Render a recorded ISO timestamp as ``2026-11-21 06:30:00 UTC`` (``-`` when absent)."""
    when = parse_time(raw)
    if when is None:
        return "-" if raw is None else str(raw)
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc)
        return when.strftime("%Y-%m-%d %H:%M:%S UTC")
    return when.strftime("%Y-%m-%d %H:%M:%S")


def short_time(when: datetime | None) -> str:
    """A table-friendly ``2026-11-21 06:30`` in UTC."""
    if when is None:
        return "-"
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc)
    return when.strftime("%Y-%m-%d %H:%M")


def short_id(raw: Any, n: int = 8) -> str:
    """The first ``n`` characters of a commit, tree or run id (``-`` when absent)."""
    return str(raw)[:n] if raw else "-"


def short_hash(raw: Any) -> str:
    """``blake3:8bf7a1c2d3e4`` from a full ``blake3:<64 hex>`` hash."""
    if not raw:
        return "-"
    text = str(raw)
    algo, sep, digest = text.partition(":")
    return f"{algo}:{digest[:12]}" if sep else text[:12]


def size(n: Any) -> str:
    """Human-readable byte count (``9 B``, ``1.2 KiB``)."""
    if not isinstance(n, int):
        return "-"
    amount = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if amount < 1024 or unit == "GiB":
            return f"{n} B" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{n} B"  # pragma: no cover - loop always returns


def command_line(command: Any) -> str:
    """Render a recorded argv as a shell-quoted command line."""
    if isinstance(command, list):
        return shlex.join(str(part) for part in command)
    return "-" if command is None else str(command)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces; the last column is not padded."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    lines = []
    for row in [list(headers), *rows]:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def key_values(pairs: Sequence[tuple[str, str]], indent: str = "") -> list[str]:
    """Aligned ``key  value`` lines."""
    width = max((len(k) for k, _ in pairs), default=0)
    return [f"{indent}{k.ljust(width)}  {v}".rstrip() for k, v in pairs]
