"""hash_path/hash_file: equality with b3sum, the directory scheme, symlinks and errors."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import blake3
import pytest
import strategies
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from naga.errors import DataError, LockError
from naga.lock.hashing import hash_file, hash_path

EMPTY = "blake3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"


def b3sum(path: Path) -> str:
    out = subprocess.run(
        ["b3sum", "--no-names", "--", str(path)], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    return "blake3:" + out.stdout.strip()


def manifest_hash(tree: dict[str, bytes]) -> str:
    """An independent implementation of the documented directory scheme."""
    lines = sorted((rel.encode(), blake3.blake3(data).hexdigest()) for rel, data in tree.items())
    manifest = b"".join(b"%s %d:%s\n" % (h.encode(), len(rel), rel) for rel, h in lines)
    return "blake3:" + blake3.blake3(manifest).hexdigest()


# -- files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "size"),
    [("empty", 0), ("one byte", 1), ("text ü.csv", 1000), ("big 実験.bin", 5 * 2**20 + 17)],
)
def test_file_hash_equals_b3sum(weird_tmp_path: Path, name: str, size: int) -> None:
    path = weird_tmp_path / name
    path.write_bytes(os.urandom(size))
    expected = b3sum(path)
    assert hash_file(path) == expected
    assert hash_file(path, use_cache=False) == expected
    assert hash_path(str(path)) == {"kind": "file", "size": size, "files": 1, "hash": expected}


def test_empty_file_hash_is_blake3_of_nothing(tmp_path: Path) -> None:
    (tmp_path / "e").touch()
    assert hash_file(tmp_path / "e") == EMPTY


def test_symlink_to_file_is_followed(tmp_path: Path) -> None:
    (tmp_path / "real.csv").write_text("a,b\n1,2\n")
    (tmp_path / "link.csv").symlink_to("real.csv")
    assert hash_path(tmp_path / "link.csv") == hash_path(tmp_path / "real.csv")


def test_hash_file_rejects_directory(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"is a directory, not a file; hash it with hash_path"):
        hash_file(tmp_path)


# -- directories ------------------------------------------------------------------------


def test_directory_scheme_matches_documented_manifest(weird_tmp_path: Path) -> None:
    tree = {"b.txt": b"b", "a/x y.bin": b"\x00\x01", "a/\nnl": b"", "ü/実験": b"data" * 100}
    strategies.write_tree(weird_tmp_path / "d", tree)
    (weird_tmp_path / "d" / "empty dir" / "nested").mkdir(parents=True)  # not part of the hash
    result = hash_path(weird_tmp_path / "d")
    assert result == {"kind": "dir", "size": 403, "files": 4, "hash": manifest_hash(tree)}


DOCS = Path(__file__).parents[2] / "docs" / "hashing.md"


def docs_block(language: str, marker: str) -> str:
    """The fenced code block of docs/hashing.md in ``language`` that contains ``marker``."""
    blocks = DOCS.read_text().split(f"```{language}\n")[1:]
    found = [block.split("```", 1)[0] for block in blocks if marker in block]
    assert len(found) == 1, f"no single {language} block with {marker!r} in {DOCS}"
    return found[0]


def recipe_tree(base: Path) -> Path:
    tree = {"z": b"1", "a b/c": b"2", "a b/\nd": b"3", "é/f": b"", "a-b": b"x" * 3000, ".h": b""}
    root = strategies.write_tree(base / "data set", tree)
    (base / "shared").mkdir()
    (base / "shared" / "s.bin").write_bytes(b"shared")
    (root / "linked").symlink_to(base / "shared")
    (root / "empty" / "dir").mkdir(parents=True)
    return root


def test_directory_hash_equals_documented_shell_recipe(weird_tmp_path: Path) -> None:
    """The bash recipe of docs/hashing.md, run with find, sort and the real b3sum."""
    root = recipe_tree(weird_tmp_path)
    script = docs_block("bash", "b3sum").replace("cd data/raw", 'cd "$1"')
    out = subprocess.run(
        ["bash", "-c", script, "recipe", str(root)], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert hash_path(root)["hash"] == "blake3:" + out.stdout.strip()


def test_directory_hash_equals_documented_python_recipe(weird_tmp_path: Path) -> None:
    root = recipe_tree(weird_tmp_path)
    namespace: dict = {}
    exec(docs_block("python", "def dir_hash"), namespace)
    assert hash_path(root)["hash"] == namespace["dir_hash"](str(root))


def test_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "d" / "sub").mkdir(parents=True)
    assert hash_path(tmp_path / "d") == {"kind": "dir", "size": 0, "files": 0, "hash": EMPTY}


def test_symlinked_directory_is_followed_under_the_link_name(tmp_path: Path) -> None:
    shared = strategies.write_tree(tmp_path / "shared", {"x": b"1", "y/z": b"2"})
    copy = strategies.write_tree(tmp_path / "copy", {"raw/x": b"1", "raw/y/z": b"2", "n": b"3"})
    linked = strategies.write_tree(tmp_path / "linked", {"n": b"3"})
    (linked / "raw").symlink_to(shared)
    assert hash_path(linked) == hash_path(copy)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=strategies.file_trees(max_files=6), seed=st.randoms(use_true_random=False))
def test_dir_hash_ignores_creation_order_and_location(tree: dict[str, bytes], seed) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        first = strategies.write_tree(Path(tmp) / "one", tree)
        items = list(tree.items())
        seed.shuffle(items)
        second = strategies.write_tree(Path(tmp) / "elsewhere" / "two", dict(items))
        os.utime(second, ns=(1, 1))
        result = hash_path(first, use_cache=False)
        assert result == hash_path(second, use_cache=False)
        assert result["hash"] == manifest_hash(tree)
        assert result["files"] == len(tree)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=strategies.file_trees(min_files=1, max_files=6), data=st.data())
def test_dir_hash_changes_on_any_edit(tree: dict[str, bytes], data: st.DataObject) -> None:
    rel = data.draw(st.sampled_from(sorted(tree)))
    edit = data.draw(st.sampled_from(["byte", "rename", "remove", "add"]))
    changed = dict(tree)
    if edit == "byte":
        content = tree[rel]
        if content:
            i = data.draw(st.integers(0, len(content) - 1))
            changed[rel] = content[:i] + bytes([content[i] ^ 0x01]) + content[i + 1 :]
        else:
            changed[rel] = b"\x00"
    elif edit == "rename":
        changed[rel + "~"] = changed.pop(rel)
    elif edit == "remove":
        del changed[rel]
    else:
        changed[rel + ".new"] = b""
    with tempfile.TemporaryDirectory() as tmp:
        before = hash_path(strategies.write_tree(Path(tmp) / "a", tree))["hash"]
        after = hash_path(strategies.write_tree(Path(tmp) / "b", changed))["hash"]
    assert before != after


# -- errors -----------------------------------------------------------------------------


def test_missing_path_error_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError, match=r"^data path 'no/such.csv' does not exist \(relative to "):
        hash_path("no/such.csv")
    with pytest.raises(LockError, match=r"check the path or create the data first$"):
        hash_file("no/such.csv")


def test_dangling_symlink_errors(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "gone").symlink_to("../missing.bin")
    with pytest.raises(DataError, match=r"contains a dangling symlink 'gone' -> '../missing.bin'"):
        hash_path(tmp_path / "d")
    with pytest.raises(DataError, match=r"'.*gone' is a dangling symlink to '../missing.bin'"):
        hash_path(tmp_path / "d" / "gone")


def test_symlink_loop_to_ancestor_errors(tmp_path: Path) -> None:
    root = strategies.write_tree(tmp_path / "d", {"sub/file": b"x"})
    (root / "sub" / "back").symlink_to("..")
    with pytest.raises(
        DataError, match=r"contains a symlink loop: 'sub/back' -> '\.\.' leads back"
    ):
        hash_path(root)


def test_self_referencing_symlink_errors(tmp_path: Path) -> None:
    root = strategies.write_tree(tmp_path / "d", {"f": b"x"})
    (root / "me").symlink_to("me")
    with pytest.raises(DataError, match=r"'.*me' is a symlink loop \(too many levels"):
        hash_path(root)


def test_same_directory_linked_twice_is_not_a_loop(tmp_path: Path) -> None:
    strategies.write_tree(tmp_path / "shared", {"x": b"1"})
    root = tmp_path / "d"
    root.mkdir()
    (root / "one").symlink_to(tmp_path / "shared")
    (root / "two").symlink_to(tmp_path / "shared")
    assert hash_path(root)["hash"] == manifest_hash({"one/x": b"1", "two/x": b"1"})


def test_socket_in_directory_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = strategies.write_tree(tmp_path / "d", {"f": b"x"})
    monkeypatch.chdir(root)  # a socket's path is limited to 108 bytes; the tmp dir's is longer
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind("s.sock")
        with pytest.raises(DataError, match=r"'.*s\.sock' is a socket, which naga does not hash"):
            hash_path(root)


def test_fifo_is_an_error_and_never_blocks(tmp_path: Path) -> None:
    # In a subprocess with a timeout: a regression that opens the fifo would hang forever.
    root = strategies.write_tree(tmp_path / "d", {"f": b"x"})
    os.mkfifo(root / "pipe")
    script = (
        "import sys\nfrom naga.lock.hashing import hash_path\nfrom naga.errors import DataError\n"
        "for p in sys.argv[1:]:\n"
        "    try:\n        hash_path(p)\n    except DataError as e:\n        print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(root), str(root / "pipe")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 2
    for line in lines:
        assert "pipe' is a fifo (named pipe), which naga does not hash; remove it" in line


def hash_as_nobody(path: Path, *, forked_workers: bool) -> str:
    """Hash ``path`` in a forked child without root's right to read anything; its error."""
    from naga.lock.hashing import _cold as _hash_cold

    # The child cannot import anything under root's private home: hash a readable copy
    # here first, with workers, so that every module the child needs is loaded.
    with tempfile.TemporaryDirectory() as warm, pytest.MonkeyPatch.context() as patch:
        patch.setattr(_hash_cold, "COLD_PARENT_FILES", 0)
        hash_path(strategies.write_tree(Path(warm), {"a/b": b"1", "c/d": b"2"}), use_cache=False)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report the outcome through the pipe, never return
        message = "no error"
        try:
            os.close(read_end)
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
            if forked_workers:
                _hash_cold.COLD_PARENT_FILES = 0
            hash_path(path, use_cache=False)
        except BaseException as exc:  # reported to the parent
            message = f"{type(exc).__name__}: {exc}"
        finally:
            os.write(write_end, message.encode())
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        out = pipe.read().decode()
    os.waitpid(pid, 0)
    return out


@pytest.mark.parametrize("forked_workers", [False, True])
@pytest.mark.parametrize("unreadable", ["sub/secret", "sub/closed"])
def test_unreadable_data_errors(forked_workers: bool, unreadable: str) -> None:
    # Under /tmp, traversable by everyone: pytest's tmp_path is private to its user.
    base = Path(tempfile.mkdtemp(prefix="naga-perm-"))
    try:
        base.chmod(0o755)
        root = strategies.write_tree(
            base / "d", {"a": b"1", "sub/secret": b"x", "sub/closed/f": b"y", "z/w": b"2"}
        )
        for directory in (root, root / "sub", root / "sub/closed", root / "z"):
            directory.chmod(0o755)
        for file in ("a", "sub/secret", "sub/closed/f", "z/w"):
            (root / file).chmod(0o644)
        (root / unreadable).chmod(0)
        message = hash_as_nobody(root, forked_workers=forked_workers)
        assert message == (
            f"DataError: data path '{root}/{unreadable}' cannot be read (permission denied); "
            "fix its permissions (chmod u+rX) or leave it out of data="
        )
    finally:
        for path in (base / "d" / "sub" / "closed", base / "d" / "sub" / "secret"):
            if path.exists():
                path.chmod(0o755)
        shutil.rmtree(base)


def test_a_fifo_swapped_in_after_the_stat_is_refused(tmp_path: Path) -> None:
    """The careful path never hashes what it reads from a fifo as an empty file."""
    from naga.lock.hashing import _cache as _hash_cache
    from naga.lock.hashing import _read as _hash_read

    os.mkfifo(tmp_path / "pipe")
    key = _hash_cache.key_of(os.stat(tmp_path / "pipe"))  # as if a walk saw a file there
    with pytest.raises(DataError, match=r"'.*pipe' is a fifo \(named pipe\)"):
        _hash_read.hash_uncached(str(tmp_path / "pipe"), key)


def test_changed_since_stat_is_rehashed(tmp_path: Path) -> None:
    """The careful path re-stats a file whose stamps differ from the walk's."""
    from naga.lock.hashing import _cache as _hash_cache
    from naga.lock.hashing import _read as _hash_read

    path = tmp_path / "f"
    path.write_bytes(b"old")
    stale = os.stat(path)
    path.write_bytes(b"new content")
    digest, st = _hash_read.hash_uncached(str(path), _hash_cache.key_of(stale))
    assert "blake3:" + digest.hex() == b3sum(path)
    assert st.st_size == len(b"new content")


def test_worker_processes_give_the_same_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many cache misses are read by forked workers; big or odd files take the careful path."""
    from naga.lock.hashing import _cache as _hash_cache
    from naga.lock.hashing import _read as _hash_read

    tree = {f"d{i % 7}/f{i}": str(i).encode() * (i % 5) for i in range(400)}
    tree["big.bin"] = b"\x07" * (_hash_read.MMAP_MIN_SIZE + 3)
    root = strategies.write_tree(tmp_path / "d", tree)
    monkeypatch.setattr(_hash_read, "PARALLEL_MIN_FILES", 50)
    # A result stored for this root (under a fingerprint no walk has) sends the next
    # call down the ordinary path: walk, look up, read the misses.
    cache = _hash_cache.get_cache(None)
    assert cache is not None
    st = os.stat(root)
    cache.put(tree=(b"x" * 32, b"x" * 32, 0, 0, (st.st_dev, st.st_ino)))

    def not_in_this_process(items):
        raise AssertionError("files were read in the parent process, not by workers")

    if threading.active_count() == 1 and len(os.sched_getaffinity(0)) > 1:
        monkeypatch.setattr(_hash_read, "read_chunk", not_in_this_process)
    real = _hash_read.read_many
    batches: list[int] = []
    monkeypatch.setattr(
        "naga.lock.hashing.read_many", lambda items: batches.append(len(items)) or real(items)
    )
    assert hash_path(root)["hash"] == manifest_hash(tree)
    assert batches == [len(tree)]
