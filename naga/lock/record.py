"""The values of a run.lock's fields: config as a plain tree, environment, host, times, error.

Each function computes one field from what the process can see; :mod:`naga.lock.assemble`
puts them together into a record. Everything here produces plain YAML-safe values (dicts
with scalar keys, lists, str, int, float, bool, None) so that a written run.lock reads
back equal.
"""

from __future__ import annotations

import dataclasses
import enum
import os
import platform
import sys
import traceback
from collections.abc import Mapping
from datetime import datetime, timezone
from os import PathLike
from pathlib import Path, PurePath
from typing import Any

from naga.errors import LockError, first_line
from naga.lock.format import LOCK_NAME


def utc_now() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


def iso(moment: datetime | None) -> str | None:
    """Format an aware datetime as ISO 8601 in UTC (``None`` stays ``None``)."""
    return None if moment is None else moment.astimezone(timezone.utc).isoformat()


# --------------------------------------------------------------------------- config


def _is_dataclass_instance(obj: Any) -> bool:
    return dataclasses.is_dataclass(obj) and not isinstance(obj, type)


def _attrs_fields(obj: Any) -> tuple[Any, ...] | None:
    fields = getattr(type(obj), "__attrs_attrs__", None)
    return fields if isinstance(fields, tuple) else None


def _public_attributes(obj: Any) -> dict[str, Any]:
    """Class attributes (whole MRO, base first) then instance attributes of a plain object.

    Methods, properties, class/static methods, ``_private`` names and dunders are skipped:
    they are behaviour, not configuration.
    """
    cls = obj if isinstance(obj, type) else type(obj)
    values: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if klass is object:
            continue
        for name, value in vars(klass).items():
            if name.startswith("_"):
                continue
            if isinstance(value, (property, classmethod, staticmethod)):
                continue
            if callable(value) and not isinstance(value, type):
                continue
            values[name] = value
    if not isinstance(obj, type):
        for name, value in getattr(obj, "__dict__", {}).items():
            if not name.startswith("_"):
                values[name] = value
    return values


#: Values recorded by their text: an enum by its name, a path as its string.
_AS_TEXT: tuple[tuple[type, Any], ...] = (
    (enum.Enum, lambda value: value.name),
    (PurePath, str),
    (bytes, lambda value: value.decode("utf-8", "backslashreplace")),
)


def _plain_value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    for kind, as_text in _AS_TEXT:
        if isinstance(value, kind):
            return as_text(value)
    if isinstance(value, Mapping):
        return {
            (k if isinstance(k, (str, int, bool)) else str(k)): _plain_value(v)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [_plain_value(item) for item in items]
    fields = _object_fields(value)
    if fields is not None:
        return {k: _plain_value(v) for k, v in fields.items()}
    # The receipt must always be writable; an odd value is recorded by its text.
    return str(value)


def _object_fields(value: Any) -> dict[str, Any] | None:
    """The fields of a dataclass, attrs or plain config object; None for anything else."""
    if _is_dataclass_instance(value):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    attrs = _attrs_fields(value)
    if attrs is not None:
        return {f.name: getattr(value, f.name) for f in attrs}
    if isinstance(value, type) or (hasattr(value, "__dict__") and not callable(value)):
        return _public_attributes(value)
    return None


def to_plain(config: Any) -> dict[str, Any]:
    """Return a config as a resolved plain dict.

    Args:
        config: A DictConfig (resolved, interpolations included), a dataclass or attrs
            instance, a plain class instance or class (class and instance attributes,
            skipping methods, properties, ``_private`` names and dunders) or a mapping.

    Returns:
        A dict of plain YAML-safe values.

    Raises:
        LockError: The config is not a mapping-like object (e.g. a list) or its
            interpolations cannot be resolved.
    """
    if config is None:
        return {}
    omegaconf = sys.modules.get("omegaconf")
    if omegaconf is not None and isinstance(config, omegaconf.Container):
        from omegaconf import OmegaConf, SCMode
        from omegaconf.errors import OmegaConfBaseException

        from naga.lock.resolvers import register_resolvers

        register_resolvers()
        try:
            container = OmegaConf.to_container(
                config, resolve=True, enum_to_str=True, structured_config_mode=SCMode.DICT
            )
        except OmegaConfBaseException as exc:
            raise LockError(
                f"cannot resolve the config for run.lock: {first_line(exc)}; "
                "fix the interpolation or pass a resolved config"
            ) from exc
        config = container
    plain = _plain_value(config)
    if not isinstance(plain, dict):
        raise LockError(
            f"runlock(config=...): got a {type(config).__name__}, not a mapping-like config; "
            "pass a dict, DictConfig, dataclass or config class instance"
        )
    return plain


def abspath(path: str | PathLike[str]) -> Path:
    """Return ``path`` made absolute against the cwd, ``..`` collapsed, symlinks kept.

    Symlinks are kept on purpose: users refer to results through their links (a scratch
    mount, a ``latest`` link), and relative paths in run.lock should follow the same route.
    """
    return Path(os.path.abspath(os.fspath(path)))  # noqa: PTH100


def _get_key(config: Any, key: str) -> Any:
    if config is None:
        return None
    if isinstance(config, Mapping):  # a DictConfig too
        return config.get(key)
    return getattr(config, key, None)


def lock_path_for(config: Any, runlock_path: str | PathLike[str] | None = None) -> Path:
    """Return where a run.lock goes: ``runlock_path`` or ``<config.save_dir>/run.lock``.

    A ``runlock_path`` naming an existing directory means ``<that dir>/run.lock``. The
    result is absolute (against the current directory), so a later ``chdir`` cannot move it.

    Args:
        config: The run's config (anything :func:`to_plain` accepts) or ``None``.
        runlock_path: An explicit file path, overriding the config's ``save_dir``.

    Returns:
        The absolute path of the run.lock.

    Raises:
        LockError: Neither ``runlock_path`` nor a ``save_dir`` key is available.
    """
    if runlock_path is not None and str(runlock_path) != "":
        path = abspath(runlock_path)
        return path / LOCK_NAME if path.is_dir() else path
    save_dir = _get_key(config, "save_dir")
    if save_dir is None or str(save_dir) == "":
        what = "no config was given" if config is None else "the config has no save_dir key"
        raise LockError(
            f"cannot tell where to write run.lock: {what}; "
            "pass runlock_path='path/to/run.lock' or add a save_dir key to the config"
        )
    return abspath(save_dir) / LOCK_NAME


# ------------------------------------------------------------------ environment etc.

_STATIC_ENV: dict[str, Any] | None = None


def environment(*, packages: bool = True) -> dict[str, Any]:
    """Describe the interpreter and machine: versions, platform, executable, packages.

    Returns:
        The ``environment`` section of a run.lock.
    """
    global _STATIC_ENV
    if _STATIC_ENV is None:
        from naga._version import __version__

        _STATIC_ENV = {
            "naga": __version__,
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            # terse=False asks platform for the libc version, which reads the whole
            # interpreter binary; uname-based terse parts plus libc from confstr are cheap.
            "platform": _platform_string(),
            "executable": sys.executable,
        }
    env = dict(_STATIC_ENV)
    if packages:
        from naga.lock._packages import installed_packages

        env["packages"] = installed_packages()
    return env


def _platform_string() -> str:
    uname = platform.uname()
    text = f"{uname.system}-{uname.release}-{uname.machine}"
    try:
        libc = os.confstr("CS_GNU_LIBC_VERSION")  # e.g. "glibc 2.36"
    except (ValueError, OSError, AttributeError):
        libc = None
    if libc:
        text += "-with-" + libc.replace(" ", "")
    return text


def host() -> str:
    """Return the machine's host name (as ``socket.gethostname()``, without importing socket)."""
    return os.uname().nodename


def error_info(
    error: BaseException | None, signal: Mapping[str, str] | None = None
) -> dict[str, str] | None:
    """Return ``{type, message, traceback}`` of an exception, or ``None``.

    A run stopped by a signal records the signal's name as ``type`` and ``signal``
    (``SIGTERM``; ``SIGINT`` for Ctrl-C), with the stack where it arrived.

    Args:
        signal: ``{name, stack, message}`` when naga's signal handler writes the record.
    """
    name = signal.get("name") if signal else _signal_of(error)
    if name is not None:
        stack = (signal or {}).get("stack") or (
            "".join(traceback.format_tb(error.__traceback__)) if error is not None else ""
        )
        # naga's Interrupted says what became of the run ("... and was requeued").
        said = (signal or {}).get("message") or (
            str(error) if isinstance(error, SystemExit) and signal is None else ""
        )
        return {
            "type": name,
            "signal": name,
            "message": said or f"the run received {name} and stopped",
            "traceback": stack,
        }
    if error is None:
        return None
    cls = type(error)
    name = (
        cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    )
    return {
        "type": name,
        "message": str(error),
        "traceback": "".join(traceback.format_exception(cls, error, error.__traceback__)),
    }


def _signal_of(error: BaseException | None) -> str | None:
    if isinstance(error, KeyboardInterrupt):
        return "SIGINT"
    signum = getattr(error, "signum", None)  # naga.lock.interrupt.Interrupted
    if isinstance(error, SystemExit) and isinstance(signum, int):
        from naga.lock.interrupt import signal_name

        return signal_name(signum)
    return None
