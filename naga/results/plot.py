"""A metric against a config key across runs: the series of ``naga plot`` and their figure.

:func:`series` groups runs by the x value (and the hue value): when several runs share
an x (seeds), the point is their mean, with min/max and the sample standard deviation for
the band. It is plain Python, so ``naga plot --json`` and the tests need no matplotlib;
:func:`draw` imports matplotlib (the Agg backend, no display) only when a file is written.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from naga.errors import DependencyError, UsageError
from naga.results.query import aggregate, is_number, render, short_column, sort_key

__all__ = ["BANDS", "FILE_TYPES", "Series", "draw", "series"]

BANDS = ("minmax", "std", "none")
FILE_TYPES = (".png", ".svg", ".pdf")
_MAX_TICKS = 12


@dataclass
class Series:
    """One line: the points of runs sharing a hue value, one point per x value.

    Lists are parallel: ``x[i]`` has the mean ``mean[i]`` of ``n[i]`` runs.
    """

    hue: Any
    x: list[Any] = field(default_factory=list)
    mean: list[float] = field(default_factory=list)
    min: list[float] = field(default_factory=list)
    max: list[float] = field(default_factory=list)
    std: list[float | None] = field(default_factory=list)
    n: list[int] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "hue": self.hue,
            "x": self.x,
            "mean": self.mean,
            "min": self.min,
            "max": self.max,
            "std": self.std,
            "n": self.n,
        }


def series(
    rows: Sequence[Mapping[str, Any]], *, x: str, y: str, hue: str | None = None
) -> tuple[list[Series], int]:
    """The lines to plot, and how many runs were left out (no x, or no finite y).

    Args:
        x: The column on the x axis (numbers, or text shown as categories).
        y: The column on the y axis; must hold numbers.
        hue: A column with one line per distinct value, or ``None`` for one line.

    Raises:
        UsageError: ``y`` holds something that is not a number.
    """
    for row in rows:
        value = row.get(y)
        if value is not None and not is_number(value):
            raise UsageError(
                f"--y {y}: run {row.get('run')} has {render(value)!r}, which is not a number; "
                "plot a metric or config key that holds numbers"
            )
    lines: dict[str, tuple[Any, dict[str, tuple[Any, list[float]]]]] = {}
    left_out = 0
    for row in rows:
        xv, yv = row.get(x), row.get(y)
        if xv is None or yv is None or not math.isfinite(yv):
            left_out += 1
            continue
        hv = row.get(hue) if hue else None
        points = lines.setdefault(render(hv), (hv, {}))[1]
        points.setdefault(_key(xv), (xv, []))[1].append(float(yv))
    out = []
    for hv, points in sorted(lines.values(), key=lambda item: _order(item[0])):
        line = Series(hue=hv)
        for xv, ys in sorted(points.values(), key=lambda item: sort_key(item[0])):
            n, mean, std, low, high = aggregate(ys)
            assert mean is not None and low is not None and high is not None  # ys has values
            line.x.append(xv)
            line.mean.append(mean)
            line.min.append(low)
            line.max.append(high)
            line.std.append(std)
            line.n.append(n)
        out.append(line)
    return out, left_out


def _key(value: Any) -> str:
    return repr(float(value)) if is_number(value) else render(value)


def _order(value: Any) -> tuple[int, Any]:
    return (3, "") if value is None else sort_key(value)


def draw(
    lines: Sequence[Series],
    path: str | os.PathLike[str],
    *,
    x: str,
    y: str,
    hue: str | None = None,
    band: str = "minmax",
    logx: bool = False,
    logy: bool = False,
) -> None:
    """Write the figure of ``lines`` to ``path`` (.png, .svg or .pdf).

    Raises:
        DependencyError: matplotlib is not installed.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import NullLocator
    except ImportError as exc:
        raise DependencyError(
            "naga plot needs matplotlib, which is not installed; install it with "
            "pip install 'naga[results]'"
        ) from exc
    # A Figure of its own with the Agg canvas: no pyplot, no global backend, no display.
    figure = Figure(figsize=(6.4, 4.0), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    categories = _categories(lines)
    for line in lines:
        xs = [categories[_key(v)] for v in line.x] if categories else line.x
        label = f"{short_column(hue)}={render(line.hue)}" if hue else None
        (drawn,) = axes.plot(xs, line.mean, marker="o", label=label)
        if band == "minmax":
            axes.fill_between(xs, line.min, line.max, alpha=0.2, color=drawn.get_color())
        elif band == "std":
            spread = [s or 0.0 for s in line.std]
            low = [m - s for m, s in zip(line.mean, spread, strict=True)]
            high = [m + s for m, s in zip(line.mean, spread, strict=True)]
            axes.fill_between(xs, low, high, alpha=0.2, color=drawn.get_color())
    if logx and not categories:
        axes.set_xscale("log")
    if logy:
        axes.set_yscale("log")
    values = _labels(lines)
    if categories or len(values) <= _MAX_TICKS:
        # A sweep has a handful of x values: tick exactly those, written as in the config.
        axes.set_xticks(
            list(categories.values()) if categories else values, [render(v) for v in values]
        )
        axes.xaxis.set_minor_locator(NullLocator())
    shown = {"minmax": "mean, band min–max", "std": "mean, band ±1 std", "none": "mean"}[band]
    axes.set_xlabel(short_column(x))
    axes.set_ylabel(f"{short_column(y)} ({shown})")
    axes.grid(alpha=0.3)
    if hue:
        axes.legend(title=None, fontsize="small")
    figure.savefig(os.fspath(path), dpi=100)


def _labels(lines: Sequence[Series]) -> list[Any]:
    values: dict[str, Any] = {}
    for line in lines:
        for value in line.x:
            values.setdefault(_key(value), value)
    return sorted(values.values(), key=sort_key)


def _categories(lines: Sequence[Series]) -> dict[str, int]:
    """Positions of text x values (empty when every x is a number)."""
    if all(is_number(v) for line in lines for v in line.x):
        return {}
    return {_key(value): i for i, value in enumerate(_labels(lines))}
