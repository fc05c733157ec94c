"""Turn the config objects users write into OmegaConf structured configs.

Accepted: plain classes with class attributes (annotations optional: types are inferred
from the defaults), nested plain classes or instances (sub-nodes), dataclasses, attrs
classes, dicts, DictConfig, and instances of any of these (instance attributes override
class defaults). A plain class is turned into a generated dataclass, so OmegaConf does
the type checking and typo detection exactly as it does for hand-written dataclasses,
and Hydra's compose sees the same structured node.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import keyword
import pathlib
from collections.abc import Mapping
from typing import Any, Optional

from naga.errors import ConfigError, first_line

_SCALARS = (bool, int, float, str, bytes, pathlib.Path, enum.Enum)
_generated: dict[type, type] = {}


def to_structured(obj: Any) -> Any:
    """Return ``obj`` as a struct-mode OmegaConf ``DictConfig``.

    Args:
        obj: A config class, an instance of one, a dataclass/attrs class or instance, a
            dict or a DictConfig.

    Returns:
        A new DictConfig in struct mode (unknown keys raise on access and on merge).

    Raises:
        ConfigError: A value cannot be held by a config; the message names the attribute.
    """
    from omegaconf import DictConfig, OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    name = getattr(obj, "__name__", type(obj).__name__)
    try:
        if isinstance(obj, DictConfig):
            cfg = obj.copy()
        elif isinstance(obj, Mapping):
            _check_value(name, dict(obj))
            cfg = OmegaConf.create(dict(obj))
        elif _is_native_structured(obj):
            cfg = OmegaConf.structured(obj)
        elif inspect.isclass(obj):
            cfg = OmegaConf.structured(dataclass_for(obj))
        else:
            cfg = _from_instance(obj)
    except OmegaConfBaseException as exc:
        raise ConfigError(f"{name}: {first_line(exc)}") from exc
    OmegaConf.set_struct(cfg, True)
    return cfg


def to_yaml(cfg: Any) -> str:
    """Return ``cfg`` as plain YAML, the way ``--cfg`` and ``--help`` print it.

    OmegaConf's own ``to_yaml`` writes a ``Path`` as a Python object tag, which
    ``yaml.safe_load`` and ``--config`` reject; here paths are strings and enums their
    names, so the text reads back with any YAML reader and works as a ``--config`` file.
    Interpolations are printed as written (``${...}``) and required values as ``???``.

    Returns:
        Block-style YAML, keys in config order.
    """
    from omegaconf import OmegaConf, SCMode

    container = OmegaConf.to_container(
        cfg, resolve=False, enum_to_str=True, structured_config_mode=SCMode.DICT
    )
    # OmegaConf's dumper (not yaml.safe_dump) so strings its loader would read as another
    # type ('1e3', 'yes') get quoted, and the text reads back through --config unchanged.
    return OmegaConf.to_yaml(_plain_scalars(container))


def _plain_scalars(value: Any) -> Any:
    if isinstance(value, pathlib.PurePath):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, dict):
        return {key: _plain_scalars(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain_scalars(item) for item in value]
    return value


def dataclass_for(cls: type) -> type:
    """Return (and cache) the dataclass generated for a plain config class."""
    if _is_native_structured(cls):
        return cls
    cached = _generated.get(cls)
    if cached is not None:
        return cached
    attrs = _public_attrs(cls)
    for attr, _, _ in attrs:
        if keyword.iskeyword(attr) or not attr.isidentifier():
            raise ConfigError(
                f"{cls.__name__}.{attr}: not a valid attribute name for a config class; "
                "use a dict config ({...}) for keys that are not Python identifiers"
            )
    fields = [_field(cls.__name__, attr, value, hint) for attr, value, hint in attrs]
    generated = dataclasses.make_dataclass(cls.__name__, fields)
    generated.__module__ = cls.__module__
    generated.__qualname__ = cls.__qualname__
    _generated[cls] = generated
    return generated


def _is_native_structured(obj: Any) -> bool:
    cls = obj if inspect.isclass(obj) else type(obj)
    return dataclasses.is_dataclass(cls) or hasattr(cls, "__attrs_attrs__")


def _public_attrs(cls: type) -> list[tuple[str, Any, Any]]:
    """(name, default, annotation) for the config attributes of ``cls`` and its bases.

    Attributes come in the order the class body defines them, base classes first; a
    subclass that redefines a base attribute keeps the base's position (as dataclass
    fields do).
    """
    found: dict[str, tuple[Any, Any]] = {}
    for klass in reversed(cls.__mro__[:-1]):  # base classes first, so subclasses win
        hints = inspect.get_annotations(klass)
        for attr in _body_order(klass, hints):
            hint = hints.get(attr, found.get(attr, (None, None))[1])
            if attr in vars(klass):
                found[attr] = (vars(klass)[attr], hint)
            else:  # annotation only: a required value
                found[attr] = (dataclasses.MISSING, hint)
    return [(attr, value, hint) for attr, (value, hint) in found.items()]


def _body_order(klass: type, hints: Mapping[str, Any]) -> list[str]:
    """The public attribute names of ``klass``'s own body, in the order they are defined.

    The class ``__dict__`` keeps assignment order and ``__annotations__`` annotation order,
    but neither says where an annotation without a value (``steps: int``) stands among
    unannotated assignments, so the class source decides when it can be read.
    """
    members = [
        attr
        for attr, value in vars(klass).items()
        if not attr.startswith("_") and not _is_member(klass, value)
    ]
    annotated = [attr for attr in hints if not attr.startswith("_")]
    only_annotated = [attr for attr in annotated if attr not in vars(klass)]
    if not only_annotated:
        return members
    names = set(members) | set(only_annotated)
    source_order = _source_order(klass)
    if names <= set(source_order):
        return sorted(names, key=source_order.index)
    # No source (a class made by exec or type()): an annotation-only attribute goes just
    # before the next annotated attribute that has a value, else after everything.
    order: list[str] = []
    pending = list(only_annotated)
    for attr in members:
        if attr in hints:
            while pending and annotated.index(pending[0]) < annotated.index(attr):
                order.append(pending.pop(0))
        order.append(attr)
    return order + pending


def _source_order(klass: type) -> list[str]:
    """Names assigned or annotated at the top level of ``klass``'s body, in source order."""
    import ast
    import textwrap

    try:
        source = textwrap.dedent(inspect.getsource(klass))
        body = ast.parse(source).body
    except (OSError, TypeError, SyntaxError):
        return []
    if not body or not isinstance(body[0], ast.ClassDef):
        return []
    names: list[str] = []
    for statement in body[0].body:
        if isinstance(statement, ast.AnnAssign):
            targets: list[ast.expr] = [statement.target]
        elif isinstance(statement, ast.Assign):
            targets = statement.targets
        elif isinstance(statement, ast.ClassDef):
            names.append(statement.name)
            continue
        else:
            continue
        for target in targets:
            elements = target.elts if isinstance(target, ast.Tuple) else [target]
            names += [e.id for e in elements if isinstance(e, ast.Name) and e.id not in names]
    return names


def _is_member(klass: type, value: Any) -> bool:
    """True for methods, properties and descriptors: behaviour, not configuration."""
    if isinstance(value, (property, staticmethod, classmethod)):
        return True
    # A function *defined* in the class body is a method; a function assigned from
    # elsewhere (a lambda, len, a helper) is a value the user wants stored: an error later.
    return (
        inspect.isfunction(value) and value.__qualname__ == f"{klass.__qualname__}.{value.__name__}"
    )


def _instance_values(obj: Any) -> dict[str, Any]:
    """Public instance attributes; nested config instances become DictConfigs."""
    values = {}
    for attr, value in vars(obj).items():
        if attr.startswith("_"):
            continue
        if _looks_like_config_instance(value) or (
            _is_native_structured(value) and not inspect.isclass(value)
        ):
            values[attr] = to_structured(value)
        else:
            _check_value(f"{type(obj).__name__}.{attr}", value)
            values[attr] = value
    return values


def _from_instance(obj: Any) -> Any:
    """Class defaults first, then the instance's own attributes (which may add keys)."""
    from omegaconf import OmegaConf

    cfg = OmegaConf.structured(dataclass_for(type(obj)))
    values = _instance_values(obj)
    if values:
        OmegaConf.set_struct(cfg, False)
        cfg = OmegaConf.merge(cfg, values)
    return cfg


def _field(owner: str, attr: str, value: Any, hint: Any) -> tuple[str, Any, Any]:
    if value is dataclasses.MISSING:
        return (attr, hint, dataclasses.field(default="???"))
    nested = _nested_field(value, hint)
    if nested is not None:
        return (attr, *nested)
    _check_value(f"{owner}.{attr}", value)
    return (attr, *_value_field(value, hint))


def _nested_field(value: Any, hint: Any) -> tuple[Any, Any] | None:
    """(type, field) of a sub-config: a class, a dataclass/attrs instance, a config instance."""
    if inspect.isclass(value) and not issubclass(value, enum.Enum):
        nested = dataclass_for(value)
        return (hint or nested, dataclasses.field(default_factory=nested))
    if _is_native_structured(value):
        return (hint or type(value), dataclasses.field(default_factory=lambda: _copy(value)))
    if _looks_like_config_instance(value):
        cls = dataclass_for(type(value))
        known = {f.name for f in dataclasses.fields(cls)}
        overrides = {k: v for k, v in _instance_values(value).items() if k in known}
        return (hint or cls, dataclasses.field(default_factory=lambda: cls(**_copy(overrides))))
    return None


def _value_field(value: Any, hint: Any) -> tuple[Any, Any]:
    """(type, field) of a plain value; containers are copied for every instance."""
    if isinstance(value, (list, tuple)):
        frozen = list(value)
        return (hint or list[Any], dataclasses.field(default_factory=lambda: _copy(frozen)))
    if isinstance(value, dict):
        frozen_map = dict(value)
        return (
            hint or dict[str, Any],
            dataclasses.field(default_factory=lambda: _copy(frozen_map)),
        )
    if value is None:
        return (hint or Optional[Any], dataclasses.field(default=None))  # noqa: UP045
    inferred = pathlib.Path if isinstance(value, pathlib.Path) else type(value)
    return (hint or inferred, dataclasses.field(default=value))


def _looks_like_config_instance(value: Any) -> bool:
    """An instance of a plain user class used as a sub-config (``model = Model()``)."""
    cls = type(value)
    return (
        not isinstance(value, (*_SCALARS, list, tuple, dict, type(None)))
        and cls.__module__ not in ("builtins",)
        and hasattr(value, "__dict__")
        and not callable(value)
        and all(not k.startswith("__") for k in vars(value))
        and _public_attrs(cls) != []
    )


def _copy(value: Any) -> Any:
    import copy

    return copy.deepcopy(value)


def _check_value(where: str, value: Any) -> None:
    if value is None or isinstance(value, _SCALARS):
        return
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_value(f"{where}[{index}]", item)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, (str, int, enum.Enum, bool, float)):
                raise ConfigError(
                    f"{where}: dict key {key!r} of type {type(key).__name__} cannot be stored "
                    "in a config; use str keys"
                )
            _check_value(f"{where}.{key}", item)
        return
    if _is_native_structured(value):
        return
    kind = "a function" if callable(value) else f"a {type(value).__name__} object"
    raise ConfigError(
        f"{where}: {kind} cannot be stored in a config (allowed: int, float, bool, str, None, "
        "Path, Enum, lists, dicts, nested config classes); store a name or path instead, "
        "or rename it with a leading underscore to keep it out of the config"
    )
