"""``--config FILE`` and ``--experiment NAME``: YAML files layered over the class defaults.

A multi-stage file holds one section per experiment. A top-level ``defaults:`` list
names sections composed under every experiment, and a section may have its own
``defaults:`` list (recursively). Interpolations in a section may reference top-level
keys of the file; those are resolved against the file, since the file's other keys do
not become part of the config.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from naga._omegaconf_compat import node_at, raw_value
from naga.errors import ConfigError, did_you_mean, first_line

DEFAULTS_KEY = "defaults"
_SUFFIXES = (".yml", ".yaml")


def load_files(paths: Sequence[str | Path]) -> Any:
    """Load and merge YAML files in order (later files win). Errors name the file."""
    from omegaconf import OmegaConf

    merged: Any = OmegaConf.create({})
    for raw in paths:
        path = Path(raw)
        if path.suffix not in _SUFFIXES:
            raise ConfigError(f"--config {raw}: expected a .yml or .yaml file")
        if not path.is_file():
            raise ConfigError(f"--config {raw}: no such file (paths are relative to {Path.cwd()})")
        loaded = _load_yaml(path)
        merged = OmegaConf.merge(merged, loaded)
    return merged


def _load_yaml(path: Path) -> Any:
    import yaml
    from omegaconf import DictConfig, OmegaConf

    try:
        loaded = OmegaConf.load(path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or first_line(exc)
        raise ConfigError(f"--config {path}: invalid YAML{where}: {problem}") from exc
    except Exception as exc:  # OmegaConf rejects e.g. non-string keys
        problem = first_line(exc)
        raise ConfigError(f"--config {path}: cannot be read as a config: {problem}") from exc
    if not isinstance(loaded, DictConfig):
        raise ConfigError(f"--config {path}: the file must hold a mapping of keys, not a list")
    return loaded


def layer_files(base: Any, paths: Sequence[str | Path], experiment: str | None) -> Any:
    """Return ``base`` (struct DictConfig) with the files, or one experiment of them, merged in."""
    from omegaconf import OmegaConf

    if not paths:
        if experiment:
            raise ConfigError(
                f"--experiment {experiment}: needs --config FILE holding that section"
            )
        return base
    files = load_files(paths)
    label = ", ".join(str(p) for p in paths)
    if experiment:
        layer = _experiment_layer(files, experiment, label, base)
    else:
        layer = _plain_layer(files, label, base)
    merged = _merge(base, layer, label)
    _resolve_against_file(merged, files)
    OmegaConf.set_struct(merged, True)
    return merged


def _plain_layer(files: Any, label: str, base: Any) -> Any:
    """The whole file, minus its ``defaults:`` which are composed first."""
    from omegaconf import OmegaConf

    defaults = _defaults_of(files, "the file top level", label)
    experiments = [name for name in _sections(files, base) if name not in defaults]
    if experiments:
        raise ConfigError(
            f"--config {label} holds experiment sections; pick one with --experiment NAME "
            f"(available experiments: {', '.join(experiments)})"
        )
    layer: Any = OmegaConf.create({})
    for name in defaults:
        layer = OmegaConf.merge(layer, _compose_section(files, name, label, ()))
    own = {k: node_at(files, k) for k in files if k != DEFAULTS_KEY and k not in defaults}
    return OmegaConf.merge(layer, OmegaConf.create(own))


def _experiment_layer(files: Any, experiment: str, label: str, base: Any) -> Any:
    from omegaconf import OmegaConf

    if OmegaConf.select(files, experiment, default=None) is None:
        raise ConfigError(
            f"--experiment {experiment}: no such section in {label}."
            + did_you_mean(experiment, _sections(files, base), what="experiments")
        )
    layer: Any = OmegaConf.create({})
    for name in _defaults_of(files, "the file top level", label):
        layer = OmegaConf.merge(layer, _compose_section(files, name, label, ()))
    return OmegaConf.merge(layer, _compose_section(files, experiment, label, ()))


def _compose_section(files: Any, name: str, label: str, stack: tuple[str, ...]) -> Any:
    from omegaconf import DictConfig, OmegaConf

    if name in stack:
        loop = " -> ".join([*stack, name])
        raise ConfigError(f"--config {label}: defaults form a cycle: {loop}; remove one of them")
    node = OmegaConf.select(files, name, default=None)
    if node is None:
        owner = f"section '{stack[-1]}'" if stack else "the top-level defaults"
        raise ConfigError(
            f"--config {label}: {owner} names unknown section '{name}'."
            + did_you_mean(name, [str(k) for k in files if k != DEFAULTS_KEY], what="sections")
        )
    if not isinstance(node, DictConfig):
        raise ConfigError(f"--config {label}: section '{name}' must be a mapping of keys")
    result: Any = OmegaConf.create({})
    for parent in _defaults_of(node, f"section '{name}'", label):
        result = OmegaConf.merge(result, _compose_section(files, parent, label, (*stack, name)))
    own = OmegaConf.create({k: node_at(node, k) for k in node if k != DEFAULTS_KEY})
    return OmegaConf.merge(result, own)


def _defaults_of(node: Any, owner: str, label: str) -> list[str]:
    from omegaconf import ListConfig

    if DEFAULTS_KEY not in node:
        return []
    value = node_at(node, DEFAULTS_KEY)
    if not isinstance(value, ListConfig) or not all(isinstance(v, str) for v in value):
        raise ConfigError(
            f"--config {label}: `defaults` of {owner} must be a list of section names"
        )
    return list(value)


def _sections(files: Any, base: Any) -> list[str]:
    from omegaconf import OmegaConf

    return sorted(
        str(k) for k in files if k != DEFAULTS_KEY and k not in base and OmegaConf.is_dict(files[k])
    )


def _merge(base: Any, layer: Any, label: str) -> Any:
    from omegaconf import OmegaConf
    from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

    try:
        return OmegaConf.merge(base, layer)
    except ConfigKeyError as exc:
        key = str(getattr(exc, "full_key", "") or "")
        known = [str(k) for k in base]
        raise ConfigError(
            f"--config {label}: unknown key '{key}' (not in {_type_name(base)})."
            + did_you_mean(key.rsplit(".", maxsplit=1)[-1], known, what="keys")
        ) from exc
    except OmegaConfBaseException as exc:
        failed_key = getattr(exc, "full_key", None)
        where = f" key '{failed_key}':" if failed_key else ""
        raise ConfigError(f"--config {label}:{where} {first_line(exc)}") from exc


def _resolve_against_file(merged: Any, files: Any) -> None:
    """Resolve interpolations that point at top-level keys of the file, not of the config."""
    from omegaconf import DictConfig, ListConfig, OmegaConf
    from omegaconf.errors import InterpolationKeyError

    context: dict[str, Any] = {}  # the file's keys as plain values, built on first need

    def visit(node: Any) -> None:
        keys = node.keys() if isinstance(node, DictConfig) else range(len(node))
        for key in keys:
            child = node_at(node, key)
            if isinstance(child, (DictConfig, ListConfig)):
                visit(child)
            elif OmegaConf.is_interpolation(node, key):  # type: ignore[arg-type]
                try:
                    node[key]
                except InterpolationKeyError:
                    if not context:
                        context.update(_plain(files))
                    probe = OmegaConf.create({**context, "_naga_probe": raw_value(child)})
                    # Still unresolvable: reported with its key when the config is resolved.
                    with contextlib.suppress(Exception):
                        node[key] = probe._naga_probe
                except Exception:  # needs a run context (hydra:, now:): resolved later
                    pass

    OmegaConf.set_struct(merged, False)
    visit(merged)


def _plain(cfg: Any) -> dict[str, Any]:
    from omegaconf import OmegaConf

    container = OmegaConf.to_container(cfg)
    return {str(k): v for k, v in container.items()} if isinstance(container, dict) else {}


def _type_name(cfg: Any) -> str:
    from omegaconf import OmegaConf

    kind = OmegaConf.get_type(cfg)
    return kind.__name__ if kind not in (dict, None) else "the config"
