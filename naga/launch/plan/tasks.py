"""Tasks files: one job per value or mapping, turned into Hydra override lists.

A task sweep is an ordinary Hydra sweep: the same composition, errors and launchers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from naga.errors import ConfigError, UsageError, did_you_mean

if TYPE_CHECKING:
    from omegaconf import DictConfig

_TEXT_SUFFIXES = (".txt",)
_STRUCTURED_SUFFIXES = (".yaml", ".yml", ".json")
# Dict keys Hydra's override grammar accepts unquoted (its `dictKey` rule, simplified).
_PLAIN_KEY = re.compile(r"[A-Za-z_][\w\-]*\Z")


def tasks_from_file(path: Path, *, task_to: str | None) -> list[list[str]]:
    """Read a ``--tasks`` file; one override list per task, in file order.

    Raises:
        UsageError: The file is missing, empty, of an unknown kind, malformed, or holds
            plain values without ``--task_to``.
    """
    if not path.is_file():
        raise UsageError(
            f"--tasks {path}: no such file; give the path of a .txt, .yaml or .json file"
        )
    suffix = path.suffix.lower()
    if suffix in _TEXT_SUFFIXES:
        if task_to is None:
            raise UsageError(
                f"--tasks {path}: a .txt file holds plain values; say which config key they "
                "set with --task_to KEY (or use a .yaml file of mappings)"
            )
        return [[f"{task_to}={value}"] for value in _text_values(path)]
    if suffix not in _STRUCTURED_SUFFIXES:
        raise UsageError(
            f"--tasks {path}: unknown file kind '{suffix or path.name}'; use .txt (one value "
            "per line), .yaml, .yml or .json (a list)"
        )
    items = _load_structured(path)
    return tasks_from_items(items, task_to=task_to, where=f"--tasks {path}")


def tasks_from_items(items: object, *, task_to: str | None, where: str) -> list[list[str]]:
    """Turn a list of task values or mappings into one override list per task.

    ``task_to``: the key each task sets or merges into (None: the root); ``where`` names the
    source in errors (``--tasks FILE``).

    Raises:
        UsageError: ``items`` is not a non-empty list, or a plain value has no ``task_to``.
    """
    if not isinstance(items, (list, tuple)):
        raise UsageError(f"{where}: expected a list of tasks, got {type(items).__name__}")
    if not items:
        raise UsageError(f"{where}: the task list is empty; add at least one task")
    jobs: list[list[str]] = []
    for index, item in enumerate(items):
        if isinstance(item, Mapping):
            overrides = list(flatten_overrides(item, prefix=task_to))
            if not overrides:
                raise UsageError(
                    f"{where}: task {index} is an empty mapping; remove it or give it keys"
                )
            jobs.append(overrides)
        elif task_to is None:
            raise UsageError(
                f"{where}: task {index} is a value ({item!r}), not a mapping; say which config "
                "key it sets with --task_to KEY"
            )
        else:
            jobs.append([f"{task_to}={override_value(item)}"])
    return jobs


def flatten_overrides(mapping: Mapping[str, object], *, prefix: str | None) -> list[str]:
    """Dotted ``key=value`` overrides that merge ``mapping`` into ``prefix`` (or the root).

    Nested mappings merge key by key (``model: {lr: 0.1}`` sets only ``model.lr``); lists
    and scalars replace the value at their key.
    """
    out: list[str] = []
    for key, value in mapping.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            out.extend(flatten_overrides(value, prefix=path))
        else:
            out.append(f"{path}={override_value(value)}")
    return out


def override_value(value: object) -> str:
    """Write a Python value in Hydra's override grammar, so Hydra parses it back equal.

    Strings are always quoted (``'2'`` stays a string, ``'a,b'`` is not a sweep);
    ``${...}`` inside a string stays an interpolation, as it would in a config file.

    Raises:
        UsageError: A value Hydra overrides cannot express (an object, a dict with
            keys the grammar does not allow).
    """
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, Mapping):
        return _override_dict(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(override_value(item) for item in value) + "]"
    return _override_scalar(value)


def _override_dict(value: Mapping[object, object]) -> str:
    parts = []
    for key, item in value.items():
        if not isinstance(key, str) or not _PLAIN_KEY.match(key):
            raise UsageError(
                f"task value: dict key {key!r} cannot be written as a Hydra override; "
                "use keys made of letters, digits, '_' and '-'"
            )
        parts.append(f"{key}:{override_value(item)}")
    return "{" + ",".join(parts) + "}"


def _override_scalar(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # nan, inf and -inf are spelled as Hydra's grammar spells them
    raise UsageError(f"task value {value!r} ({type(value).__name__}) is not a config value")


def _quote(text: str) -> str:
    # Hydra unescapes backslashes only where they precede a quote (or end the string);
    # double exactly those, then escape the quote character itself.
    quote = "'" if "'" not in text or '"' in text else '"'
    escaped = re.sub(r"(\\+)(?=" + quote + r"|\Z)", lambda m: m.group(1) * 2, text)
    return quote + escaped.replace(quote, "\\" + quote) + quote


def _text_values(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines()]
    values = [line for line in lines if line and not line.startswith("#")]
    # `echo "1\n2\n3" > tasks.txt` in bash writes the two characters `\n`, not newlines:
    # a file that is one such line is read as the list the user meant.
    if len(values) == 1 and "\\n" in values[0]:
        values = [part.strip() for part in values[0].split("\\n") if part.strip()]
    if not values:
        raise UsageError(f"--tasks {path}: the file has no values; write one value per line")
    return values


def _load_structured(path: Path) -> object:
    try:
        if path.suffix.lower() == ".json":
            import json

            return json.loads(path.read_text(encoding="utf-8"))
        import yaml

        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except Exception as exc:  # json/yaml errors: say where, one line
        detail = " ".join(str(exc).split())
        raise UsageError(f"--tasks {path}: cannot parse the file: {detail}") from exc


def tasks_from_config(cfg: DictConfig, key: str, *, task_to: str | None) -> list[list[str]]:
    """The task overrides for ``--tasks-key KEY``: the list stored at ``KEY`` in ``cfg``.

    Raises:
        ConfigError: ``KEY`` is missing or does not hold a list.
    """
    from omegaconf import ListConfig, OmegaConf

    node = OmegaConf.select(cfg, key, default=_MISSING)
    if node is _MISSING:
        raise ConfigError(
            f"--tasks-key {key}: no such key in the config."
            + did_you_mean(key, _app_keys(cfg), what="keys")
        )
    if not isinstance(node, (ListConfig, list)):
        raise ConfigError(
            f"--tasks-key {key}: the value is not a list of tasks; make '{key}' a list"
        )
    items = OmegaConf.to_container(node, resolve=False) if isinstance(node, ListConfig) else node
    return tasks_from_items(items, task_to=task_to, where=f"--tasks-key {key}")


_MISSING = object()


def check_task_to(cfg: DictConfig, task_to: str) -> None:
    """Reject a ``--task_to`` key the config does not have, before any job is composed.

    Without this, a typo surfaces as Hydra's "Could not override" for job 0, with no
    suggestion; an override typo gets a did-you-mean, and so does this.

    Raises:
        ConfigError: ``task_to`` names no key of ``cfg``; the message lists the keys.
    """
    from naga.config.compose import has_key

    if task_to.startswith("+") or has_key(cfg, task_to):
        return  # +key / ++key: the user adds it on purpose, as in an override
    raise ConfigError(
        f"--task_to {task_to}: no such key in the config."
        + did_you_mean(task_to, _app_keys(cfg), what="keys")
        + f" To add a new key use --task_to +{task_to}"
    )


def _app_keys(cfg: DictConfig) -> list[str]:
    """The config's dotted keys, without Hydra's own tree (present in a sweep's config)."""
    from naga.config.compose import dotted_keys
    from naga.launch.plan.naming import is_hydra_key

    return [key for key in dotted_keys(cfg) if not is_hydra_key(key)]


def check_task_lines(jobs: Sequence[Sequence[str]], *, where: str) -> None:
    """Reject a task whose text parses as a sweep (``1,2``) or not at all.

    Raises:
        UsageError: Naming the task and the fix (quote or bracket the value).
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    parser = OverridesParser.create()
    for index, overrides in enumerate(jobs):
        try:
            parsed = parser.parse_overrides(list(overrides))
        except OverrideParseException as exc:
            detail = " ".join(str(exc).split())
            raise UsageError(f"{where}: task {index} cannot be parsed: {detail}") from exc
        for override in parsed:
            if override.is_sweep_override():
                raise UsageError(
                    f"{where}: task {index} ('{override.input_line}') is a sweep, not one value; "
                    "quote it ('a,b') or bracket it ([a,b])"
                )
