"""What the report's charts show (docs/report.md); the page draws them with Plotly.

Metric against setting (the documents of ``naga plot --json``, the same numbers), parallel
coordinates per script, and the objective by trial of a sweep.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from naga.results.plot import series
from naga.results.query import is_number, render

__all__ = ["default_plots", "parallel", "plot_document", "trials"]

Row = dict[str, Any]
#: More charts than this per kind hide what matters; the flags choose others.
MAX_X, MAX_Y = 3, 4
MAX_DIMENSIONS = 14
_MAX_HUE_VALUES = 8


def plot_document(rows: Sequence[Row], *, x: str, y: str, hue: str | None) -> dict[str, Any] | None:
    """The ``naga plot --json`` document of ``y`` against ``x`` (``None``: nothing to draw)."""
    lines, left_out = series(rows, x=x, y=y, hue=hue)
    if not lines:
        return None
    return {
        "x": x,
        "y": y,
        "hue": hue,
        "band": "minmax",
        "runs": len(rows) - left_out,
        "left_out": left_out,
        "series": [line.as_json() for line in lines],
        "logx": _log_scale(lines),
    }


def default_plots(
    rows: Sequence[Row], *, by: Sequence[str], metrics: Sequence[str]
) -> list[tuple[str, str, str | None]]:
    """``(x, y, hue)`` of the default charts: each group key with several values against
    each metric; the hue is the one other group key, when there is exactly one."""
    xs = [c for c in by if c != "script" and len(_distinct(rows, c)) > 1][:MAX_X]
    out = []
    for x in xs:
        others = [c for c in xs if c != x and len(_distinct(rows, c)) <= _MAX_HUE_VALUES]
        hue = others[0] if len(xs) == 2 and others else None
        out += [(x, y, hue) for y in metrics[:MAX_Y]]
    return out


def parallel(
    rows: Sequence[Row], *, keys: Sequence[str], metrics: Sequence[str]
) -> list[dict[str, Any]]:
    """Per script with several runs: the runs (indices) and the axes (columns) to draw."""
    scripts: dict[Any, list[int]] = {}
    for index, row in enumerate(rows):
        scripts.setdefault(row.get("script"), []).append(index)
    out = []
    for script, members in scripts.items():
        if len(members) < 2:
            continue
        mine = [rows[i] for i in members]
        axes = [k for k in keys if len(_distinct(mine, k)) > 1]
        axes += [m for m in metrics if any(is_number(r.get(m)) for r in mine)]
        if len(axes) >= 2:
            out.append({"script": script, "members": members, "axes": axes[:MAX_DIMENSIONS]})
    return out


def trials(rows: Sequence[Row], *, objective: str, goal: str) -> list[dict[str, Any]]:
    """Per sweep whose runs record ``objective``: the trials in start order, best so far."""
    sweeps: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        value: Any = row.get(objective)
        if row.get("sweep") and is_number(value) and math.isfinite(value):
            sweeps.setdefault(str(row["sweep"]), []).append(index)
    out = []
    for sweep, members in sweeps.items():
        if len(members) < 2:
            continue
        members.sort(key=lambda i: (str(rows[i].get("started_at") or ""), i))
        values = [float(rows[i][objective]) for i in members]
        best: list[float] = []
        for value in values:
            best.append(value if not best else (min if goal == "min" else max)(best[-1], value))
        out.append(
            {
                "sweep": sweep,
                "objective": objective,
                "goal": goal,
                "members": members,
                "values": values,
                "best": best,
            }
        )
    return out


def _distinct(rows: Sequence[Mapping[str, Any]], column: str) -> set[str]:
    return {render(row.get(column)) for row in rows if row.get(column) is not None}


def _log_scale(lines: Sequence[Any]) -> bool:
    """A log x axis for positive numbers spanning a decade or more (learning rates)."""
    xs = [v for line in lines for v in line.x]
    if not xs or not all(is_number(v) and v > 0 for v in xs):
        return False
    return max(xs) / min(xs) >= 10
