"""Versions of the installed distributions, cached across processes.

Listing them reads one METADATA file per package (~50-80 ms in a big environment, paid by
every run). The answer changes only when the set of ``*.dist-info`` names on ``sys.path``
changes, so it is cached keyed on the interpreter and those names. Directory mtimes are
*not* used: ``sys.path[0]`` is the script's directory, whose mtime changes with every output.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import zlib
from pathlib import Path

from naga.lock._cache_dir import cache_dir, cache_enabled
from naga.lock.atomic import write_atomic


def _entry_parts(entry: str) -> list[str]:
    parts = [f"@{entry}"]
    try:
        with os.scandir(entry or ".") as items:
            for item in items:
                if item.name.endswith(".dist-info"):
                    parts.append(item.name)
                elif item.name.endswith(".egg-info"):
                    # setup.py-develop style metadata has no version in its name.
                    parts.append(f"{item.name}\0{item.stat().st_mtime_ns}")
    except NotADirectoryError:
        with contextlib.suppress(OSError):
            parts.append(str(Path(entry).stat().st_mtime_ns))  # a zip or egg file
    except OSError:
        pass
    parts[1:] = sorted(parts[1:])
    return parts


def _path_key() -> str:
    parts = [sys.executable, sys.version]
    for entry in sys.path:
        parts.extend(_entry_parts(entry))
    return "\n".join(parts)


def scan_packages() -> dict[str, str]:
    """Return ``{distribution name: version}`` of every installed distribution, sorted."""
    from importlib.metadata import distributions

    found: dict[str, str] = {}
    for dist in distributions():
        name = dist.metadata["Name"] if dist.metadata else None
        # The first distribution on sys.path wins, as it does for imports.
        if name and name not in found:
            found[name] = dist.version
    return dict(sorted(found.items(), key=lambda item: item[0].lower()))


#: This process's last answer, checked by stamps only: the sys.path directories' mtimes (a
#: `%pip install` in a notebook changes site-packages) and the cache file's own stat. A run
#: writes its receipt at least twice and a sweep runs many jobs in one process; listing
#: every site-packages entry again for each write is most of the environment's cost.
_MEMO: tuple[tuple[object, ...], Path, tuple[int, int], dict[str, str]] | None = None


def _path_stamps() -> tuple[object, ...]:
    stamps: list[object] = [str(cache_dir())]
    for entry in sys.path:
        try:
            stamps.append((entry, Path(entry or ".").stat().st_mtime_ns))
        except OSError:
            stamps.append((entry, -1))
    return tuple(stamps)


def _file_stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def installed_packages(*, use_cache: bool | None = None) -> dict[str, str]:
    """Return the installed distributions, from the cache when ``sys.path`` is unchanged.

    Args:
        use_cache: Force the cache on or off; by default it is on unless ``NAGA_NO_CACHE=1``.

    Returns:
        ``{distribution name: version}``.
    """
    global _MEMO
    if not cache_enabled(use_cache):
        return scan_packages()
    stamps = _path_stamps()
    if _MEMO is not None and _MEMO[0] == stamps and _file_stamp(_MEMO[1]) == _MEMO[2]:
        return dict(_MEMO[3])
    path, packages = _cached_packages()
    stamp = _file_stamp(path)
    _MEMO = (stamps, path, stamp, packages) if stamp is not None else None
    return dict(packages)


def _cached_packages() -> tuple[Path, dict[str, str]]:
    """The cache file for this sys.path, and the packages it holds (scanned on a miss)."""
    key = _path_key()
    # The file name is a cheap checksum of the key; the full key inside settles collisions.
    name = f"{zlib.crc32(key.encode('utf-8', 'surrogateescape')):08x}.json"
    path = cache_dir() / "packages" / name
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(cached, dict) and cached.get("key") == key:
            return path, dict(cached["packages"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    packages = scan_packages()
    # A cache that cannot be written (read-only home on a cluster node) only costs time.
    with contextlib.suppress(OSError):
        write_atomic(path, json.dumps({"key": key, "packages": packages}))
    return path, packages
