"""The ``metrics`` section of run.lock: a run's results as flat ``name: number`` pairs.

Nested mappings are flattened with dots, so every metric is one column of ``naga ls``.
Only real numbers are metrics (``nan``/``inf`` kept; 0-d arrays and tensors read through
``item()``): a bool, a string, ``None`` or a list is refused naming its key, because any
silent conversion or drop would make a results table lie.
"""

from __future__ import annotations

import json
import numbers
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from naga.errors import MetricsError

__all__ = ["RETURN_KEY", "flatten", "from_file", "from_return", "normalize"]

#: The metric name under which a ``@clicfg`` function's bare-number return value is recorded.
RETURN_KEY = "value"

Number = int | float
MetricsArg = Mapping[str, Any] | str | os.PathLike[str] | None


def normalize(metrics: MetricsArg, *, what: str = "runlock(metrics=...)") -> dict[str, Number]:
    """Flatten and check metrics given to ``runlock()``.

    Args:
        metrics: A mapping of names to numbers (nested mappings allowed), the path of a
            ``.json``/``.yaml``/``.yml`` file holding one, or ``None``.
        what: How to name the input in error messages.

    Returns:
        ``{dotted.name: int | float}`` in the given order.

    Raises:
        MetricsError: A value is not a real number, a name is empty, or the file cannot be
            read or holds no mapping.
    """
    if metrics is None:
        return {}
    if isinstance(metrics, (str, os.PathLike)):
        return normalize(from_file(metrics), what=f"{what} file {os.fspath(metrics)}")
    if not isinstance(metrics, Mapping):
        raise MetricsError(
            f"{what} takes a mapping of names to numbers or the path of a JSON/YAML file, "
            f"got {type(metrics).__name__}; pass e.g. metrics={{'loss': 0.25}}"
        )
    flat: dict[str, Number] = {}
    for key, value in _leaves(metrics):
        number = number_or_none(value)
        if number is None:
            raise MetricsError(f"{what}: {_refusal(key, value)}")
        flat[key] = number
    return flat


def from_file(path: str | os.PathLike[str]) -> Any:
    """The content of a JSON or YAML metrics file (JSON for ``.json``, YAML otherwise).

    Raises:
        MetricsError: The file cannot be read or parsed.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise MetricsError(
            f"runlock(metrics='{path}'): cannot read the file: {reason}; pass an existing "
            "JSON/YAML file or a mapping of names to numbers"
        ) from exc
    try:
        if file.suffix.lower() == ".json":
            return json.loads(text)  # NaN and Infinity, as Python's json writes them, load too
        from naga.lock.format import loads

        return loads(text)
    except Exception as exc:  # json.JSONDecodeError, yaml.YAMLError and its C twin
        kind = "JSON" if file.suffix.lower() == ".json" else "YAML"
        raise MetricsError(
            f"runlock(metrics='{path}'): the file is not valid {kind}; it should hold a "
            'mapping of names to numbers such as {"loss": 0.25}'
        ) from exc


def from_return(value: Any) -> tuple[dict[str, Number], list[str]]:
    """The metrics in a ``@clicfg`` function's return value, and the keys that were not numbers.

    A real number is recorded as :data:`RETURN_KEY`; a mapping contributes its (flattened)
    number values. Anything else (``None``, a bool, a model object) is not a result table's
    business and gives no metrics.

    Returns:
        ``(metrics, skipped)``: ``skipped`` names the mapping keys whose values were not
        numbers, so the caller can say so instead of dropping them silently.
    """
    if isinstance(value, Mapping):
        found: dict[str, Number] = {}
        skipped: list[str] = []
        for key, item in _leaves(value):
            number = number_or_none(item)
            if number is None:
                skipped.append(key)
            else:
                found[key] = number
        return found, skipped
    number = number_or_none(value)
    return ({RETURN_KEY: number} if number is not None else {}), []


def number_or_none(value: Any) -> Number | None:
    """``value`` as an int or float when it is a real number (bools are not), else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, (str, bytes, Mapping)):
        try:  # numpy/torch scalars and 0-d arrays; a bigger array refuses
            inner = item()
        except (TypeError, ValueError, RuntimeError):
            return None
        if inner is not value:
            return number_or_none(inner)
    return None


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Flatten nested mappings to dotted keys (``{"a": {"b": 1}}`` -> ``{"a.b": 1}``); lists
    and empty mappings stay whole values, anything but a mapping flattens to ``{}``."""
    flat: dict[str, Any] = {}
    if isinstance(tree, Mapping):
        for key, value in tree.items():
            name = f"{prefix}{key}"
            if isinstance(value, Mapping) and value:
                flat.update(flatten(value, f"{name}."))
            else:
                flat[name] = value
    return flat


def _leaves(tree: Mapping[Any, Any]) -> Iterator[tuple[str, Any]]:
    """The metrics of a nested mapping, by dotted name; an empty mapping holds none."""
    for key, value in flatten(tree).items():
        parts = key.split(".")
        if "" in parts:
            parent = ".".join(parts[: parts.index("")]) or "(top level)"
            raise MetricsError(
                f"metric names must not be empty (under '{parent}'); "
                "name every metric, e.g. {'loss': 0.25}"
            )
        if not (isinstance(value, Mapping) and not value):
            yield key, value


def _refusal(key: str, value: Any) -> str:
    kind = type(value).__name__
    if isinstance(value, bool):
        fix = f"record it as a number, e.g. int({value})"
    elif isinstance(value, str):
        fix = "record a number (float(...)) or put text in the config, not in metrics"
    elif value is None:
        fix = "leave the metric out, or record float('nan') for a value that is missing"
    elif isinstance(value, (list, tuple)):
        fix = f"record one number per name, e.g. {{'{key}.0': ...}}"
    else:
        fix = "record a real number"
    shown = repr(value)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return f"metric '{key}' is a {kind} ({shown}), not a number; {fix}"
