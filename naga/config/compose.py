"""Apply command-line overrides with Hydra's own parser and compose API.

The base config (class defaults + files + experiment) is stored in Hydra's ConfigStore
as the primary config, so ``param=10``, ``+new=1``, ``~key`` and friends mean exactly
what they mean in any Hydra app. naga only adds a pre-check that turns the most common
mistake, an unknown key, into a one-line error with a "did you mean".
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from naga._hydra_compat import apply_overrides
from naga._omegaconf_compat import holds_keys, node_at
from naga.errors import ConfigError, did_you_mean

APP_CONFIG_NAME = "naga_app"
_ABSENT = object()


def primary_config_name(base: Any) -> str:
    """Store ``base`` in Hydra's ConfigStore as the primary config and return its name."""
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name=APP_CONFIG_NAME, node=base, provider="naga")
    return APP_CONFIG_NAME


def parse_overrides(base: Any, overrides: Sequence[str], *, sweep_allowed: bool) -> list[Any]:
    """Parse overrides with Hydra's grammar and check their keys against ``base``.

    Returns:
        Hydra ``Override`` objects.

    Raises:
        ConfigError: Unparsable override, unknown key, or a sweep outside multirun.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    try:
        parsed = OverridesParser.create().parse_overrides(list(overrides))
    except OverrideParseException as exc:
        raise ConfigError(f"invalid override: {_line(exc)}{likely_fix(exc.override)}") from exc
    for override in parsed:
        key = override.key_or_group
        if key == "hydra" or key.startswith(("hydra.", "hydra/")):
            continue
        if override.is_sweep_override() and not sweep_allowed:
            raise ConfigError(
                f"override '{override.input_line}' is a sweep; add -m/--multirun to run one "
                "job per value, or quote it (key='a,b') or bracket it (key=[a,b]) for one value"
            )
        if override.is_add() or override.is_force_add():
            continue
        if _select(base, key) is _ABSENT:
            raise ConfigError(
                f"override '{override.input_line}': unknown key '{key}'."
                + did_you_mean(key, dotted_keys(base), what="keys")
                + f" To add a new key use +{(override.input_line or key).lstrip('~')}"
            )
    return parsed


def compose(base: Any, overrides: Sequence[str], *, job_name: str | None = None) -> Any:
    """Compose ``base`` with ``overrides`` exactly as Hydra would; returns a struct DictConfig.

    Overrides are parsed by Hydra's parser and applied by the same Hydra routine that its
    compose API uses. Hydra's own config tree (launchers, logging, ...) is only composed
    when the run needs it: a ``hydra.*`` override or a ``${hydra:...}`` interpolation.
    It is then installed as the current ``HydraConfig`` and removed from the result.
    """
    parsed = parse_overrides(base, overrides, sweep_allowed=False)
    if any(o.is_hydra_override() for o in parsed) or _mentions_hydra(base, overrides):
        return _compose_with_hydra(base, overrides, job_name)
    return _apply(base, parsed)


def _apply(base: Any, parsed: list[Any]) -> Any:
    from hydra.core.utils import setup_globals
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    setup_globals()  # Hydra's resolvers: ${now:...}, ${python_version:...}
    cfg = base.copy()
    OmegaConf.set_struct(cfg, True)
    try:
        apply_overrides(parsed, cfg)
    except (HydraException, OmegaConfBaseException, ValueError) as exc:
        raise ConfigError(explain(exc)) from exc
    return cfg


def _compose_with_hydra(base: Any, overrides: Sequence[str], job_name: str | None) -> Any:
    from hydra import compose as hydra_compose
    from hydra import initialize
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig
    from hydra.errors import HydraException
    from omegaconf import open_dict
    from omegaconf.errors import OmegaConfBaseException

    name = primary_config_name(base)
    extra = [f"hydra.job.name={job_name}"] if job_name else []
    GlobalHydra.instance().clear()
    try:
        with initialize(version_base="1.3", config_path=None):
            cfg = hydra_compose(
                config_name=name, overrides=[*overrides, *extra], return_hydra_config=True
            )
    except (HydraException, OmegaConfBaseException, ValueError) as exc:
        raise ConfigError(explain(exc)) from exc
    finally:
        GlobalHydra.instance().clear()
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg


def _mentions_hydra(base: Any, overrides: Sequence[str]) -> bool:
    from omegaconf import OmegaConf

    text = f"{OmegaConf.to_container(base, resolve=False)} {' '.join(overrides)}"
    return "${hydra:" in text


def dotted_keys(cfg: Any, prefix: str = "") -> Iterator[str]:
    """Every key path of a DictConfig (``a``, ``a.b``, ...), without resolving values."""
    from omegaconf import DictConfig

    for key in cfg:
        path = f"{prefix}{key}"
        yield path
        child = node_at(cfg, key)
        if isinstance(child, DictConfig) and holds_keys(child):
            yield from dotted_keys(child, f"{path}.")


def has_key(cfg: Any, key: str) -> bool:
    """True when the dotted ``key`` names a key of ``cfg`` (required ``???`` values too).

    Below a list or an untyped value the answer is True: Hydra decides when it applies.
    """
    return _select(cfg, key) is not _ABSENT


def _select(cfg: Any, key: str) -> Any:
    from omegaconf import DictConfig

    node: Any = cfg
    for part in key.split("."):
        if isinstance(node, DictConfig):
            # keys(), not `in`: a required value (???) is "not in" a DictConfig, yet a key.
            if part not in node.keys():  # noqa: SIM118
                return _ABSENT
            node = node_at(node, part)
        else:
            return node  # a list index, or below a scalar/Any node: let Hydra judge
    return node


#: Each opening bracket and the one that closes it.
_PAIRS = {"[": "]", "{": "}", "(": ")"}


def likely_fix(override: str) -> str:
    """What the user most likely meant by an override Hydra's grammar rejects, or ``""``.

    Hydra reports where its parser gave up (``no viable alternative at input '[0.1'``),
    not the cause; the usual causes are an unclosed bracket or quote, which this names
    with the override as it should read.
    """
    key, sep, value = override.partition("=")
    if not sep:
        return ""
    quote = _unclosed_quote(value)
    if quote:
        return f"; did you mean {key}={value}{quote}? (the {quote} quote is not closed)"
    stack: list[str] = []
    quoted: str | None = None
    for char in value:
        if quoted:
            quoted = None if char == quoted else quoted
        elif char in "'\"":
            quoted = char
        elif char in _PAIRS:
            stack.append(_PAIRS[char])
        elif char in _PAIRS.values():
            if stack and stack[-1] != char:
                return f"; the '{char}' does not close the open bracket: write '{stack[-1]}'"
            if not stack:
                opening = next(o for o, c in _PAIRS.items() if c == char)
                return f"; the '{char}' closes nothing: open it with '{opening}' or quote the value"
            stack.pop()
    if stack:
        missing = "".join(reversed(stack))
        return f"; did you mean {key}={value}{missing}? (a closing '{missing}' is missing)"
    return ""


def _unclosed_quote(value: str) -> str | None:
    """The quote character left open at the end of ``value``, if any."""
    quoted: str | None = None
    for char in value:
        if quoted:
            quoted = None if char == quoted else quoted
        elif char in "'\"":
            quoted = char
    return quoted


def explain(exc: BaseException) -> str:
    """One line from a Hydra/OmegaConf exception chain: the override and the real cause."""
    options = _missing_option(exc)
    if options:
        return options
    head = _line(exc)
    cause = exc.__cause__ or exc.__context__
    if cause is None:
        return head
    detail = _line(cause, lines=1)
    full_key = getattr(cause, "full_key", None)
    if full_key and f"'{full_key}'" not in detail:
        detail = f"{detail} (key '{full_key}')"
    return f"{head}: {detail}" if detail not in head else head


def _missing_option(exc: BaseException) -> str | None:
    """An unknown config group option (``hydra/launcher=submitit_locl``) with its choices.

    Hydra lists the options on lines of their own, which a one-line error would drop.
    """
    from hydra.errors import MissingConfigException

    if not isinstance(exc, MissingConfigException) or not exc.options:
        return None
    missing = str(exc.missing_cfg_file or "")
    group, _, name = missing.rpartition("/")
    return f"{_line(exc, lines=1)}: '{name}' is not an option of {group}." + did_you_mean(
        name, exc.options, what=f"options in '{group}'"
    )


def _line(exc: BaseException, *, lines: int = 2) -> str:
    """The first lines of a message, joined: Hydra puts the hint on the second line."""
    text = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    text = [
        line
        for line in text
        if not line.startswith(("full_key:", "object_type=", "reference_type="))
    ]
    return " ".join(text[:lines]) if text else type(exc).__name__
