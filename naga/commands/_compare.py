"""Comparing what two receipts hold: config keys and metrics, for ``naga diff`` and ``rerun``.

Both commands print a changed value as ``key: old → new`` and agree on when two values are
the same: config values by their JSON form (``1`` and ``1.0`` differ, as in the YAML), and
metrics as numbers (``1`` and ``1.0`` are one number; ``nan`` equals ``nan``, since a run
that gave nan and a rerun that gave nan reproduce each other). Metric values are shown in
full (``repr``): a difference in the 17th digit must be visible when it is the verdict.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from naga.commands import _render as r

ABSENT = "(absent)"


def canon(value: Any) -> str:
    """A value's JSON text (keys sorted): the form config values are compared in."""
    return json.dumps(value, sort_keys=True, default=str)


def mapping_lines(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """``key: old → new`` for every key whose value differs (``(absent)`` on one side)."""
    lines = []
    for key in [*old, *(k for k in new if k not in old)]:
        if key not in new:
            lines.append(f"{key}: {r.value(old[key])} → {ABSENT}")
        elif key not in old:
            lines.append(f"{key}: {ABSENT} → {r.value(new[key])}")
        elif canon(old[key]) != canon(new[key]):
            lines.append(f"{key}: {r.value(old[key])} → {r.value(new[key])}")
    return lines


@dataclass(frozen=True)
class Tolerance:
    """How far a rerun's metric may be from the original's and still count as reproduced.

    ``a`` and ``b`` are close when ``|a - b| <= max(rtol * max(|a|, |b|), atol)``
    (:func:`math.isclose`: symmetric, so it does not matter which run is the reference).
    Both zero: only identical values count.
    """

    rtol: float = 0.0
    atol: float = 0.0

    def __bool__(self) -> bool:
        return bool(self.rtol or self.atol)

    def label(self) -> str:
        """``rtol=1e-06``, ``atol=0.001`` or both, as given."""
        parts = [f"rtol={self.rtol:g}"] if self.rtol else []
        parts += [f"atol={self.atol:g}"] if self.atol else []
        return ", ".join(parts)

    def close(self, a: float, b: float) -> bool:
        return math.isclose(a, b, rel_tol=self.rtol, abs_tol=self.atol)


IDENTICAL = "identical"
WITHIN = "within"
DIFFERENT = "different"
ONLY_OLD = "only in original"
ONLY_NEW = "only in rerun"


@dataclass(frozen=True)
class MetricRow:
    """One metric of two runs: ``status`` is identical, within, different or only in one."""

    name: str
    status: str
    old: Any = None
    new: Any = None

    @property
    def agrees(self) -> bool:
        """True when the metric counts as reproduced (identical, or within the tolerance)."""
        return self.status in (IDENTICAL, WITHIN)

    def values(self) -> str:
        """The value(s) as printed: ``0.125 → 0.342``, or the one value."""
        if self.status == ONLY_OLD:
            return metric_text(self.old)
        if self.status == ONLY_NEW:
            return metric_text(self.new)
        if self.status == IDENTICAL:
            return metric_text(self.old)
        return f"{metric_text(self.old)} → {metric_text(self.new)}"


def compare_metrics(
    old: Mapping[str, Any], new: Mapping[str, Any], tolerance: Tolerance | None = None
) -> list[MetricRow]:
    """Every metric of either run, in the first run's order, with how it compares."""
    tolerance = tolerance or Tolerance()
    rows = []
    for name in [*old, *(k for k in new if k not in old)]:
        if name not in new:
            rows.append(MetricRow(name, ONLY_OLD, old=old[name]))
        elif name not in old:
            rows.append(MetricRow(name, ONLY_NEW, new=new[name]))
        else:
            rows.append(
                MetricRow(name, _status(old[name], new[name], tolerance), old[name], new[name])
            )
    return rows


def _status(a: Any, b: Any, tolerance: Tolerance) -> str:
    if not (_is_number(a) and _is_number(b)):  # a hand-edited receipt: compare as text
        return IDENTICAL if canon(a) == canon(b) else DIFFERENT
    if a == b or (math.isnan(a) and math.isnan(b)):
        return IDENTICAL
    if tolerance and tolerance.close(a, b):
        return WITHIN
    return DIFFERENT


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def metric_text(value: Any) -> str:
    """A metric in full: ``repr`` of a float (``0.1`` or ``0.30000000000000004``)."""
    if isinstance(value, float):
        return repr(value)
    return r.value(value)


def metric_lines(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """``name: old → new`` for every metric that is not identical (``naga diff``)."""
    lines = []
    for row in compare_metrics(old, new):
        if row.status == DIFFERENT:
            lines.append(f"{row.name}: {row.values()}")
        elif row.status == ONLY_OLD:
            lines.append(f"{row.name}: {row.values()} → {ABSENT}")
        elif row.status == ONLY_NEW:
            lines.append(f"{row.name}: {ABSENT} → {row.values()}")
    return lines
