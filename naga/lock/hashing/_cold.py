"""Hashing a directory never hashed before: list, read and stat in one pass, in forked workers.

Private to ``naga.lock.hashing``; docs/hashing.md ("Performance") has the design. Each
file is read with one ``read()`` and ``fstat()``-ed (saving the ``lstat`` of a walk, a
third of a small file's CPU); racy stamps, short reads, large files, errors and symlinks
take ``hash_uncached``'s careful path. Each worker scans a disjoint subtree, whose sorted
manifest lines are contiguous; a large flat directory is read in slices.
"""

# Plain os.* on str paths: this is the per-file hot path.
# ruff: noqa: PTH118

from __future__ import annotations

import os
import stat

import blake3

from naga.lock.hashing._cache import (
    RACY_WINDOW_NS,
    SMALL_FILE_SIZE,
    DirRow,
    Key,
    close_cache,
    dir_row,
    get_cache,
    small_entries,
)
from naga.lock.hashing._read import (
    OPEN_FLAGS,
    hash_uncached,
    os_error,
    single_threaded,
    worker_count,
)
from naga.lock.hashing._walk import (
    TREE_SCHEME,
    Pending,
    Record,
    dir_error,
    fingerprint_chunk,
    format_manifest,
    manifest_line,
    open_dir,
    scan_other,
)

#: The parent scans this many files itself before sharing the rest out to workers; a
#: smaller tree is never worth forking for.
COLD_PARENT_FILES = 5_000
#: A directory with this many files, listed by the parent, is read in slices by the workers.
SLICE_MIN_FILES = 20_000

# A listed entry: the name of a plain file still to read, or the record of a symlinked
# file (stat already taken, read on the careful path).
Item = str | Record
# A directory to read in slices: (its chunk's index in the parent's part, path, prefix,
# (st_dev, st_ino), listed items).
Sliced = tuple[int, str, str, tuple[int, int], list[Item]]
# One slice: (index into the sliced directories, first item, end).
Slice = tuple[int, int, int]


class Cold:
    """The result of a cold scan, with the cache rows it produced."""

    __slots__ = ("cacheable", "digest", "dir_rows", "file_rows", "files", "fingerprint", "size")

    def __init__(self) -> None:
        self.digest = b""
        self.fingerprint = b""
        self.size = 0
        self.files = 0
        self.cacheable = True  # no racy stamp: the fingerprint may key the result
        self.dir_rows: list[DirRow] = []
        self.file_rows: list[tuple[Key, bytes]] = []

    def absorb(self, other: Cold) -> None:
        """Add another share's totals and big-file rows to this one."""
        self.size += other.size
        self.files += other.files
        self.cacheable = self.cacheable and other.cacheable
        self.file_rows += other.file_rows


class Part(Cold):
    """One share of a scan: a worker's subtree, or what the parent scanned itself."""

    __slots__ = ("chunks", "lines")

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[bytes] = []  # fingerprint input, in walk order
        self.lines: list[bytes] = []  # b"relpath\0digest" per file, unsorted


def hash_cold(root: str, root_st: os.stat_result, scan_start: int, use_cache: bool) -> Cold | None:
    """Hash a directory without cache lookups for its small files.

    Returns None when a worker met anything unusual; the caller then hashes the tree on
    the ordinary path, which reports any error exactly. Errors met by the parent itself
    are raised as the ordinary walk raises them.
    """
    workers = worker_count()
    part = Part()
    stack: list[Pending] = [(root, "", ((root_st.st_dev, root_st.st_ino),))]
    sliced: list[Sliced] = []
    seen = 0
    while stack and (seen < COLD_PARENT_FILES or len(stack) < 2 or workers < 2):
        directory, prefix, ancestors = stack.pop()
        items, subdirs = list_dir(root, directory, prefix, ancestors)
        stack += subdirs
        seen += len(items)
        if workers > 1 and len(items) >= SLICE_MIN_FILES:
            sliced.append((len(part.chunks), directory, prefix, ancestors[-1], items))
            part.chunks.append(b"")  # filled in when the slices are back
            continue
        records, digests = read_dir(directory, items, scan_start, use_cache, part)
        finish_dir(part, prefix, ancestors[-1], records, digests, scan_start)
    units = stack[::-1]  # the order one walk would visit them in
    if not units and not sliced:
        return _join(part, [], [])
    step = SLICE_MIN_FILES // 2
    slices = [
        (k, start, min(start + step, len(items)))
        for k, (*_, items) in enumerate(sliced)
        for start in range(0, len(items), step)
    ]
    shares = _run_workers(root, scan_start, use_cache, units, sliced, slices, workers)
    if shares is None:
        return None
    trees, pieces = shares
    for k, (index, _, prefix, ident, _) in enumerate(sliced):
        reads = [read for (of, _, _), read in zip(slices, pieces, strict=True) if of == k]
        records = [record for slice_records, _ in reads for record in slice_records]
        part.chunks[index] = fingerprint_chunk(prefix, records)  # its place in walk order
        entries = b"".join([row[2] for _, piece in reads for row in piece.dir_rows])
        if entries:
            part.dir_rows.append(dir_row(ident, entries))
        for _, piece in reads:
            part.absorb(piece)
            part.lines += piece.lines
    return _join(part, units, trees)


def list_dir(
    root: str, directory: str, prefix: str, ancestors: tuple[tuple[int, int], ...]
) -> tuple[list[Item], list[Pending]]:
    """List a directory in walk order: plain files by name (no stat), other files stat-ed."""
    items: list[Item] = []
    subdirs: list[Pending] = []
    dir_fd = open_dir(root, directory, prefix)
    try:
        with os.scandir(dir_fd) as entries:
            for entry in entries:
                if entry.is_file(follow_symlinks=False):  # d_type: no system call
                    items.append(entry.name)
                else:
                    scan_other(root, directory, prefix, ancestors, entry, items, subdirs)  # type: ignore[arg-type]
    except OSError as exc:
        raise dir_error(root, prefix, exc) from exc
    finally:
        os.close(dir_fd)
    return items, subdirs


def read_dir(
    directory: str, items: list[Item], scan_start: int, use_cache: bool, part: Cold
) -> tuple[list[Record], list[bytes]]:
    """Read and hash listed files; returns their records (stamps after reading) and digests.

    Big files hashed are added to ``part.file_rows``; a racy stamp clears
    ``part.cacheable``.
    """
    limit = scan_start - RACY_WINDOW_NS
    records: list[Record] = []
    digests: list[bytes | None] = []
    careful: list[int] = []
    try:
        dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise os_error(directory, exc) from exc
    try:
        # Hot loop: open, read, fstat, close per small file, and nothing else.
        for item in items:
            if item.__class__ is not str:
                careful.append(len(records))
                records.append(item)  # type: ignore[arg-type]
                digests.append(None)
                continue
            try:
                fd = os.open(item, OPEN_FLAGS, dir_fd=dir_fd)
                try:
                    data = os.read(fd, SMALL_FILE_SIZE)
                    st = os.fstat(fd)
                finally:
                    os.close(fd)
            except OSError:  # the careful path below reports it exactly
                data = None
                try:
                    st = os.stat(item, dir_fd=dir_fd, follow_symlinks=False)
                except OSError as exc:  # gone since it was listed
                    raise os_error(os.path.join(directory, item), exc) from exc
            records.append((item, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
            if (
                data is not None
                and len(data) == st.st_size < SMALL_FILE_SIZE
                and st.st_mtime_ns < limit
                and st.st_ctime_ns < limit
                and stat.S_ISREG(st.st_mode)
            ):
                digests.append(blake3.blake3(data).digest())
            else:
                careful.append(len(records) - 1)
                digests.append(None)
    finally:
        os.close(dir_fd)
    # Big files with settled stamps may be known from another root: one lookup for them.
    cache = get_cache(use_cache) if careful else None
    keys: list[Key] = [records[i][1:] for i in careful]
    big = [key for key in keys if _settled_big(key, limit)]
    known = cache.get_files(big) if cache is not None and big else {}
    for i, key in zip(careful, keys, strict=True):
        name = records[i][0]
        digest = known.get(key)
        if digest is None:
            digest, new_key = _read_careful(os.path.join(directory, name), key, limit, part)
            records[i] = (name, *new_key)
        digests[i] = digest
    return records, digests  # type: ignore[return-value]  # every None was filled


def _settled_big(key: Key, limit: int) -> bool:
    return key[2] >= SMALL_FILE_SIZE and key[3] < limit and key[4] < limit


def _read_careful(path: str, key: Key, limit: int, part: Cold) -> tuple[bytes, Key]:
    """One file off the fast path, read comparing stamps; a big one is kept for the cache."""
    digest, st = hash_uncached(path, key)
    new_key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    if new_key[3] >= limit or new_key[4] >= limit:
        part.cacheable = False
    elif new_key[2] >= SMALL_FILE_SIZE:
        part.file_rows.append((new_key, digest))
    return digest, new_key


def finish_dir(  # noqa: PLR0917  # private
    part: Part,
    prefix: str,
    ident: tuple[int, int],
    records: list[Record],
    digests: list[bytes],
    scan_start: int,
) -> None:
    """Add a read directory to a part: fingerprint chunk, manifest lines, cache row."""
    part.chunks.append(fingerprint_chunk(prefix, records))
    encode = os.fsencode
    part.lines += [
        encode(prefix + record[0]) + b"\0" + digest
        for record, digest in zip(records, digests, strict=True)
    ]
    part.size += sum(record[3] for record in records)
    part.files += len(records)
    pairs = zip([record[1:] for record in records], digests, strict=True)
    if entries := small_entries(pairs, scan_start):
        part.dir_rows.append(dir_row(ident, entries))


def _join(part: Part, units: list[Pending], trees: list[Part]) -> Cold:
    """Join the parent's part with the workers' subtrees into one result."""
    out = Cold()
    # Each of the parent's lines is a block; a subtree's block sorts under its prefix.
    blocks = [(item[:-33], manifest_line(item)) for item in part.lines]
    chunks = part.chunks
    for (_, prefix, _), tree in zip(units, trees, strict=True):
        blocks.append((os.fsencode(prefix), tree.lines[0]))
        chunks += tree.chunks
    blocks.sort()
    out.digest = blake3.blake3(b"".join([block for _, block in blocks])).digest()
    out.fingerprint = blake3.blake3(TREE_SCHEME + b"".join(chunks)).digest()
    for share in (part, *trees):
        out.absorb(share)
        out.dir_rows += share.dir_rows
    return out


# -- worker processes ---------------------------------------------------------------------

# Inherited by forked workers, so that only an index crosses the process boundary:
# (root, scan start, use_cache, subtrees, sliced directories, slices).
_fork_job: tuple[str, int, bool, list[Pending], list[Sliced], list[Slice]] | None = None
# A slice read: its records, and a part with its lines and cache rows.
SliceRead = tuple[list[Record], Part]


def _scan_subtree(index: int) -> Part | None:
    """Worker: scan a whole subtree; None when anything failed (the parent redoes it all)."""
    assert _fork_job is not None
    root, scan_start, use_cache, units, _, _ = _fork_job
    single_threaded()  # big files too are hashed here, on this worker's thread
    part = Part()
    try:
        stack = [units[index]]
        while stack:
            directory, prefix, ancestors = stack.pop()
            items, subdirs = list_dir(root, directory, prefix, ancestors)
            stack += subdirs
            records, digests = read_dir(directory, items, scan_start, use_cache, part)
            finish_dir(part, prefix, ancestors[-1], records, digests, scan_start)
    except Exception:  # errors are reported by the parent's careful walk
        return None
    finally:
        close_cache()  # the connection read_dir may have opened in this worker
    # Sorted here, in parallel: the parent only places the block.
    part.lines = [format_manifest(part.lines)]
    part.chunks = [b"".join(part.chunks)]
    return part


def _read_slice(index: int) -> SliceRead | None:
    """Worker: read one slice of a big directory; None when anything failed.

    Returns the slice's records (the parent fingerprints the whole directory) and a part
    with its manifest lines and its share of the directory's cache row.
    """
    assert _fork_job is not None
    _, scan_start, use_cache, _, sliced, slices = _fork_job
    single_threaded()
    k, start, end = slices[index]
    _, directory, prefix, ident, items = sliced[k]
    part = Part()
    try:
        records, digests = read_dir(directory, items[start:end], scan_start, use_cache, part)
    except Exception:
        return None
    finally:
        close_cache()  # the connection read_dir may have opened in this worker
    finish_dir(part, prefix, ident, records, digests, scan_start)
    part.chunks = []
    return records, part


def _run_workers(  # noqa: PLR0917  # private
    root: str,
    scan_start: int,
    use_cache: bool,
    units: list[Pending],
    sliced: list[Sliced],
    slices: list[Slice],
    workers: int,
) -> tuple[list[Part], list[SliceRead]] | None:
    """Run every subtree and slice in forked workers; None if any failed."""
    global _fork_job
    import multiprocessing
    from concurrent.futures import Future, ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    _fork_job = (root, scan_start, use_cache, units, sliced, slices)
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(
            min(workers, len(units) + len(slices)), mp_context=context
        ) as pool:
            futures: list[Future[Part | SliceRead | None]] = [
                pool.submit(_scan_subtree, i) for i in range(len(units))
            ]
            futures += [pool.submit(_read_slice, i) for i in range(len(slices))]
            done = []
            for future in futures:
                if (result := future.result()) is None:  # the parent redoes it all
                    pool.shutdown(cancel_futures=True)
                    return None
                done.append(result)
    except (OSError, BrokenProcessPool):  # no processes to spare
        return None
    finally:
        _fork_job = None
    return done[: len(units)], done[len(units) :]  # type: ignore[return-value]
