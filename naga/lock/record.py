"""Assemble the fields of a run.lock: config as a plain tree, environment, script, error.

Everything here produces plain YAML-safe values (dicts with scalar keys, lists, str,
int, float, bool, None) so that a written run.lock reads back equal.
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

#: Top-level keys in the order they are written; anything else follows.
FIELD_ORDER: tuple[str, ...] = (
    "naga_lock",
    "run_id",
    "status",
    "started_at",
    "finished_at",
    "duration_s",
    "written_at",
    "command",
    "cwd",
    "host",
    "pid",
    "pid_start",
    "script",
    "launcher",
    "slurm_job_id",
    "slurm_array_job_id",
    "slurm_array_task_id",
    "attempts",
    "extra",
    "error",
    "environment",
    "config",
    "redacted",
    "repos",
    "data",
    "prevs",
    "upstream",
)
#: Sections merged by key across the runlock() calls of one run.
SECTIONS: tuple[str, ...] = ("repos", "data", "prevs", "upstream")
LOCK_NAME = "run.lock"


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


def _plain_value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, Mapping):
        return {
            (k if isinstance(k, (str, int, bool)) else str(k)): _plain_value(v)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [_plain_value(item) for item in items]
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    if _is_dataclass_instance(value):
        return {f.name: _plain_value(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if _attrs_fields(value) is not None:
        return {f.name: _plain_value(getattr(value, f.name)) for f in _attrs_fields(value) or ()}
    if isinstance(value, type) or (hasattr(value, "__dict__") and not callable(value)):
        return {k: _plain_value(v) for k, v in _public_attributes(value).items()}
    # The receipt must always be writable; an odd value is recorded by its text.
    return str(value)


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
                f"Cannot resolve the config for run.lock: {first_line(exc)}. "
                "Fix the interpolation or pass a resolved config."
            ) from exc
        config = container
    plain = _plain_value(config)
    if not isinstance(plain, dict):
        raise LockError(
            f"runlock(config=...) needs a mapping-like config (dict, DictConfig, dataclass or "
            f"config class instance), got {type(config).__name__}."
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
            f"Cannot tell where to write run.lock: {what}. "
            "Pass runlock_path='path/to/run.lock' or add a save_dir key to the config."
        )
    return abspath(save_dir) / LOCK_NAME


# ------------------------------------------------------------------ environment etc.

_STATIC_ENV: dict[str, Any] | None = None


def environment(*, packages: bool = True) -> dict[str, Any]:
    """Describe the interpreter and machine: versions, platform, executable, packages.

    Args:
        packages: Include ``{distribution: version}`` of every installed distribution.

    Returns:
        The ``environment`` section of a run.lock.
    """
    global _STATIC_ENV
    if _STATIC_ENV is None:
        import naga

        _STATIC_ENV = {
            "naga": naga.__version__,
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


def find_git_root(path: Path) -> Path | None:
    """Return the work tree holding ``path`` by looking for ``.git`` upwards.

    A ``.git`` file counts too (submodules, worktrees). Cheap: only ``stat`` calls.
    """
    current = path if path.is_dir() else path.parent
    for candidate in (current, *current.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def error_info(
    error: BaseException | None, signal: Mapping[str, str] | None = None
) -> dict[str, str] | None:
    """Return ``{type, message, traceback}`` of an exception, or ``None``.

    A run stopped by a signal records the signal's name as ``type`` and ``signal``
    (``SIGTERM``; ``SIGINT`` for Ctrl-C), with the stack where it arrived.

    Args:
        error: The exception that ended the run.
        signal: ``{name, stack}`` when naga's signal handler writes the record.
    """
    name = signal.get("name") if signal else _signal_of(error)
    if name is not None:
        stack = (signal or {}).get("stack") or (
            "".join(traceback.format_tb(error.__traceback__)) if error is not None else ""
        )
        # naga's Interrupted says what became of the run ("... and was requeued").
        said = str(error) if isinstance(error, SystemExit) and signal is None else ""
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


def order_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``record`` with its top-level keys in :data:`FIELD_ORDER`, extras last."""
    ordered = {key: record[key] for key in FIELD_ORDER if key in record}
    ordered.update((key, value) for key, value in record.items() if key not in ordered)
    return ordered
