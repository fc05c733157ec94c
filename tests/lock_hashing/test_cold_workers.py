"""A directory never hashed before is walked and read by forked workers, subtree by subtree.

``COLD_PARENT_FILES`` is lowered so that small trees take that path: the parent scans
only the first few directories itself and hands every pending subtree to a worker;
``SLICE_MIN_FILES`` is lowered so that a directory is read in slices.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import threading
import time
from contextlib import closing
from pathlib import Path

import blake3
import pytest
import strategies
from hypothesis import HealthCheck, given, settings

from naga.errors import DataError
from naga.lock import hashing
from naga.lock.hashing import _cold as _hash_cold
from naga.lock.hashing import hash_path
from naga.lock.hashing._cache import ENTRY, RACY_WINDOW_NS, cache_path
from naga.lock.hashing._read import MMAP_MIN_SIZE
from naga.lock.hashing._walk import walk

# Names chosen to straddle subtree boundaries in the sorted manifest: "a-b" < "a.txt" <
# "a/..." < "a0" byte-wise, and nested subtrees below "a/".
TREE = {
    "a-b": b"1",
    "a.txt": b"2",
    "a0": b"3",
    "a/b/c/deep.bin": b"4" * 300,
    "a/b/c/big.bin": bytes(range(256)) * 300,  # SMALL_FILE_SIZE or more: a row of its own
    "a/b/c.txt": b"5",
    "a/b0/x": b"6",
    "a/z y\nw": b"7",
    "b/\u00fc\u5b9f/one": b"8",
    "b/two": b"",
    **{f"many/d{i}/f{j}": f"{i}.{j}".encode() for i in range(6) for j in range(7)},
}


def manifest_hash(tree: dict[str, bytes]) -> str:
    """An independent implementation of the documented directory scheme."""
    lines = sorted((rel.encode(), blake3.blake3(data).hexdigest()) for rel, data in tree.items())
    manifest = b"".join(b"%s %d:%s\n" % (h.encode(), len(rel), rel) for rel, h in lines)
    return "blake3:" + blake3.blake3(manifest).hexdigest()


def write(root: Path, tree: dict[str, bytes]) -> Path:
    for rel, data in tree.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    (root / "empty" / "dirs").mkdir(parents=True)  # not part of the hash
    return root


can_fork = threading.active_count() == 1 and len(os.sched_getaffinity(0)) > 1
needs_workers = pytest.mark.skipif(not can_fork, reason="needs 2 CPUs and no other thread")


@pytest.fixture(scope="module")
def aged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """TREE with stamps old enough to be cached (one shared wait for the module)."""
    root = write(tmp_path_factory.mktemp("cold") / "data", TREE)
    time.sleep(RACY_WINDOW_NS / 1e9 + 0.2)
    return root


@pytest.fixture
def joins(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Route every directory with pending subtrees to the workers; count the joins."""
    monkeypatch.setattr(_hash_cold, "COLD_PARENT_FILES", 1)
    calls: list[int] = []
    real = _hash_cold._run_workers

    def spy(*args: object) -> object:
        calls.append(1)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(_hash_cold, "_run_workers", spy)
    return calls


@needs_workers
@pytest.mark.parametrize("use_cache", [True, False])
def test_workers_follow_the_scheme(tmp_path: Path, joins: list[int], use_cache: bool) -> None:
    root = write(tmp_path / "d", TREE)
    os.symlink("a/b", root / "link-to-dir")
    os.symlink("a0", root / "link-to-file")
    expected = {
        **TREE,
        **{"link-to-dir/" + rel[4:]: data for rel, data in TREE.items() if rel.startswith("a/b/")},
        "link-to-file": TREE["a0"],
    }
    result = hash_path(root, use_cache=use_cache)
    assert joins == [1]
    assert result["hash"] == manifest_hash(expected)
    assert result["files"] == len(expected)
    assert result["size"] == sum(map(len, expected.values()))


@needs_workers
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=strategies.file_trees(max_files=8, max_depth=4))
def test_workers_agree_with_the_scheme_on_any_tree(tree: dict[str, bytes]) -> None:
    # Random names at random depths: a subtree's manifest lines stay one contiguous block.
    with pytest.MonkeyPatch.context() as patch, tempfile.TemporaryDirectory() as tmp:
        patch.setattr(_hash_cold, "COLD_PARENT_FILES", 0)
        root = strategies.write_tree(Path(tmp) / "d", tree)
        assert hash_path(root, use_cache=False)["hash"] == manifest_hash(tree)


@needs_workers
def test_big_files_in_workers_after_the_parent_used_all_cores(
    tmp_path: Path, joins: list[int]
) -> None:
    # The parent's blake3 thread pool is started first; forked workers must not use it.
    big = os.urandom(2 * MMAP_MIN_SIZE + 5)
    (tmp_path / "warm.bin").write_bytes(big)
    hash_path(tmp_path / "warm.bin")
    tree = {**TREE, "many/d2/big.bin": big, "b/big2.bin": big[::-1]}
    root = write(tmp_path / "d", tree)
    assert hash_path(root)["hash"] == manifest_hash(tree)
    assert joins == [1]


@needs_workers
def test_worker_results_are_cached_under_the_ordinary_fingerprint(
    aged: Path, joins: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = hash_path(aged)
    assert joins == [1]
    assert first["hash"] == manifest_hash(TREE)
    with closing(sqlite3.connect(cache_path())) as conn:
        # The small files share one row per directory; the one big file has its own row.
        entries = conn.execute("SELECT sum(length(entries)) FROM dirs").fetchone()[0]
        assert entries == (len(TREE) - 1) * ENTRY.size
        with_small_files = {os.path.dirname(rel) for rel in TREE if rel != "a/b/c/big.bin"}
        assert conn.execute("SELECT count(*) FROM dirs").fetchone()[0] == len(with_small_files)
        assert conn.execute("SELECT count(*) FROM files").fetchone()[0] == 1
        stored = conn.execute("SELECT fp FROM trees").fetchall()
    # The joined fingerprint is the one a single walk computes: the next call is a hit.
    assert stored == [(walk(str(aged), os.stat(aged)).fingerprint,)]

    def no_reading(*args: object) -> None:
        raise AssertionError("an unchanged tree was read again")

    monkeypatch.setattr(hashing, "read_many", no_reading)
    monkeypatch.setattr(hashing, "hash_uncached", no_reading)
    assert hash_path(aged) == first


@needs_workers
def test_edit_after_worker_hash_is_seen(tmp_path: Path, joins: list[int]) -> None:
    root = write(tmp_path / "d", TREE)
    before = hash_path(root)["hash"]
    (root / "many/d3/f2").write_bytes(b"changed")
    after = hash_path(root)["hash"]
    assert before != after == manifest_hash({**TREE, "many/d3/f2": b"changed"})


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda r: os.symlink("nowhere", r / "many/d4/bad"), "dangling symlink 'many/d4/bad'"),
        (lambda r: os.mkfifo(r / "a/b/c/pipe"), "is a fifo (named pipe)"),
        (lambda r: os.symlink("../..", r / "a/b/up"), "symlink loop: 'a/b/up'"),
    ],
)
def test_errors_in_a_worker_read_as_without_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make, message: str
) -> None:
    root = write(tmp_path / "d", TREE)
    make(root)
    with pytest.raises(DataError) as sequential:
        hash_path(root)
    monkeypatch.setattr(_hash_cold, "COLD_PARENT_FILES", 1)
    with pytest.raises(DataError) as parallel:
        hash_path(root)
    assert message in str(parallel.value)
    assert str(parallel.value) == str(sequential.value)


def test_small_trees_are_not_forked_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write(tmp_path / "d", TREE)

    def no_workers(*args: object) -> None:
        raise AssertionError("forked for a tree below COLD_PARENT_FILES")

    monkeypatch.setattr(_hash_cold, "_run_workers", no_workers)
    assert hash_path(root)["hash"] == manifest_hash(TREE)


@needs_workers
def test_a_big_flat_directory_is_read_in_slices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flat = {f"flat/f{i:03}": f"{i}".encode() * (i % 4) for i in range(50)}
    tree = {**TREE, **flat, "flat/sub/x": b"below the sliced directory"}
    root = write(tmp_path / "d", tree)
    monkeypatch.setattr(_hash_cold, "SLICE_MIN_FILES", 20)
    slices: list[int] = []
    run = _hash_cold._run_workers

    def spy(*args: object) -> object:
        slices.append(len(args[5]))  # type: ignore[arg-type]
        return run(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(_hash_cold, "_run_workers", spy)
    assert hash_path(root, use_cache=False)["hash"] == manifest_hash(tree)
    assert slices == [5]  # 50 files in slices of 10 ("sub" is a subtree of its own)


@needs_workers
def test_sliced_directory_results_are_cached_under_the_ordinary_fingerprint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write(tmp_path / "d", {f"f{i:03}": b"x" * i for i in range(60)})
    time.sleep(RACY_WINDOW_NS / 1e9 + 0.2)
    monkeypatch.setattr(_hash_cold, "SLICE_MIN_FILES", 20)
    first = hash_path(root)
    with closing(sqlite3.connect(cache_path())) as conn:
        stored = conn.execute("SELECT fp FROM trees").fetchall()
        assert conn.execute("SELECT length(entries) FROM dirs").fetchall() == [(60 * ENTRY.size,)]
    assert stored == [(walk(str(root), os.stat(root)).fingerprint,)]
    assert first["hash"] == manifest_hash({f"f{i:03}": b"x" * i for i in range(60)})


def test_after_one_edit_only_that_file_is_read_again(
    aged: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows written by a cold scan serve every unchanged file of an edited tree."""
    hash_path(aged)
    (aged / "many/d3/f2").write_bytes(b"edited")
    read: list[str] = []
    real = hashing.read_many

    def spy(items: list[tuple[str, object]]) -> object:
        read.extend(os.path.relpath(path, aged) for path, _ in items)
        return real(items)  # type: ignore[arg-type]

    monkeypatch.setattr(hashing, "read_many", spy)
    try:
        assert hash_path(aged)["hash"] == manifest_hash({**TREE, "many/d3/f2": b"edited"})
        assert read == ["many/d3/f2"]
    finally:
        (aged / "many/d3/f2").write_bytes(TREE["many/d3/f2"])


def test_a_file_gone_between_listing_and_reading_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write(tmp_path / "d", TREE)
    real = _hash_cold.list_dir

    def list_then_delete(*args: str) -> object:
        items, subdirs = real(*args)  # type: ignore[arg-type]
        if "a0" in items:
            (root / "a0").unlink()
        return items, subdirs

    monkeypatch.setattr(_hash_cold, "list_dir", list_then_delete)
    with pytest.raises(DataError, match=r"data path '.*/d/a0' vanished while it was being hashed"):
        hash_path(root)


@pytest.mark.parametrize("forked_workers", [False, True])
def test_a_file_rewritten_while_read_is_read_again(
    aged: Path, monkeypatch: pytest.MonkeyPatch, forked_workers: bool
) -> None:
    """Rewritten between read() and fstat(), old mtime put back: the new ctime is seen.

    A cold scan trusts a read only when the stamps after it predate the racy window; the
    bytes already read are the old content, so trusting them would hash the wrong file.
    """
    target = aged / "many/d4/f1"
    before = target.stat()
    new = b"X" * len(TREE["many/d4/f1"])
    real_fstat = os.fstat
    rewritten: list[int] = []

    def fstat_after_a_rewrite(fd: int) -> os.stat_result:
        st = real_fstat(fd)
        if (st.st_dev, st.st_ino) == (before.st_dev, before.st_ino) and not rewritten:
            rewritten.append(1)
            target.write_bytes(new)
            os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
            st = real_fstat(fd)
        return st

    monkeypatch.setattr(os, "fstat", fstat_after_a_rewrite)  # inherited by forked workers
    monkeypatch.setattr(_hash_cold, "COLD_PARENT_FILES", 1 if forked_workers else 10**9)
    try:
        assert hash_path(aged, use_cache=False)["hash"] == manifest_hash(
            {**TREE, "many/d4/f1": new}
        )
    finally:
        target.write_bytes(TREE["many/d4/f1"])
