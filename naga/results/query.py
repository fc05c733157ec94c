"""Select, order and aggregate result rows: ``--where``, ``--sort``, ``--group-by``, ``--columns``.

Shared by ``naga ls``, ``naga plot`` and :func:`naga.runs` on plain rows, so the command
line never imports pandas. Comparisons follow pandas (docs/results.md has the rules): a run
without the column matches no ``=``/``<``/``>`` condition and every ``!=``; numbers compare
as numbers, text as text.
"""

from __future__ import annotations

import json
import math
import operator
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from naga.errors import UsageError, did_you_mean
from naga.lock.status import RUN
from naga.results._read import BASE_COLUMNS, PREFIXES

__all__ = [
    "AGGREGATES",
    "Condition",
    "aggregate",
    "columns_of",
    "filter_rows",
    "group_key",
    "group_rows",
    "is_number",
    "parse_where",
    "resolve",
    "sort_rows",
]

Row = dict[str, Any]
#: What ``--group-by`` computes for every metric, in column order.
AGGREGATES = ("count", "mean", "std", "min", "max")
_OPERATORS = ("==", "!=", "<=", ">=", "=", "<", ">")
_EXPRESSION = re.compile(r"^\s*([^\s!<>=]+)\s*(==|!=|<=|>=|=|<|>)\s*(.*?)\s*$")
# Shorthand prefixes, in the order an ambiguous key lists them.
_SHORTHAND = ("config.", "metrics.")


def is_number(value: Any) -> bool:
    """True for ints and floats (nan and inf included), never for bools."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def columns_of(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every column of ``rows``: the base columns, then config, metrics and data keys.

    Within each prefix, keys keep the order in which the rows first show them.
    """
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    prefixed = {prefix: [k for k in seen if k.startswith(prefix)] for prefix in PREFIXES}
    base = [c for c in BASE_COLUMNS if c in seen or c in ("run", "status")]
    other = [k for k in seen if k not in base and not k.startswith(("_", *PREFIXES))]
    return [*base, *other, *(k for prefix in PREFIXES for k in prefixed[prefix])]


def resolve(key: str, columns: Sequence[str], *, option: str) -> str:
    """The column a user's key names (``lr`` -> ``config.lr`` when unambiguous).

    Args:
        option: The option it came from, for the message (``--where``).

    Raises:
        UsageError: No column or several columns fit.
    """
    if key in columns:
        return key
    matches = [p + key for p in _SHORTHAND if p + key in columns]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise UsageError(
            f"{option}: '{key}' is ambiguous: it could be {' or '.join(matches)}; "
            "write the full column name"
        )
    names = spellings(columns)
    probe = next((key[len(p) :] for p in _SHORTHAND if key.startswith(p)), key)
    hint = did_you_mean(probe, names, what="columns")
    if "Did you mean" not in hint:
        # difflib misses a part of a longer name (mse for train_mse): offer the shortest.
        parts = sorted((n for n in names if probe.lower() in n.lower()), key=len)
        hint = f" Did you mean '{parts[0]}'?{hint}" if parts else hint
    raise UsageError(f"{option}: unknown column '{key}'.{hint}")


def spellings(columns: Sequence[str]) -> list[str]:
    """The names a user would type: the short form (``lr``) where unambiguous, else the column."""
    shorts: dict[str, list[str]] = {}
    for column in columns:
        for prefix in _SHORTHAND:
            if column.startswith(prefix):
                shorts.setdefault(column[len(prefix) :], []).append(column)
    names: list[str] = []
    for column in columns:
        short = next((column[len(p) :] for p in _SHORTHAND if column.startswith(p)), None)
        if short is not None and len(shorts[short]) == 1 and short not in columns:
            names.append(short)
        else:
            names.append(column)
    return names


#: The ordering operators of --where: numbers with numbers, text with text.
_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


@dataclass(frozen=True)
class Condition:
    """One ``--where`` expression: ``column op value``."""

    column: str
    op: str
    text: str
    value: Any

    def matches(self, row: Mapping[str, Any]) -> bool:
        cell = row.get(self.column)
        if self.value is None and self.op in ("=", "!="):  # KEY=null: the runs without it
            return (cell is None) == (self.op == "=")
        if self.op == "!=":
            return cell is None or not _equal(cell, self.value, self.text)
        if cell is None:
            return False
        if self.op == "=":
            return _equal(cell, self.value, self.text)
        comparable = (is_number(self.value) and is_number(cell)) or (
            isinstance(cell, str) and isinstance(self.value, str)
        )
        return comparable and bool(_ORDER[self.op](cell, self.value))


def parse_where(
    expressions: Iterable[str], columns: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> list[Condition]:
    """Parse ``--where`` expressions against the available columns.

    Raises:
        UsageError: An expression is malformed, names an unknown column, or orders a column
            of numbers by something that is not a number.
    """
    conditions = []
    for expression in expressions:
        match = _EXPRESSION.match(expression)
        if match is None or not match.group(3):
            raise UsageError(
                f"--where '{expression}': not an expression; write KEY=VALUE or use one of "
                f"{', '.join(o for o in _OPERATORS if o != '==')} (e.g. lr=0.1, loss<0.5, "
                "status!=failed; quote it in the shell: --where 'loss<0.5')"
            )
        key, op, text = match.groups()
        column = resolve(key, columns, option=f"--where '{expression}'")
        value = scalar(text)
        op = "=" if op == "==" else op
        cells = [row[column] for row in rows if row.get(column) is not None]
        _check_operator(expression, key, op, text, cells)
        if op in ("<", "<=", ">", ">=") and not is_number(value):
            numeric = [cell for cell in cells if is_number(cell)]
            if numeric:
                raise UsageError(
                    f"--where '{expression}': {column} holds numbers (e.g. {numeric[0]!r}) but "
                    f"'{text}' is not a number; compare it with a number"
                )
        if op in ("=", "!=") and value is not None:
            _check_equality(expression, column, text, value, cells)
        conditions.append(Condition(column, op, text, value))
    return conditions


#: Operators typed the other way round, or doubled, and the one meant.
_OPERATOR_TYPOS = {"=>": ">=", "=<": "<=", "=!": "!=", "<>": "!=", "!==": "!=", "===": "="}


def _check_operator(expression: str, key: str, op: str, text: str, cells: Sequence[Any]) -> None:
    """``lr=>0.1``: the value starts with an operator sign, so the operator is mistyped.

    A value that really starts with one (a text cell ``<none>``) is left alone.
    """
    if not text or text[0] not in "<>=!" or any(render(cell) == text for cell in cells):
        return
    typed = op + text[: len(text) - len(text.lstrip("<>=!"))]
    rest = text.lstrip("<>=!").strip()
    meant = _OPERATOR_TYPOS.get(typed)
    hint = f"did you mean {key}{meant}{rest}? " if meant else ""
    raise UsageError(
        f"--where '{expression}': '{typed}' is not an operator; {hint}use one of "
        f"{', '.join(o for o in _OPERATORS if o != '==')} (e.g. lr>=0.1)"
    )


def _check_equality(
    expression: str, column: str, text: str, value: Any, cells: Sequence[Any]
) -> None:
    """A value no cell of a typed column can equal: a word for numbers, an unknown status.

    Comparing it would silently select nothing (or everything, with ``!=``).
    """
    if column == "status":
        known = sorted({*RUN, *map(str, cells)})
        if text not in known:
            raise UsageError(
                f"--where '{expression}': '{text}' is not a run status."
                + did_you_mean(text, known, what="statuses")
            )
        return
    if not cells:
        return
    if all(is_number(cell) for cell in cells) and not is_number(value):
        kind, example = "numbers", cells[0]
    elif all(isinstance(cell, bool) for cell in cells) and not isinstance(value, bool):
        kind, example = "true/false", render(cells[0])
    else:
        return
    what = "true or false" if kind == "true/false" else "a number"
    raise UsageError(
        f"--where '{expression}': {column} holds {kind} (e.g. {example!r}) but '{text}' is "
        f"not {what}, so it can equal no run; compare it with {what}"
    )


def scalar(text: str) -> Any:
    """A value as typed on the command line: number, true/false, null, else the text."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("null", "none", "~"):
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _equal(cell: Any, value: Any, text: str) -> bool:
    if is_number(cell) and is_number(value):
        return bool(cell == value)
    if isinstance(cell, bool) or cell is None:
        return cell is value or (cell is None and value is None)
    if isinstance(cell, str):
        return cell == text
    return render(cell) == text


def render(value: Any, *, quote: bool = False) -> str:
    """A value as text, YAML-like (``0.1``, ``true``, ``null``, JSON for lists and mappings);
    with ``quote``, a string reading as another value (``""``, ``"true"``) is quoted."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        ambiguous = value.lower() in {"", "null", "true", "false", "~"} or value != value.strip()
        return json.dumps(value, ensure_ascii=False) if quote and ambiguous else value
    return json.dumps(value, ensure_ascii=False, default=str, separators=(", ", ": "))


def short_column(column: str) -> str:
    """``lr`` for ``config.lr``, ``loss`` for ``metrics.loss``: column names for people."""
    for prefix in ("config.", "metrics."):
        if column.startswith(prefix):
            return column[len(prefix) :]
    return column


def filter_rows(rows: Iterable[Row], conditions: Sequence[Condition]) -> list[Row]:
    """The rows matching every condition (conditions are ANDed)."""
    return [row for row in rows if all(c.matches(row) for c in conditions)]


def sort_key(value: Any) -> tuple[int, Any]:
    """An order over mixed values: numbers, then text, then anything else as text."""
    if is_number(value):
        return (0, value)
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, str):
        return (1, value)
    return (2, render(value))


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def sort_rows(rows: Sequence[Row], keys: Sequence[tuple[str, bool]]) -> list[Row]:
    """Sort by ``(column, descending)`` pairs, first pair first; missing values go last."""
    ordered = list(rows)
    for column, descending in reversed(keys):
        present = [row for row in ordered if not _missing(row.get(column))]
        absent = [row for row in ordered if _missing(row.get(column))]
        present.sort(key=lambda row: sort_key(row[column]), reverse=descending)
        ordered = present + absent
    return ordered


def parse_sort(text: str, columns: Sequence[str]) -> list[tuple[str, bool]]:
    """``--sort`` ``a,-b`` -> ``[(column a, False), (column b, True)]``."""
    keys = []
    for part in (p.strip() for p in text.split(",")):
        if not part or part == "-":
            raise UsageError(
                f"--sort '{text}': empty key; write KEY or -KEY (descending), e.g. --sort=-loss"
            )
        descending = part.startswith("-")
        name = part[1:] if descending else part
        keys.append((resolve(name, columns, option=f"--sort '{text}'"), descending))
    return keys


def group_rows(rows: Sequence[Row], by: Sequence[str]) -> list[Row]:
    """One row per distinct combination of the ``by`` columns, every metric aggregated.

    Each group row holds the ``by`` values, ``runs`` (how many runs), and per metric
    ``metrics.<name>.count`` (runs with a value that is not nan), ``.mean``, ``.std``
    (sample standard deviation, n-1), ``.min``, ``.max``; ``None`` where undefined (no
    value; the std of one value). Groups are sorted by their ``by`` values.
    """
    metrics = [c for c in columns_of(rows) if c.startswith("metrics.")]
    groups: dict[str, tuple[list[Any], list[Row]]] = {}
    for row in rows:
        values = [row.get(column) for column in by]
        groups.setdefault(group_key(row, by), (values, []))[1].append(row)
    out = []
    for values, members in groups.values():
        group: Row = dict(zip(by, values, strict=True))
        group["runs"] = len(members)
        for metric in metrics:
            numbers = [
                float(m[metric])
                for m in members
                if is_number(m.get(metric)) and not math.isnan(m[metric])
            ]
            group.update(
                (f"{metric}.{name}", value)
                for name, value in zip(AGGREGATES, aggregate(numbers), strict=True)
            )
        out.append(group)
    return sort_rows(out, [(column, False) for column in by])


def group_key(row: Mapping[str, Any], by: Sequence[str]) -> str:
    """The identity of ``row``'s group under :func:`group_rows` (equal keys: one group)."""
    return json.dumps([_group_value(row.get(column)) for column in by])


def _group_value(value: Any) -> Any:
    # 1 and 1.0 are one group (as in pandas); other values by their text.
    return float(value) if is_number(value) else render(value)


def aggregate(
    numbers: list[float],
) -> tuple[int, float | None, float | None, float | None, float | None]:
    """count, mean, std, min, max; ``None`` where undefined (no values; std of one value)."""
    n = len(numbers)
    if n == 0:
        return 0, None, None, None, None
    mean = _sum(numbers) / n
    return n, mean, (_std(numbers, mean) if n > 1 else None), min(numbers), max(numbers)


def _std(numbers: list[float], mean: float) -> float:
    """Sample standard deviation; deviations scaled first so squares neither under- nor
    overflow (1e-164 and 0 have a std of 7e-165, not 0)."""
    if not math.isfinite(mean):
        return math.nan  # inf - inf: as pandas says
    deviations = [x - mean for x in numbers]
    scale = max(abs(d) for d in deviations)
    if scale == 0 or not math.isfinite(scale):
        return scale
    return scale * math.sqrt(_sum([(d / scale) ** 2 for d in deviations]) / (len(numbers) - 1))


def _sum(numbers: list[float]) -> float:
    try:
        return math.fsum(numbers)  # exact: the mean of equal values is that value
    except OverflowError:  # values near the float limit: the plain sum gives inf
        return sum(numbers)
