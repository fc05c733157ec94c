"""The persistent hash cache: never stale, racy stamps, location, disabling, corruption."""

from __future__ import annotations

import gc
import os
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import blake3
import pytest

from naga.errors import ConfigError
from naga.lock.hashing import _cache as _hash_cache
from naga.lock.hashing import hash_file, hash_path
from naga.lock.hashing._cache import RACY_WINDOW_NS, CacheWarning, cache_path
from naga.lock.sqlite_cache import mount_fs_type

AGED = {
    "file": {"f.bin": b"A" * 1000},
    "dir": {f"part-{i}/x{j}.txt": f"{i}-{j}".encode() for i in range(3) for j in range(4)},
    "dir2": {"a": b"1", "b/c": b"2"},
    "big": {"big.bin": os.urandom(3 * 2**20)},
}


@pytest.fixture(scope="module")
def aged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Trees whose stamps are old enough to be cached (one shared wait for the module)."""
    base = tmp_path_factory.mktemp("aged")
    for name, tree in AGED.items():
        for rel, data in tree.items():
            target = base / name / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    time.sleep(RACY_WINDOW_NS / 1e9 + 0.2)
    return base


def b3sum(path: Path) -> str:
    out = subprocess.run(
        ["b3sum", "--no-names", str(path)], capture_output=True, text=True, check=False
    )
    return "blake3:" + out.stdout.strip()


def rows(table: str) -> int:
    with closing(sqlite3.connect(cache_path())) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def entries() -> int:
    """File entries in directory rows."""
    with closing(sqlite3.connect(cache_path())) as conn:
        size = conn.execute("SELECT sum(length(entries)) FROM dirs").fetchone()[0] or 0
    return size // _hash_cache.ENTRY.size


def rewrite_keeping_mtime(path: Path, data: bytes) -> None:
    before = path.stat()
    path.write_bytes(data)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def test_fresh_files_are_not_cached(tmp_path: Path) -> None:
    (tmp_path / "new.txt").write_text("just written")
    hash_path(tmp_path)
    assert cache_path().exists()
    assert rows("files") == entries() == 0
    assert rows("trees") == 0


def test_content_change_with_restored_mtime_gives_new_hash(aged: Path) -> None:
    path = aged / "file" / "f.bin"
    old = hash_file(path)
    assert rows("files") == 1
    assert hash_file(path) == old  # served from the cache
    rewrite_keeping_mtime(path, b"B" * 1000)
    new = hash_file(path)
    assert new == b3sum(path)
    assert new != old


def test_big_file_content_change_with_restored_mtime(aged: Path) -> None:
    path = aged / "big" / "big.bin"
    old = hash_path(path)["hash"]
    data = bytearray(path.read_bytes())
    data[2**20 + 5] ^= 0xFF
    rewrite_keeping_mtime(path, bytes(data))
    assert hash_path(path)["hash"] == b3sum(path) != old


def test_directory_cache_is_never_stale(aged: Path) -> None:
    root = aged / "dir"
    first = hash_path(root)
    assert rows("trees") == 1
    assert entries() == len(AGED["dir"])
    assert rows("dirs") == 3  # one per directory holding files
    assert hash_path(root) == first
    target = root / "part-1" / "x2.txt"
    rewrite_keeping_mtime(target, b"9-9")
    changed = hash_path(root)
    assert changed["hash"] != first["hash"]
    assert changed == hash_path(root, use_cache=False)
    rewrite_keeping_mtime(target, b"1-2")
    assert hash_path(root)["hash"] == first["hash"]


def test_directory_add_remove_rename_through_cache(aged: Path) -> None:
    root = aged / "dir2"
    first = hash_path(root)["hash"]
    (root / "added").write_bytes(b"")
    added = hash_path(root)["hash"]
    (root / "added").unlink()
    assert hash_path(root)["hash"] == first
    (root / "a").rename(root / "a2")
    renamed = hash_path(root)["hash"]
    assert len({first, added, renamed}) == 3
    assert renamed == hash_path(root, use_cache=False)["hash"]


def test_no_cache_env_disables_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NAGA_NO_CACHE", "1")
    (tmp_path / "f").write_bytes(b"x")
    assert hash_file(tmp_path / "f") == b3sum(tmp_path / "f")
    hash_path(tmp_path)
    assert not cache_path().exists()
    hash_path(tmp_path, use_cache=True)  # an explicit argument wins over the environment
    assert cache_path().exists()


def test_cache_dir_env_moves_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NAGA_CACHE_DIR", str(tmp_path / "my cache ü"))
    (tmp_path / "f").write_bytes(b"x")
    hash_path(tmp_path / "f")
    assert (tmp_path / "my cache ü" / "hashes.sqlite").is_file()


def test_default_location_is_user_cache_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NAGA_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_path() == tmp_path / "xdg" / "naga" / "hashes.sqlite"


def test_bad_no_cache_value_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NAGA_NO_CACHE", "maybe")
    with pytest.raises(ConfigError, match=r"^NAGA_NO_CACHE='maybe' is not understood; set it to 1"):
        hash_path(tmp_path)


def test_corrupt_cache_warns_once_and_is_recreated(
    aged: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_hash_cache, "_warned", False)
    path = cache_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not an sqlite database" * 200)
    target = aged / "dir2" / "b" / "c"
    expected = "blake3:" + blake3.blake3(AGED["dir2"]["b/c"]).hexdigest()
    with pytest.warns(CacheWarning, match=r"hashes\.sqlite is unusable .*recreating it"):
        assert hash_file(target) == expected
    assert rows("files") == 1  # the new cache works
    assert hash_file(target) == expected
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_unusable_cache_location_falls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_hash_cache, "_warned", False)
    (tmp_path / "a file").write_bytes(b"x")
    monkeypatch.setenv("NAGA_CACHE_DIR", str(tmp_path / "a file" / "cache"))
    with pytest.warns(CacheWarning, match=r"cannot be created .*hashing without a cache"):
        assert hash_file(tmp_path / "a file") == b3sum(tmp_path / "a file")


def test_other_schema_version_is_replaced(aged: Path) -> None:
    path = cache_path()
    path.parent.mkdir(parents=True)
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE files(anything)")
        conn.execute("PRAGMA user_version=99")
    hash_path(aged / "dir2" / "b" / "c")  # never rewritten by the tests above
    assert rows("files") == 1


def test_entries_need_every_stamp_to_match(tmp_path: Path) -> None:
    """Unit level: unsigned 64-bit device/inode numbers, and no partial-key matches."""
    with _hash_cache.HashCache(tmp_path / "c.sqlite") as cache:
        key = (2**64 - 1, 2**63 + 5, 10, 20, 30)
        cache.put(files=[(key, b"h" * 32)])
        assert cache.get_files([key]) == {key: b"h" * 32}
        for changed in [(2**64 - 1, 2**63 + 5, 11, 20, 30), (2**64 - 1, 2**63 + 5, 10, 20, 31)]:
            assert cache.get_files([changed]) == {}
        # A directory row: every entry comes back under its full key, and nothing else.
        small = (2**64 - 1, 2**63 + 6, -1, -(2**40), 30)  # negative stamps (before 1970)
        entries = _hash_cache.pack_entries([(small, b"s" * 32), (key, b"h" * 32)])
        cache.put(dirs=[_hash_cache.dir_row((2**64 - 2, 2**63 + 1), entries)])
        assert cache.get_files([], [(2**64 - 2, 2**63 + 1)]) == {small: b"s" * 32, key: b"h" * 32}
        assert cache.get_files([], [(2**64 - 2, 2**63 + 2)]) == {}
        assert not cache.seen_root((2**64 - 1, 7))
        cache.put(tree=(b"f" * 32, b"d" * 32, 10, 1, (2**64 - 1, 7)))
        assert cache.get_tree(b"f" * 32) == (b"d" * 32, 10, 1)
        assert cache.seen_root((2**64 - 1, 7))
        assert cache.get_tree(b"g" * 32) is None


MOUNTINFO = r"""22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 253:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
40 27 0:50 / /home rw,relatime shared:20 - nfs4 srv:/export/home rw,vers=4.2
41 40 0:51 / /home/me/local\040disk rw,relatime - xfs /dev/sdb1 rw
42 27 0:52 / /scratch rw master:3 - lustre 10.0.0.1@o2ib:/scratch rw
"""


@pytest.mark.parametrize(
    ("path", "fs_type"),
    [
        ("/home/me/.cache/naga", "nfs4"),
        ("/home", "nfs4"),
        ("/homework", "ext4"),
        ("/home/me/local disk/cache", "xfs"),
        ("/scratch/me", "lustre"),
        ("/tmp", "ext4"),
    ],
)
def test_mount_fs_type(path: str, fs_type: str) -> None:
    """Unit level: where the cache lives decides WAL (one host) or rollback journal (shared)."""
    assert mount_fs_type(path, MOUNTINFO) == fs_type


def test_local_cache_uses_wal(tmp_path: Path) -> None:
    hash_path(tmp_path)
    assert not _hash_cache.is_network_fs(cache_path().parent)
    with closing(sqlite3.connect(cache_path())) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_network_cache_uses_rollback_journal(aged: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No NFS server in the test machine: force the branch taken when mountinfo says "nfs".
    monkeypatch.setattr(_hash_cache, "is_network_fs", lambda directory: True)
    target = aged / "dir2" / "b" / "c"
    assert hash_file(target) == b3sum(target)
    assert rows("files") == 1
    assert hash_file(target) == b3sum(target)
    with closing(sqlite3.connect(cache_path())) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


# -- connection lifetimes: closed by naga, never left to the garbage collector ----------


def open_connections_to(path: Path) -> int:
    """How many open sqlite3 connections of this process have ``path`` as main database."""
    count = 0
    for obj in gc.get_objects():
        if isinstance(obj, sqlite3.Connection):
            try:
                databases = obj.execute("PRAGMA database_list").fetchall()
            except sqlite3.ProgrammingError:  # closed (or bound to another thread)
                continue
            count += any(
                name == "main" and file and os.path.samefile(file, path)
                for _, name, file in databases
            )
    return count


def test_switching_cache_files_closes_the_previous_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "f").write_bytes(b"x")
    hash_file(tmp_path / "f")
    first = cache_path()
    assert open_connections_to(first) == 1
    monkeypatch.setenv("NAGA_CACHE_DIR", str(tmp_path / "other cache"))
    hash_file(tmp_path / "f")
    assert open_connections_to(first) == 0
    assert open_connections_to(cache_path()) == 1
    _hash_cache.close_cache()
    assert open_connections_to(cache_path()) == 0
    hash_file(tmp_path / "f")  # the next use opens a new connection
    assert open_connections_to(cache_path()) == 1


def test_close_cache_leaves_a_connection_inherited_through_fork(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    hash_file(tmp_path / "f")
    cache = _hash_cache.get_cache(None)
    assert cache is not None
    cache.pid = -1  # as a forked child sees its parent's connection
    try:
        _hash_cache.close_cache()
        assert cache.usable  # closing it in a child could unlink the parent's WAL
        assert _hash_cache.get_cache(None) is not cache  # the child opens its own
        assert cache in _hash_cache._inherited
    finally:
        _hash_cache._inherited.remove(cache)
        cache.close()
    _hash_cache.close_cache()


def test_a_worker_task_closes_the_connection_it_opened(
    aged: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from naga.lock.hashing import _cold as _hash_cold

    _hash_cache.close_cache()
    directory = aged / "big"
    st = os.stat(directory / "big.bin")
    record = ("big.bin", *_hash_cache.key_of(st))  # a big file: looked up in the cache
    ident = (os.stat(directory).st_dev, os.stat(directory).st_ino)
    sliced = [(0, str(directory), "", ident, [record])]
    job = (str(aged), time.time_ns(), True, [], sliced, [(0, 0, 1)])
    monkeypatch.setattr(_hash_cold, "_fork_job", job)
    result = _hash_cold._read_slice(0)  # in this process, as a forked worker runs it
    assert result is not None
    assert open_connections_to(cache_path()) == 0


def test_no_connection_is_left_to_the_garbage_collector(aged: Path, tmp_path: Path) -> None:
    # Python 3.13 reports a connection finalized while open ("unclosed database").
    app = Path(__file__).parents[1] / "apps" / "hash_and_exit.py"
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error::ResourceWarning", str(app), str(aged),
         str(tmp_path / "second cache")],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "unclosed" not in done.stderr
    assert "Exception ignored" not in done.stderr
