"""The persistent hash cache: never stale, racy stamps, location, disabling, corruption."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
from pathlib import Path

import blake3
import pytest

from naga.errors import UsageError
from naga.lock import _hash_cache
from naga.lock._hash_cache import RACY_WINDOW_NS, CacheWarning, cache_path
from naga.lock.hashing import hash_file, hash_path

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
    with sqlite3.connect(cache_path()) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


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
    assert rows("files") == 0
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
    assert rows("files") == len(AGED["dir"])
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
    with pytest.raises(UsageError, match=r"^NAGA_NO_CACHE='maybe' is not understood; set it to 1"):
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
    with sqlite3.connect(path) as conn:
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
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE files(anything)")
        conn.execute("PRAGMA user_version=99")
    conn.close()
    hash_path(aged / "dir2" / "b" / "c")  # never rewritten by the tests above
    assert rows("files") == 1
