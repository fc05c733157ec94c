"""``naga.runs()``: every run below a directory as a pandas DataFrame, one row per run.lock."""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from naga.errors import DependencyError, UsageError
from naga.lock.status import ASKS_QUEUE, RUN
from naga.results.index import Reader, collect, live_status
from naga.results.query import columns_of, filter_rows, is_number, parse_where

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ReceiptWarning", "rows_below", "runs"]


class ReceiptWarning(UserWarning):
    """A run.lock below the root could not be read and is left out of the table."""


def runs(
    root: str | os.PathLike[str] = ".",
    *,
    where: str | Sequence[str] | None = None,
    status: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Every run below ``root`` as a DataFrame: config, metrics, status, code and data.

    Columns: ``run`` (the run directory relative to ``root``), ``status`` (``lost`` for a
    run recorded as running whose process is gone), ``started_at`` and ``finished_at``
    (UTC datetimes), ``duration_s``, ``script``, ``commit`` and ``dirty`` (the script's
    repository), ``code`` (the code that ran: ``tree:<id>``, equal exactly when two runs
    ran the same git tree; docs/commands.md), ``sweep`` and ``sweep.job`` (the sweep id
    and the job's name), ``trial`` (a study's trial number), ``run_id``,
    then ``config.<dotted.key>`` for every config leaf, ``metrics.<name>`` for every metric
    and ``data.<key>`` for every data hash. Numbers stay numbers: a column of ints is
    ``int64`` (``Int64`` when some runs lack it), of numbers ``float64``, of bools ``bool``
    (``boolean``). Rows are in directory order.

    Receipts are read through naga's index (docs/results.md), so a second call on an
    unchanged directory parses nothing.

    Args:
        root: A directory to search (or one run.lock).
        where: Conditions, ANDed, as for ``naga ls --where``: ``"lr=0.1"``,
            ``["loss<0.5", "status!=failed"]``; ``lr`` means ``config.lr`` when unambiguous.
        status: Keep only runs with this status (or these statuses).

    Returns:
        The DataFrame (no rows, and only the base columns, when nothing was found).

    Raises:
        DependencyError: pandas is not installed.
        UsageError: A ``where`` expression is malformed or names an unknown column, or a
            status is not one of running, completed, failed, interrupted, requeued, lost.
        LockError: ``root`` does not exist.

    Warns:
        ReceiptWarning: For every run.lock that cannot be read (it is left out).
    """
    try:
        import pandas as pd
    except ImportError as exc:
        raise DependencyError(
            "naga.runs() needs pandas, which is not installed; install it with "
            "pip install 'naga[results]'"
        ) from exc
    rows, problems = rows_below([root], relative_to_root=True)
    for problem in problems:
        warnings.warn(problem, ReceiptWarning, stacklevel=2)
    rows = select(rows, where=where, status=status)
    columns = columns_of(rows)
    data = {column: _column([row.get(column) for row in rows], column, pd) for column in columns}
    return pd.DataFrame(data, columns=columns)


def rows_below(
    roots: Sequence[str | os.PathLike[str]],
    *,
    relative_to_root: bool,
    reader: Reader | None = None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """The rows of every run.lock below ``roots`` (status derived) and one line per bad file.

    Args:
        roots: Directories or run.lock files.
        relative_to_root: ``run`` relative to its root; else relative to the current
            directory when below it (so it pastes into ``naga show``), else absolute.
        reader: How a receipt the index does not hold becomes a row (default:
            :func:`naga.results._read.read_row`; ``naga report`` reads its cards on the way).
    """
    found = collect(roots, reader=reader)
    _ask_queue_once(found)
    cwd = os.getcwd()  # noqa: PTH109 - a str, compared as text with the walked paths
    rows, problems = [], []
    for item in found:
        if item.row is None:
            problems.append(f"skipped {item.error}")
            continue
        row = dict(item.row)
        row["status"] = live_status(row)
        for key in [k for k in row if k.startswith("_")]:
            del row[key]
        run_dir = os.path.dirname(item.path)  # noqa: PTH120
        row["run"] = item.rel if relative_to_root else _display(run_dir, cwd)
        rows.append(row)
    return rows, problems


def _ask_queue_once(found: Sequence[Any]) -> None:
    """One ``squeue`` call for the Slurm jobs of every receipt whose status it may change."""
    from naga.lock.liveness import ask_queue

    ask_queue(
        item.row.get("_slurm_job_id")
        for item in found
        if item.row is not None and item.row.get("status") in ASKS_QUEUE
    )


def _display(path: str, cwd: str) -> str:
    if path == cwd:
        return "."
    if path.startswith(cwd.rstrip("/") + "/"):
        return path[len(cwd.rstrip("/")) + 1 :]
    return path


def select(
    rows: list[dict[str, Any]],
    *,
    where: str | Sequence[str] | None,
    status: str | Sequence[str] | None,
) -> list[dict[str, Any]]:
    """Apply ``status`` and ``where`` filters (see :func:`runs`)."""
    if status is not None:
        wanted = [status] if isinstance(status, str) else list(status)
        unknown = [s for s in wanted if s not in RUN]
        if unknown:
            raise UsageError(
                f"status '{unknown[0]}' is not a run status; use one of {', '.join(RUN)}"
            )
        rows = [row for row in rows if row["status"] in wanted]
    if where:
        expressions = [where] if isinstance(where, str) else list(where)
        if rows:  # nothing to check names against in an empty table
            rows = filter_rows(rows, parse_where(expressions, columns_of(rows), rows))
    return rows


def _column(values: list[Any], name: str, pd: Any) -> Any:
    """A typed pandas column: times as UTC datetimes, numbers as numbers, bools as bools."""
    if name in ("started_at", "finished_at"):
        return pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601")
    present = [v for v in values if v is not None]
    missing = len(present) < len(values)
    if present and all(isinstance(v, bool) for v in present):
        return pd.array(values, dtype="boolean") if missing else pd.array(values, dtype=bool)
    if present and all(is_number(v) for v in present):
        if all(isinstance(v, int) for v in present):
            with contextlib.suppress(OverflowError, TypeError):  # beyond int64: stays object
                return pd.array(values, dtype="Int64" if missing else "int64")
        else:
            return pd.array([float("nan") if v is None else v for v in values], dtype="float64")
    if present and all(isinstance(v, str) for v in present):
        # pandas infers its own text dtype (object in pandas 2, "str" in pandas 3).
        return pd.Series(values)
    return pd.array(values, dtype=object)
