"""OmegaConf resolvers that let a YAML config declare its data and upstream stages.

``${runlock_data:path}`` and ``${runlock_prev:path}`` resolve to the path unchanged and
remember it, so ``runlock()`` hashes the data and embeds the upstream run.locks without
the script listing them again. The declarations live in a ``ContextVar`` so runs in
threads do not mix them; clicfg calls :func:`reset_declared` when it opens a run.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar
from typing import Any

_DATA = "runlock_data"
_PREV = "runlock_prev"

_GLOBAL: dict[str, dict[str, str]] = {"data": {}, "prevs": {}}
_CURRENT: ContextVar[dict[str, dict[str, str]] | None] = ContextVar("naga_declared", default=None)
_REGISTER_LOCK = threading.Lock()


def _store() -> dict[str, dict[str, str]]:
    store = _CURRENT.get()
    return _GLOBAL if store is None else store


def _declare(kind: str, path: Any) -> str:
    text = str(path)
    _store()[kind][text] = text
    return text


def _data_resolver(path: Any) -> str:
    return _declare("data", path)


def _prev_resolver(path: Any) -> str:
    return _declare("prevs", path)


def register_resolvers() -> None:
    """Register the ``runlock_data`` and ``runlock_prev`` OmegaConf resolvers (idempotent)."""
    from omegaconf import OmegaConf

    with _REGISTER_LOCK:
        for name, func in ((_DATA, _data_resolver), (_PREV, _prev_resolver)):
            if not OmegaConf.has_resolver(name):
                # use_cache=False: every resolution declares again, so a reset between runs
                # followed by resolving the same config still records the paths.
                OmegaConf.register_new_resolver(name, func, use_cache=False)


def declared() -> dict[str, dict[str, str]]:
    """Return the paths declared by the resolvers in this run: ``{"data": {...}, "prevs": {...}}``.

    Keys and values are the paths as written in the config.
    """
    store = _store()
    return {"data": dict(store["data"]), "prevs": dict(store["prevs"])}


def reset_declared() -> None:
    """Forget the declared paths and start a fresh set for the current context (a new run)."""
    _CURRENT.set({"data": {}, "prevs": {}})
