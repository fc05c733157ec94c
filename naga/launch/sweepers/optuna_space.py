"""A search space written in Hydra's sweep grammar, as Optuna distributions.

``interval()``, ``tag(log, ...)``, ``int(...)``, ``range()`` (its stop excluded, as Hydra's),
``choice()``, ``a,b,c`` and fixed values, as hydra-optuna-sweeper takes them (docs/sweeps.md).
Each suggested value goes back as an override that Hydra parses to the same value, so a
trial's run.lock records exactly what Optuna asked for.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from naga.errors import ConfigError

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution

# Hydra reads these unquoted as a string; anything else (true, null, 1, a space...) is quoted.
_PLAIN_STRING = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_QUOTE_OR_END = re.compile(r"(\\*)('|$)")
_NOT_STRINGS = {"true", "false", "null", "nan", "inf"}

Primitive = bool | int | float | str


@dataclass(frozen=True)
class SearchSpace:
    """Optuna's distribution of each searched config key, and the other overrides, in order."""

    distributions: Mapping[str, BaseDistribution]
    fixed: tuple[str, ...]

    def overrides(self, params: Mapping[str, Primitive]) -> list[str]:
        """The override list of a trial: the fixed overrides, then ``key=value`` per param."""
        return [
            *self.fixed,
            *(f"{key}={override_value(params[key])}" for key in self.distributions),
        ]

    def describe(self) -> dict[str, str]:
        """Each searched key with its distribution as JSON (to detect a changed space)."""
        from optuna.distributions import distribution_to_json

        return {key: distribution_to_json(d) for key, d in sorted(self.distributions.items())}


def parse_space(overrides: Sequence[str]) -> SearchSpace:
    """Split a sweep's overrides into Optuna distributions and fixed overrides.

    Raises:
        ConfigError: an override that cannot be searched (``glob()``, an empty range, a
            choice of lists, a log scale on a range with a step other than 1...).
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    parser = OverridesParser.create()
    distributions: dict[str, BaseDistribution] = {}
    fixed: list[str] = []
    for text in overrides:
        try:
            (override,) = parser.parse_overrides([text])
        except OverrideParseException as exc:
            first = str(exc).splitlines()[0]
            raise ConfigError(
                f"{text}: not a search-space expression ({first}); write e.g. "
                "'lr=interval(1e-4, 0.1)', 'n=range(1, 5)' or 'act=choice(relu, tanh)'"
            ) from exc
        if not override.is_sweep_override():
            fixed.append(text)
            continue
        key = override.get_key_element()
        distributions[key] = _distribution(text, override.value())
    return SearchSpace(distributions=distributions, fixed=tuple(fixed))


def _distribution(text: str, sweep: object) -> BaseDistribution:
    from hydra.core.override_parser.types import ChoiceSweep, IntervalSweep, RangeSweep

    if isinstance(sweep, IntervalSweep):
        return _interval(text, sweep.start, sweep.end, log="log" in sweep.tags)
    if isinstance(sweep, RangeSweep):
        return _range(text, sweep.start, sweep.stop, sweep.step, log="log" in sweep.tags)
    if isinstance(sweep, ChoiceSweep):
        return _choice(text, list(sweep.list))
    kind = type(sweep).__name__
    raise ConfigError(
        f"{text}: naga_optuna cannot search a {kind} sweep; use interval(), range() or "
        "choice() (or a,b,c)"
    )


def _interval(text: str, start: float | None, end: float | None, *, log: bool) -> BaseDistribution:
    from optuna.distributions import FloatDistribution, IntDistribution

    if start is None or end is None or not start < end:
        raise ConfigError(f"{text}: an interval needs start < end; e.g. interval(1e-4, 0.1)")
    if log and start <= 0:
        raise ConfigError(
            f"{text}: a log scale needs a start above 0; e.g. tag(log, interval(1e-5, 1))"
        )
    if isinstance(start, int) and isinstance(end, int):
        return IntDistribution(start, end, log=log)
    return FloatDistribution(float(start), float(end), log=log)


def _range(
    text: str, start: float | None, stop: float | None, step: float, *, log: bool
) -> BaseDistribution:
    from optuna.distributions import FloatDistribution, IntDistribution

    if start is None or stop is None:
        raise ConfigError(f"{text}: a range needs a start and a stop; e.g. range(1, 5)")
    count = math.ceil((stop - start) / step) if step else 0
    if count <= 0:
        raise ConfigError(f"{text}: the range holds no value; e.g. range(1, 5) is 1, 2, 3, 4")
    last = start + (count - 1) * step
    if log and step != 1:
        raise ConfigError(
            f"{text}: a log scale takes no step; write tag(log, int(interval(1, 64)))"
        )
    if all(isinstance(v, int) for v in (start, stop, step)):
        return IntDistribution(int(start), int(last), step=int(step), log=log)
    return FloatDistribution(float(start), float(last), step=float(step))


def _choice(text: str, values: list[object]) -> BaseDistribution:
    from optuna.distributions import CategoricalDistribution

    if not values:
        raise ConfigError(f"{text}: a choice needs at least one value")
    for value in values:
        if not isinstance(value, (bool, int, float, str)):
            raise ConfigError(
                f"{text}: naga_optuna chooses among plain values (numbers, strings, true/false); "
                "name the alternatives instead, e.g. a config group or 'arch=choice(small, large)'"
            )
    if len(set(map(repr, values))) != len(values):
        raise ConfigError(f"{text}: a value is listed twice; list each choice once")
    return CategoricalDistribution(values)  # type: ignore[arg-type]


def override_value(value: Primitive) -> str:
    """``value`` written so that Hydra's override parser reads it back equal."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # repr() spells the non-finite floats nan/inf/-inf, as Hydra reads them.
        return repr(value)
    if _PLAIN_STRING.fullmatch(value) and value.lower() not in _NOT_STRINGS:
        return value
    # Inside quotes Hydra reads a backslash literally unless it precedes a quote (or the
    # closing quote): only those runs of backslashes are doubled.
    escaped = _QUOTE_OR_END.sub(lambda m: m[1] * 2 + ("\\'" if m[2] else ""), value)
    return f"'{escaped}'"
