"""The cache under concurrency and under SIGKILL, with real processes and a real SQLite file."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from naga.lock.hashing import hash_path
from naga.lock.hashing._cache import ENTRY, RACY_WINDOW_NS, cache_path

N_DIRS = 4
FILES_PER_DIR = 150


@pytest.fixture(scope="module")
def aged(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Directories of many small files, old enough to be cached (so hashing writes the cache)."""
    base = tmp_path_factory.mktemp("aged data ü")
    dirs = []
    for i in range(N_DIRS):
        directory = base / f"set {i}"
        for j in range(FILES_PER_DIR):
            sub = directory / f"sub{j % 5}"
            sub.mkdir(parents=True, exist_ok=True)
            (sub / f"f{j}.bin").write_bytes(f"{i}/{j}".encode() * (j % 7))
        dirs.append(str(directory))
    (base / "single.csv").write_bytes(b"a,b\n" * 1000)
    time.sleep(RACY_WINDOW_NS / 1e9 + 0.2)
    return [*dirs, str(base), str(base / "single.csv")]


def reference(paths: list[str]) -> dict[str, dict]:
    return {p: hash_path(p, use_cache=False) for p in paths}


CONCURRENT = """
import json, random, sys
from naga.lock.hashing import hash_path
paths = sys.argv[1:]
results = {}
for _ in range(3):
    for p in random.sample(paths, len(paths)):
        r = hash_path(p)
        assert results.setdefault(p, r) == r, (p, r, results[p])
print(json.dumps(results))
"""


@pytest.mark.slow
def test_eight_processes_hash_overlapping_data(aged: list[str]) -> None:
    # The parent dir overlaps every other path: all processes read and write the same rows.
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT, *aged],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    expected = reference(aged)
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert err == ""  # not even a cache warning
        assert json.loads(out) == expected
    with sqlite3.connect(cache_path()) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # Every small file has an entry in its directory's row (single.csv, under base, too).
        stored = conn.execute("SELECT sum(length(entries)) FROM dirs").fetchone()[0]
        assert stored == (N_DIRS * FILES_PER_DIR + 1) * ENTRY.size
        assert conn.execute("SELECT count(*) FROM files").fetchone()[0] == 1  # single.csv
        assert conn.execute("SELECT count(*) FROM trees").fetchone()[0] == N_DIRS + 1
    conn.close()


# A fork server: forking a ready interpreter per trial keeps 200+ kills fast. Each child
# hashes in a loop and deletes cache rows between rounds so that it keeps writing.
ZYGOTE = """
import os, random, sys, traceback
from naga.lock.hashing import _cache as _hash_cache
from naga.lock import hashing
paths = sys.argv[1:]
for line in sys.stdin:
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            rnd = random.Random(os.getpid())
            while True:
                for p in rnd.sample(paths, len(paths)):
                    hashing.hash_path(p)
                cache = _hash_cache.get_cache(None)
                cache._write([
                    ("DELETE FROM dirs WHERE ino % 3 = ?", [(rnd.randrange(3),)]),
                    ("DELETE FROM trees WHERE size % 2 = ?", [(rnd.randrange(2),)]),
                ])
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            os._exit(code)
    print(pid, flush=True)
    _, status = os.waitpid(pid, 0)
    print(status, flush=True)
"""


@pytest.mark.slow
def test_sigkill_while_writing_never_breaks_the_cache(aged: list[str]) -> None:
    expected = reference(aged)
    zygote = subprocess.Popen(
        [sys.executable, "-c", ZYGOTE, *aged],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert zygote.stdin is not None
    assert zygote.stdout is not None
    rnd = random.Random(1234)
    try:
        for trial in range(220):
            zygote.stdin.write("go\n")
            zygote.stdin.flush()
            pid = int(zygote.stdout.readline())
            time.sleep(rnd.uniform(0, 0.05))
            os.kill(pid, signal.SIGKILL)
            status = int(zygote.stdout.readline())
            assert os.WIFSIGNALED(status), f"child failed on its own, see stderr (trial {trial})"
            if cache_path().exists():
                with sqlite3.connect(cache_path(), timeout=30) as conn:
                    assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
                conn.close()
            if trial % 20 == 0:
                # Hashes through the cache (and the warning-free open, as warnings are errors).
                assert {p: hash_path(p) for p in aged} == expected
    finally:
        zygote.stdin.close()
        zygote.wait(timeout=30)
        zygote.stdout.close()
        errors = zygote.stderr.read()
        zygote.stderr.close()
    assert zygote.returncode == 0, errors
    assert errors == ""
    assert {p: hash_path(p) for p in aged} == expected
    with sqlite3.connect(cache_path()) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM dirs").fetchone()[0] > 0
    conn.close()
