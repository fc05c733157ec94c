"""Where naga keeps its caches, and whether they are used (``NAGA_CACHE_DIR``, ``NAGA_NO_CACHE``).

Shared by the hash cache and the installed-packages cache, so that both read the two
variables alike. Only the standard library is imported at the top: this runs on every
run.lock write.
"""

from __future__ import annotations

import os
from pathlib import Path

from naga.errors import ConfigError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def cache_dir() -> Path:
    """Return naga's cache directory: ``$NAGA_CACHE_DIR``, else the platform user cache dir."""
    directory = os.environ.get("NAGA_CACHE_DIR")
    if not directory:
        from platformdirs import user_cache_dir

        directory = user_cache_dir("naga", appauthor=False)
    return Path(directory).expanduser()


def cache_enabled(use_cache: bool | None) -> bool:
    """Decide whether to use the caches: an explicit argument wins over ``NAGA_NO_CACHE``."""
    if use_cache is not None:
        return use_cache
    raw = os.environ.get("NAGA_NO_CACHE", "")
    value = raw.strip().lower()
    if value in _TRUE:
        return False
    if value in _FALSE:
        return True
    raise ConfigError(
        f"NAGA_NO_CACHE={raw!r} is not understood; set it to 1 to disable naga's caches "
        "or unset it (or 0) to use them"
    )
