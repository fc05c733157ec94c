"""blake3 hashes of data files and directories, as recorded under ``data:`` in run.lock.

A file's hash is blake3 of its bytes (as ``b3sum``); a directory's is blake3 of a sorted
manifest of ``<hash> <len>:<relpath>\\n`` lines. docs/hashing.md has the full rules (symlinks,
empty directories, errors) and a recipe to recompute a hash. Hashes are cached across
processes (``_cache``); reading (``_read``), walking (``_walk``) and the cold one-pass scan
(``_cold``) are private modules.
"""

# os.* on str paths throughout, like the hot loops in _read and _walk.
# ruff: noqa: PTH109, PTH114, PTH115, PTH116

from __future__ import annotations

import os
import stat
import time
from typing import Any

import blake3  # a small C extension, cheap to import; this module is itself imported lazily

from naga.errors import DataError
from naga.lock.hashing._cache import (
    RACY_WINDOW_NS,
    SMALL_FILE_SIZE,
    DirRow,
    HashCache,
    Key,
    dir_row,
    get_cache,
    is_racy,
    key_of,
    small_entries,
)
from naga.lock.hashing._cold import hash_cold
from naga.lock.hashing._read import hash_uncached, os_error, read_many, special_error
from naga.lock.hashing._walk import Group, format_manifest, relpaths
from naga.lock.hashing._walk import walk as walk_tree

__all__ = ["hash_file", "hash_path"]


def hash_path(path: str | os.PathLike[str], *, use_cache: bool | None = None) -> dict[str, Any]:
    """Hash a data file or directory.

    Args:
        path: The file or directory (symlinks are followed).
        use_cache: Use the persistent hash cache; None (default) means yes unless the
            environment variable ``NAGA_NO_CACHE=1`` is set.

    Returns:
        ``{'kind': 'file'|'dir', 'size': bytes, 'files': count, 'hash': 'blake3:<hex>'}``;
        for a directory, size and files sum over the regular files below it.

    Raises:
        DataError: The path is missing, unreadable, a special file, or a directory
            containing a symlink loop, a dangling symlink or a special file.
    """
    display = os.fspath(path)
    scan_start = time.time_ns()
    st = _stat_root(display)
    cache = get_cache(use_cache)
    if stat.S_ISDIR(st.st_mode):
        digest, size, files = _hash_dir(display, st, cache, scan_start)
        return {"kind": "dir", "size": size, "files": files, "hash": "blake3:" + digest.hex()}
    digest, st = _hash_regular(display, st, cache, scan_start)
    return {"kind": "file", "size": st.st_size, "files": 1, "hash": "blake3:" + digest.hex()}


def hash_file(path: str | os.PathLike[str], *, use_cache: bool | None = None) -> str:
    """Hash one regular file; the hex part equals ``b3sum``'s output.

    Returns:
        ``'blake3:<hex>'``.

    Raises:
        DataError: The path is missing, unreadable, a directory or a special file.
    """
    display = os.fspath(path)
    scan_start = time.time_ns()
    st = _stat_root(display)
    if stat.S_ISDIR(st.st_mode):
        raise DataError(
            f"data path '{display}' is a directory, not a file; hash it with hash_path() "
            "or pass a file"
        )
    digest, _ = _hash_regular(display, st, get_cache(use_cache), scan_start)
    return "blake3:" + digest.hex()


def _stat_root(display: str) -> os.stat_result:
    try:
        st = os.stat(display)
    except FileNotFoundError:
        if os.path.islink(display):
            target = os.readlink(display)
            raise DataError(
                f"data path '{display}' is a dangling symlink to '{target}'; fix or remove the link"
            ) from None
        raise DataError(
            f"data path '{display}' does not exist (relative to {os.getcwd()}); "
            "check the path or create the data first"
        ) from None
    except OSError as exc:
        raise os_error(display, exc) from exc
    if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
        raise special_error(display, st)
    return st


def _hash_regular(
    path: str, st: os.stat_result, cache: HashCache | None, scan_start: int
) -> tuple[bytes, os.stat_result]:
    """Hash one regular file through the cache; returns (digest, the stat it belongs to)."""
    key = key_of(st)
    if cache is not None and not is_racy(key, scan_start):
        found = cache.get_files([key]).get(key)
        if found is not None:
            return found, st
    digest, st = hash_uncached(path, key)
    key = key_of(st)
    if cache is not None and not is_racy(key, scan_start):
        cache.put(files=[(key, digest)])
    return digest, st


# -- directories -------------------------------------------------------------------------


def _hash_dir(
    root: str, root_st: os.stat_result, cache: HashCache | None, scan_start: int
) -> tuple[bytes, int, int]:
    root_id = (root_st.st_dev, root_st.st_ino)
    looked_up = b""  # a fingerprint already looked up in vain
    if cache is None or not cache.seen_root(root_id):
        # Never stored before: nothing to look up for small files, so read the tree in
        # one pass, shared out to worker processes when it is big.
        cold = hash_cold(root, root_st, scan_start, cache is not None)
        if cold is not None:
            if cache is not None:
                tree = (cold.fingerprint, cold.digest, cold.size, cold.files, root_id)
                cache.put(files=cold.file_rows, dirs=cold.dir_rows,
                          tree=tree if cold.cacheable else None)  # fmt: skip
            return cold.digest, cold.size, cold.files
        # A worker met something unusual: the ordinary path below reports it exactly.
    else:
        # Probably unchanged: a lean walk for the fingerprint first.
        walk = walk_tree(root, root_st, keep=False)
        hit = cache.get_tree(walk.fingerprint)
        if hit is not None and hit[1:] == (walk.size, walk.files):
            return hit[0], walk.size, walk.files
        looked_up = walk.fingerprint
    # A miss: walk (again) keeping every record; the tree may have changed in between,
    # and what is hashed and stored below belongs to this walk.
    walk = walk_tree(root, root_st)
    if cache is not None and walk.fingerprint != looked_up:
        # Changed since the lean walk, or reached through another root (a directory of
        # symlinks to stored files) after workers gave up: the result may be stored.
        hit = cache.get_tree(walk.fingerprint)
        if hit is not None and hit[1:] == (walk.size, walk.files):
            cache.put(tree=(walk.fingerprint, hit[0], walk.size, walk.files, root_id))
            return hit[0], walk.size, walk.files
    records, groups = walk.records, walk.groups
    keys: list[Key] = [record[1:] for record in records]
    found: list[bytes | None] = [None] * len(keys)
    if cache is not None:
        known = cache.get_files(
            [key for key in keys if key[2] >= SMALL_FILE_SIZE], [group[2] for group in groups]
        )
        # Racy stamps are never served (nor stored), whatever the cache holds.
        found = [None if is_racy(key, scan_start) else known.get(key) for key in keys]
    missed = [digest is None for digest in found]
    base = root if root.endswith("/") else root + "/"
    rels = relpaths(records, groups)
    cacheable, grown = _fill(base, rels, keys, found)
    digests: list[bytes] = found  # type: ignore[assignment]  # every None was filled
    keyed = [os.fsencode(rel) + b"\0" + d for rel, d in zip(rels, digests, strict=True)]
    digest = blake3.blake3(format_manifest(keyed)).digest()
    size = walk.size + grown
    if cache is not None:
        limit = scan_start - RACY_WINDOW_NS
        stable = [key[3] < limit and key[4] < limit for key in keys]
        big = [
            (key, digests[i])
            for i, key in enumerate(keys)
            if missed[i] and stable[i] and key[2] >= SMALL_FILE_SIZE
        ]
        tree = (walk.fingerprint, digest, size, len(records), root_id)
        cache.put(
            files=big,
            dirs=_changed_dirs(groups, keys, digests, missed, scan_start),
            tree=tree if cacheable and all(stable) else None,
        )
    return digest, size, len(records)


def _changed_dirs(
    groups: list[Group], keys: list[Key], digests: list[bytes], missed: list[bool], scan_start: int
) -> list[DirRow]:
    """New rows for the directories where a small file was not found in the cache."""
    rows = []
    start = 0
    for _, end, ident in groups:
        span = range(start, end)
        if any(missed[i] and keys[i][2] < SMALL_FILE_SIZE for i in span):
            entries = small_entries(((keys[i], digests[i]) for i in span), scan_start)
            rows.append(dir_row(ident, entries))
        start = end
    return rows


def _fill(
    base: str,
    rels: list[str],
    keys: list[Key],
    found: list[bytes | None],
) -> tuple[bool, int]:
    """Hash every file whose digest in ``found`` is None; fill it in, update its key.

    Returns whether the fingerprint still describes what was hashed (no file changed
    since the walk) and by how many bytes files changed size since the walk.
    """
    missing = [i for i, digest in enumerate(found) if digest is None]
    unchanged = True
    grown = 0
    read = read_many([(base + rels[i], keys[i]) for i in missing])
    for i, fast in zip(missing, read, strict=True):
        if fast is not None:
            found[i] = fast
            continue
        # Big, changed, or an error to report: the careful path.
        path = base + rels[i]
        found[i], st = hash_uncached(path, keys[i])
        new_key = key_of(st)
        if new_key != keys[i]:  # changed since the walk: hash right, fingerprint not
            unchanged = False
            grown += new_key[2] - keys[i][2]
            keys[i] = new_key
    return unchanged, grown
