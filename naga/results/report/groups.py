"""The grouped table of a report: which keys group runs, and each group's numbers.

By default every config key that differs between runs, except seed-like keys (the last
dotted part contains ``seed``) and ``save_dir``; ``--group-by`` and ``--seed-keys`` replace
the rule. The numbers are ``naga ls --group-by``'s (:func:`naga.results.query.group_rows`)
plus the 95% interval and the best run.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from naga.results.locks import VOLATILE_CONFIG_KEYS
from naga.results.query import group_key, group_rows, is_number
from naga.results.report.stats import ci95_half_width

__all__ = [
    "MINIMIZED",
    "VOLATILE",
    "Grouping",
    "default_group_by",
    "directions",
    "grouped",
    "seed_like",
    "varying",
]

Row = dict[str, Any]
#: Words of a metric name (split at ``.``, ``_``, ``-``, ``/``) that make it "lower is
#: better" unless --maximize says otherwise; any other metric is "higher is better"
#: (accuracy, f1, auc, reward, ...). ``value`` is Optuna's name for an objective, minimized
#: by default there too.
MINIMIZED = frozenset({
    "loss", "err", "error", "errors", "mse", "mae", "rmse", "nll", "perplexity", "ppl",
    "regret", "cost", "time", "seconds", "latency", "wer", "cer", "distance", "divergence",
    "value",
})  # fmt: skip
_WORDS = re.compile(r"[^0-9a-z]+")
VOLATILE = {f"config.{key}" for key in VOLATILE_CONFIG_KEYS}


@dataclass(frozen=True)
class Grouping:
    """How the runs were grouped, for the page and for the equivalent ``naga ls``."""

    by: list[str]
    seed_keys: list[str]
    metrics: list[str]
    directions: dict[str, str]


def seed_like(columns: Sequence[str]) -> list[str]:
    """The config columns whose last dotted part contains ``seed`` (case-insensitive)."""
    return [
        c for c in columns if c.startswith("config.") and "seed" in c.rsplit(".", 1)[-1].lower()
    ]


def varying(rows: Sequence[Mapping[str, Any]], column: str) -> bool:
    """Whether two of ``rows`` differ in ``column`` (a missing value counts as a value)."""
    first = None
    for i, row in enumerate(rows):
        canon = group_key(row, [column]) if column in row else "\0absent"
        if i == 0:
            first = canon
        elif canon != first:
            return True
    return False


def default_group_by(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str], seed_keys: Sequence[str]
) -> list[str]:
    """The documented default grouping (see the module docstring).

    A config key counts when it varies among the runs of one script: a key only another
    stage has (``data_dir`` of an evaluation) does not split anything worth comparing.
    """
    skip = set(seed_keys) | VOLATILE
    scripts: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        scripts.setdefault(str(row.get("script")), []).append(row)
    by = [
        c
        for c in columns
        if c.startswith("config.")
        and c not in skip
        and any(varying([r for r in members if c in r], c) for members in scripts.values())
    ]
    if len(scripts) > 1 or not by:
        by.insert(0, "script")
    return by


def directions(
    metrics: Sequence[str], *, minimize: Sequence[str], maximize: Sequence[str]
) -> dict[str, str]:
    """``"min"`` or ``"max"`` per metric column: the flags first, then the name rule."""
    out = {}
    for metric in metrics:
        if metric in minimize:
            out[metric] = "min"
        elif metric in maximize:
            out[metric] = "max"
        else:
            words = _WORDS.split(metric.split(".", 1)[1].lower())
            out[metric] = "min" if MINIMIZED.intersection(words) else "max"
    return out


def grouped(
    rows: Sequence[Row],
    by: Sequence[str],
    *,
    direction: Mapping[str, str],
    codes: Sequence[str | None],
) -> list[dict[str, Any]]:
    """One entry per group, in ``naga ls --group-by`` order.

    Each entry: ``values`` (of the ``by`` columns), ``runs``, ``members`` (indices into
    ``rows``), ``stats`` (per metric: count, mean, std, ci95 half-width, min, max, index of
    the best run or ``None``) and ``warnings`` (the group's runs differ in code or data).

    Args:
        direction: ``min``/``max`` per metric column.
        codes: The code identity of each run (`naga ls`'s code column: the git tree).
    """
    members: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        members.setdefault(group_key(row, by), []).append(index)
    out = []
    for group in group_rows(rows, by):
        indices = members[group_key(group, by)]
        stats = {}
        for metric, goal in direction.items():
            count = group[f"{metric}.count"]
            std = group[f"{metric}.std"]
            stats[metric] = [
                count,
                group[f"{metric}.mean"],
                std,
                ci95_half_width(count, std),
                group[f"{metric}.min"],
                group[f"{metric}.max"],
                _best(rows, indices, metric, goal),
            ]
        out.append(
            {
                "values": [group[c] for c in by],
                "runs": group["runs"],
                "members": indices,
                "stats": stats,
                "warnings": _differences(rows, indices, codes),
            }
        )
    return out


def _best(rows: Sequence[Row], indices: Sequence[int], metric: str, goal: str) -> int | None:
    scored = [
        (rows[i][metric], i)
        for i in indices
        if is_number(rows[i].get(metric)) and math.isfinite(rows[i][metric])
    ]
    if not scored:
        return None
    return (min(scored) if goal == "min" else max(scored, key=lambda s: (s[0], -s[1])))[1]


def _differences(
    rows: Sequence[Row], indices: Sequence[int], codes: Sequence[str | None]
) -> list[str]:
    """What differs between the runs of one group that should not: code, data."""
    if len(indices) < 2:
        return []
    warnings = []
    versions = {codes[i] for i in indices}
    if len(versions) > 1:
        warnings.append(f"code differs: {len(versions)} versions")
    data_columns = sorted({k for i in indices for k in rows[i] if k.startswith("data.")})
    differing = [c for c in data_columns if len({json.dumps(rows[i].get(c)) for i in indices}) > 1]
    if differing:
        names = ", ".join(c.split(".", 1)[1] for c in differing)
        warnings.append(f"data differs: {names}")
    return warnings
