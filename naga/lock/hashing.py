"""blake3 hashes of data files and directories, as recorded under ``data:`` in run.lock.

A file's hash is plain blake3 of its bytes, the same hex digest ``b3sum`` prints. A
directory's hash is blake3 of a manifest with one line per regular file below it::

    <file hash, 64 hex digits> <byte length of relpath>:<relpath>\\n

sorted by the bytes of ``relpath`` (POSIX separators, relative to the directory). The
length prefix makes names with spaces or newlines unambiguous. Symlinks are followed (a
link to a shared dataset counts as that dataset's files under the link's name); empty
directories are not part of the hash, like git; symlink loops, dangling links and special
files (fifos, sockets, devices) are errors. docs/hashing.md has the full rules and a
recipe to recompute a hash with ``find`` and ``b3sum``.

Hashes are cached across processes (see ``naga.lock._hash_cache``): an unchanged tree is
re-hashed for little more than the cost of listing it.
"""

# The hot loops use os.* on str paths: pathlib objects would cost more than the syscalls.
# ruff: noqa: PTH109, PTH114, PTH115, PTH116, PTH118

from __future__ import annotations

import errno
import marshal
import os
import stat
import time
from typing import Any

import blake3  # a small C extension, cheap to import; this module is itself imported lazily

from naga.errors import DataError
from naga.lock._hash_cache import HashCache, Key, get_cache, is_racy, key_of

__all__ = ["hash_file", "hash_path"]

#: Files at least this big are memory-mapped and hashed on all cores (what b3sum does);
#: smaller ones are read with a single read() call, which is cheaper than a mapping.
MMAP_MIN_SIZE = 1 << 20
_TREE_SCHEME = b"naga-tree-v1\0"  # versions the directory-fingerprint cache key
_OPEN_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NOCTTY | os.O_NONBLOCK  # never block on a fifo
_ATTEMPTS = 3


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
    digest, st = _hash_regular(display, display, st, cache, scan_start)
    return {"kind": "file", "size": st.st_size, "files": 1, "hash": "blake3:" + digest.hex()}


def hash_file(path: str | os.PathLike[str], *, use_cache: bool | None = None) -> str:
    """Hash one regular file; the hex part equals ``b3sum``'s output.

    Args:
        path: The file (a symlink is followed).
        use_cache: As for :func:`hash_path`.

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
    digest, _ = _hash_regular(display, display, st, get_cache(use_cache), scan_start)
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
        raise _os_error(display, exc) from exc
    if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
        raise _special(display, st)
    return st


def _special(display: str, st: os.stat_result) -> DataError:
    kind = (
        "a fifo (named pipe)"
        if stat.S_ISFIFO(st.st_mode)
        else "a socket"
        if stat.S_ISSOCK(st.st_mode)
        else "a device"
        if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
        else "not a regular file"
    )
    return DataError(
        f"data path '{display}' is {kind}, which naga does not hash; "
        "remove it from the data directory or list regular files in data="
    )


def _os_error(display: str, exc: OSError) -> DataError:
    if exc.errno == errno.ELOOP:
        return DataError(
            f"data path '{display}' is a symlink loop (too many levels of symbolic links); "
            "fix or remove the link"
        )
    if isinstance(exc, PermissionError):
        return DataError(
            f"data path '{display}' cannot be read (permission denied); "
            "fix its permissions (chmod u+rX) or leave it out of data="
        )
    if isinstance(exc, FileNotFoundError):
        return DataError(
            f"data path '{display}' vanished while it was being hashed; "
            "wait until whatever writes the data has finished"
        )
    reason = exc.strerror or type(exc).__name__
    return DataError(f"data path '{display}' cannot be read ({reason}); check the file system")


# -- files -------------------------------------------------------------------------------


def _read_digest(path: str, size: int) -> tuple[bytes, os.stat_result] | None:
    """Hash the file's bytes; return (digest, stat after reading), None if it was no file.

    The caller compares the returned stat with the one it expected: if they differ, the
    file changed while being read and the digest must not be trusted.
    """
    fd = os.open(path, _OPEN_FLAGS)
    try:
        try:
            if size < MMAP_MIN_SIZE:
                data = os.read(fd, size + 1)
                if len(data) > size:  # it grew since the stat: caller retries
                    return None
                digest = blake3.blake3(data).digest()
            else:
                import mmap

                # Like b3sum: a mapping lets blake3 hash on every core without copying.
                with mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as mapped:
                    hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
                    hasher.update(mapped)
                    digest = hasher.digest()
        except (BlockingIOError, IsADirectoryError, ValueError):
            # A fifo/directory swapped in after the stat, or an mmap of a truncated file.
            return None
        return digest, os.fstat(fd)
    finally:
        os.close(fd)


def _read_small(path: str, key: Key) -> bytes | None:
    """Fast path for the common case, a small file unchanged since the walk; else None."""
    if key[2] >= MMAP_MIN_SIZE:
        return None
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError:
        return None
    try:
        data = os.read(fd, key[2] + 1)
        st = os.fstat(fd)
    except OSError:
        return None
    finally:
        os.close(fd)
    if (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns) != key or len(
        data
    ) != key[2]:
        return None
    return blake3.blake3(data).digest()


def _hash_regular(
    path: str, display: str, st: os.stat_result, cache: HashCache | None, scan_start: int
) -> tuple[bytes, os.stat_result]:
    """Hash one regular file through the cache; returns (digest, the stat it belongs to)."""
    key = key_of(st)
    if cache is not None and not is_racy(key, scan_start):
        found = cache.get_files([key]).get(key)
        if found is not None:
            return found, st
    digest, st = _hash_uncached(path, display, st)
    key = key_of(st)
    if cache is not None and not is_racy(key, scan_start):
        cache.put_files([(key, digest)])
    return digest, st


def _hash_uncached(path: str, display: str, st: os.stat_result) -> tuple[bytes, os.stat_result]:
    """Read and hash a file whose stat is ``st``, retrying if it changes meanwhile."""
    for _ in range(_ATTEMPTS):
        try:
            result = _read_digest(path, st.st_size)
        except OSError as exc:
            raise _os_error(display, exc) from exc
        if result is not None and key_of(result[1]) == key_of(st):
            return result
        try:
            st = os.stat(path)
        except OSError as exc:
            raise _os_error(display, exc) from exc
        if not stat.S_ISREG(st.st_mode):
            raise _special(display, st)
    raise DataError(
        f"data file '{display}' kept changing while it was being hashed; "
        "wait until whatever writes it has finished"
    )


# -- directories -------------------------------------------------------------------------

# One walked file: (name, st_dev, st_ino, st_size, st_mtime_ns, st_ctime_ns). Names, not
# relative paths, keep the hot loop lean; ``groups`` maps records back to directories.
_Record = tuple[str, int, int, int, int, int]
# (relative directory path with a trailing "/" or "", index one past its last record).
_Group = tuple[str, int]


def _walk(root: str, root_st: os.stat_result) -> tuple[list[_Record], list[_Group]]:
    """List every regular file below ``root`` (following symlinks) with its stamps."""
    records: list[_Record] = []
    groups: list[_Group] = []
    append = records.append
    stack: list[tuple[str, str, tuple[tuple[int, int], ...]]] = [
        (root, "", ((root_st.st_dev, root_st.st_ino),))
    ]
    while stack:
        directory, prefix, ancestors = stack.pop()
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    # Hot loop: a plain file costs one lstat() and a tuple, nothing else.
                    if entry.is_file(follow_symlinks=False):
                        st = entry.stat()  # not a symlink, so this is the lstat
                        append(
                            (
                                entry.name,
                                st.st_dev,
                                st.st_ino,
                                st.st_size,
                                st.st_mtime_ns,
                                st.st_ctime_ns,
                            )
                        )
                        continue
                    rel = prefix + entry.name
                    link = entry.is_symlink()
                    try:
                        st = entry.stat(follow_symlinks=True)
                    except FileNotFoundError:
                        if not link:
                            raise
                        target = os.readlink(entry.path)
                        raise DataError(
                            f"data directory '{root}' contains a dangling symlink '{rel}' -> "
                            f"'{target}'; fix or remove the link"
                        ) from None
                    except OSError as exc:
                        raise _os_error(os.path.join(root, rel), exc) from exc
                    if stat.S_ISREG(st.st_mode):
                        append(
                            (
                                entry.name,
                                st.st_dev,
                                st.st_ino,
                                st.st_size,
                                st.st_mtime_ns,
                                st.st_ctime_ns,
                            )
                        )
                    elif stat.S_ISDIR(st.st_mode):
                        ident = (st.st_dev, st.st_ino)
                        if ident in ancestors:
                            raise _loop_error(root, rel, entry.path, link)
                        stack.append((entry.path, rel + "/", (*ancestors, ident)))
                    else:
                        raise _special(os.path.join(root, rel), st)
        except DataError:
            raise
        except OSError as exc:
            where = os.path.join(root, prefix) if prefix else root
            raise _os_error(where, exc) from exc
        groups.append((prefix, len(records)))
    return records, groups


def _relpaths(records: list[_Record], groups: list[_Group]) -> list[str]:
    """The relative POSIX path of every record, in record order."""
    rels: list[str] = []
    start = 0
    for prefix, end in groups:
        rels.extend(prefix + record[0] for record in records[start:end])
        start = end
    return rels


def _loop_error(root: str, rel: str, path: str, link: bool) -> DataError:
    target = f" -> '{os.readlink(path)}'" if link else ""
    return DataError(
        f"data directory '{root}' contains a symlink loop: '{rel}'{target} leads back to "
        "a directory it is inside of; remove the link or list the data subdirectories "
        "explicitly"
    )


def _hash_dir(
    root: str, root_st: os.stat_result, cache: HashCache | None, scan_start: int
) -> tuple[bytes, int, int]:
    records, groups = _walk(root, root_st)
    size = sum(record[3] for record in records)
    fingerprint = b""
    if cache is not None:
        # Every file's path and stamps, in walk order: if all are unchanged (and were not
        # racy when stored), so is the directory hash.
        # marshal version 2 is a type-tagged, length-prefixed encoding without the
        # identity-dependent back-references of later versions, so equal lists give equal
        # bytes; it is several times faster than repr() here.
        fingerprint = blake3.blake3(_TREE_SCHEME + marshal.dumps((groups, records), 2)).digest()
        hit = cache.get_tree(fingerprint)
        if hit is not None and hit[1:] == (size, len(records)):
            return hit[0], size, len(records)

    keys: list[Key] = [record[1:] for record in records]  # type: ignore[misc]
    # Racy stamps are never served (nor stored), whatever the cache holds.
    known = (
        cache.get_files([key for key in keys if not is_racy(key, scan_start)])
        if cache is not None
        else {}
    )
    base = root if root.endswith("/") else root + "/"
    rels = _relpaths(records, groups)
    digests: list[bytes] = []
    fresh: list[tuple[Key, bytes]] = []
    all_cacheable = True
    for rel, key in zip(rels, keys, strict=True):
        digest = known.get(key)
        if digest is None:
            path = base + rel
            new_key = key
            digest = _read_small(path, key)
            if digest is None:  # big, changed, or an error to report: the careful path
                digest, new_st = _hash_uncached(path, path, _stat_like(key))
                new_key = key_of(new_st)
                if new_key != key:  # changed since the walk: hash right, fingerprint not
                    all_cacheable = False
                    size += new_key[2] - key[2]
            if is_racy(new_key, scan_start):
                all_cacheable = False
            else:
                fresh.append((new_key, digest))
        digests.append(digest)
    manifest = _manifest(rels, digests)
    digest = blake3.blake3(manifest).digest()
    if cache is not None:
        cache.put_files(fresh)
        if all_cacheable and not any(is_racy(key, scan_start) for key in keys):
            cache.put_tree(fingerprint, digest, size, len(records))
    return digest, size, len(records)


class _StatLike:
    """The few stat fields _hash_uncached reads, rebuilt from a walk record's key."""

    __slots__ = ("st_ctime_ns", "st_dev", "st_ino", "st_mode", "st_mtime_ns", "st_size")

    def __init__(self, key: Key) -> None:
        self.st_dev, self.st_ino, self.st_size, self.st_mtime_ns, self.st_ctime_ns = key
        self.st_mode = stat.S_IFREG


def _stat_like(key: Key) -> os.stat_result:
    return _StatLike(key)  # type: ignore[return-value]


def _manifest(rels: list[str], digests: list[bytes]) -> bytes:
    """The canonical manifest: ``<hex> <len>:<relpath>\\n`` sorted by relpath bytes."""
    lines = sorted(zip(map(os.fsencode, rels), digests, strict=True))
    return b"".join(b"%s %d:%s\n" % (digest.hex().encode(), len(rel), rel) for rel, digest in lines)
