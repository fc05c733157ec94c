"""naga: reproducible computational experiments without ceremony.

The public names are loaded on first use (PEP 562 module ``__getattr__``) so that
``import naga`` stays cheap: Hydra, OmegaConf, MLflow, pygit2, IPython and pandas are only
imported by the tool that needs them.
"""

from __future__ import annotations

import sys
from importlib import import_module

from naga._version import __version__ as __version__

# `typing` (with re and collections behind it) costs ~10 ms at start-up; the only name
# needed from it is TYPE_CHECKING, which type checkers treat as True whatever its source.
TYPE_CHECKING = False

__all__ = ["clicfg", "mlflow_lock", "runlock", "runs", "unsafe_debug"]

_LAZY = {
    "clicfg": "naga.clicfg",
    "mlflow_lock": "naga.tracking.mlflow_lock",
    "runlock": "naga.lock.api",
    "runs": "naga.results.frame",
    "unsafe_debug": "naga.debug",
}

if TYPE_CHECKING:  # pragma: no cover - static names for type checkers and IDEs
    from naga.clicfg import clicfg
    from naga.debug import unsafe_debug
    from naga.lock.api import runlock
    from naga.results.frame import runs
    from naga.tracking.mlflow_lock import mlflow_lock


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'naga' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # cache: later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


# A YAML config may use ${runlock_data:...} before any naga tool ran; if OmegaConf is
# already loaded, registering the resolvers now is free (otherwise naga does it on first use).
if "omegaconf" in sys.modules:  # pragma: no cover - depends on import order
    import_module("naga.lock.resolvers").register_resolvers()
