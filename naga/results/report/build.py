"""From run directories to the report's document: the one JSON object the page renders.

The rows are the runs table of ``naga ls`` and :func:`naga.runs` (every column it has,
so new columns appear in the report without a change here); :mod:`.groups` groups them,
:mod:`.charts` chooses the charts, :mod:`.cards` reads what a row does not hold.
"""

from __future__ import annotations

import math
import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from naga.errors import UsageError
from naga.lock.status import BAD
from naga.results.frame import rows_below, select
from naga.results.query import columns_of, is_number, render, resolve, spellings
from naga.results.report import charts, groups
from naga.results.report.cards import Cards

__all__ = ["Options", "build"]

Row = dict[str, Any]


@dataclass(frozen=True)
class Options:
    """What the command line chose (keys as the user typed them)."""

    where: Sequence[str] = ()
    status: Sequence[str] | None = None
    group_by: Sequence[str] | None = None
    seed_keys: Sequence[str] | None = None
    x: Sequence[str] = ()
    y: Sequence[str] = ()
    hue: str | None = None
    minimize: Sequence[str] = ()
    maximize: Sequence[str] = ()
    objective: str | None = None
    title: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def build(roots: Sequence[str], options: Options) -> dict[str, Any]:
    """The report's document for the runs below ``roots``.

    Raises:
        UsageError: No run.lock below ``roots``, none left after ``--where``/``--status``,
            or a key that names no column (with the closest names).
        LockError: A root does not exist.
    """
    reader = Cards()  # a receipt parsed for its row gives its card on the way
    rows, problems = rows_below(list(roots), relative_to_root=False, reader=reader.row)
    shown = ", ".join(roots)
    if not rows:
        raise UsageError(
            f"no run.lock below {shown}"
            + (f" ({len(problems)} unreadable)" if problems else "")
            + "; pass the directories that hold your runs (naga ls lists them)"
        )
    rows = select(rows, where=list(options.where), status=options.status)
    if not rows:
        raise UsageError(
            f"no run below {shown} matches --where/--status; loosen them (naga ls shows the runs)"
        )
    columns = columns_of(rows)

    def key(option: str, name: str) -> str:
        return resolve(name, columns, option=option)

    metrics = [c for c in columns if c.startswith("metrics.")]
    direction = groups.directions(
        metrics,
        minimize=[key("--minimize", m) for m in options.minimize],
        maximize=[key("--maximize", m) for m in options.maximize],
    )
    seeds = (
        [key("--seed-keys", k) for k in options.seed_keys]
        if options.seed_keys is not None
        else groups.seed_like(columns)
    )
    by = (
        [key("--group-by", k) for k in options.group_by]
        if options.group_by
        else groups.default_group_by(rows, columns, seeds)
    )
    xs = [key("--x", k) for k in options.x]
    ys = [key("--y", k) for k in options.y]
    hue = key("--hue", options.hue) if options.hue else None
    objective = key("--objective", options.objective) if options.objective else None
    if objective is None and "metrics.value" in columns:
        objective = "metrics.value"

    run_cards = reader.read([str(row["run"]) for row in rows], [row.get("run_id") for row in rows])
    # The same identity as `naga ls`'s code column: the git tree that ran (docs/commands.md).
    codes = [row.get("code") for row in rows]
    table = groups.grouped(rows, by, direction=direction, codes=codes)
    plots = _plots(rows, xs=xs, ys=ys, hue=hue, by=by, metrics=metrics)
    # Parallel axes: every config key except seeds and save_dir (each chart keeps the keys
    # that vary among its runs).
    config_keys = [
        c
        for c in columns
        if c.startswith("config.") and c not in seeds and c not in groups.VOLATILE
    ]
    short = dict(zip(columns, spellings(columns), strict=True))
    # Cards hold no floats: only the numeric parts go through _finite (a walk of 10,000
    # cards would cost more than everything else).
    return {
        "meta": {
            **options.meta,
            "title": options.title or f"naga report: {shown}",
            "roots": [os.path.abspath(r) for r in roots],  # noqa: PTH100
            "where": list(options.where),
            "status": list(options.status or []),
        },
        "columns": columns,
        "short": [short[c] for c in columns],
        # JSON has one kind of number: the page needs to know which columns hold floats to
        # write 2000000.0 as naga ls does (2e+06).
        "floats": [_holds_floats(rows, c) for c in columns],
        "runs": [[_cell(row.get(c)) for c in columns] for row in rows],
        "cards": run_cards,
        "codes": codes,
        "summary": _summary(rows, codes, table, by, problems),
        "groups": {
            "by": by,
            "seed_keys": seeds,
            "metrics": metrics,
            "directions": direction,
            "rows": _finite(table),
            "ls": _ls_command(roots, options, [short[c] for c in by]),
        },
        "plots": _finite(plots),
        "parallel": charts.parallel(rows, keys=config_keys, metrics=metrics),
        "trials": _finite(
            charts.trials(rows, objective=objective, goal=direction.get(objective, "min"))
            if objective
            else []
        ),
    }


def _plots(
    rows: list[Row],
    *,
    xs: list[str],
    ys: list[str],
    hue: str | None,
    by: list[str],
    metrics: list[str],
) -> list[dict[str, Any]]:
    if xs or ys:
        chosen_x = xs or [c for c in by if c != "script"][: charts.MAX_X]
        chosen_y = ys or metrics[: charts.MAX_Y]
        pairs = [(x, y, hue) for x in chosen_x for y in chosen_y]
    else:
        pairs = charts.default_plots(rows, by=by, metrics=metrics)
        if hue is not None:
            pairs = [(x, y, None if hue == x else hue) for x, y, _ in pairs]
    out = []
    for x, y, line_hue in pairs:
        document = charts.plot_document(rows, x=x, y=y, hue=line_hue)
        if document is not None:
            out.append(document)
    return out


def _summary(
    rows: list[Row],
    codes: list[str | None],
    table: list[dict[str, Any]],
    by: list[str],
    problems: list[str],
) -> dict[str, Any]:
    sweeps: dict[str, dict[str, Any]] = {}
    for index, row in enumerate(rows):
        name = str(row.get("sweep") or "")
        study = sweeps.setdefault(
            name,
            {"sweep": row.get("sweep"), "scripts": Counter(), "statuses": Counter(), "runs": 0},
        )
        study["runs"] += 1
        study["scripts"][str(row.get("script"))] += 1
        study["statuses"][str(row.get("status"))] += 1
        study.setdefault("first", index)
    started = sorted(str(r["started_at"]) for r in rows if r.get("started_at"))
    finished = sorted(str(r["finished_at"]) for r in rows if r.get("finished_at"))
    warnings = []
    for group in table:
        for warning in group["warnings"]:
            label = ", ".join(
                f"{column.split('.', 1)[-1]}={render(value)}"
                for column, value in zip(by, group["values"], strict=True)
            )
            warnings.append(f"group {label}: {warning}")
    return {
        "runs": len(rows),
        "statuses": dict(Counter(str(r.get("status")) for r in rows)),
        "studies": [
            {**s, "scripts": dict(s["scripts"]), "statuses": dict(s["statuses"])}
            for s in sweeps.values()
        ],
        "first_start": started[0] if started else None,
        "last_finish": finished[-1] if finished else None,
        "codes": Counter(c or "unknown" for c in codes).most_common(),
        "warnings": warnings,
        "problems": problems,
        "failed": [i for i, r in enumerate(rows) if r.get("status") in BAD],
    }


def _ls_command(roots: Sequence[str], options: Options, by: list[str]) -> list[str]:
    """The ``naga ls`` command whose numbers the grouped table shows."""
    argv = ["naga", "ls", *roots, "--group-by", ",".join(by)]
    for expression in options.where:
        argv += ["--where", expression]
    for status in options.status or []:
        argv += ["--status", status]
    return argv


def _holds_floats(rows: list[Row], column: str) -> bool:
    """Whether every number of ``column`` is a float."""
    numbers = [row[column] for row in rows if is_number(row.get(column))]
    return bool(numbers) and all(isinstance(n, float) for n in numbers)


def _cell(value: Any) -> Any:
    """A table cell: scalars as they are, lists and mappings as the text naga ls shows."""
    if isinstance(value, float):
        return value if math.isfinite(value) else _finite(value)
    if value is None or isinstance(value, (str, bool, int)):
        return value
    return render(value)


def _finite(node: Any) -> Any:
    """Strict JSON has no nan/inf: they become ``{"nonfinite": "NaN"}`` (read back by the page)."""
    if isinstance(node, float) and not math.isfinite(node):
        return {
            "nonfinite": "NaN" if math.isnan(node) else ("Infinity" if node > 0 else "-Infinity")
        }
    if isinstance(node, dict):
        return {k: _finite(v) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return [_finite(v) for v in node]
    return node


def built_at() -> str:
    """Now, in UTC, as the page states it."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
