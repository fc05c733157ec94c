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
from contextlib import closing

import pytest
from helpers import APPS

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


@pytest.mark.interpreter_independent
@pytest.mark.slow
def test_eight_processes_hash_overlapping_data(aged: list[str]) -> None:
    # The parent dir overlaps every other path: all processes read and write the same rows.
    procs = [
        subprocess.Popen(
            [sys.executable, str(APPS / "hash_concurrently.py"), *aged],
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
    with closing(sqlite3.connect(cache_path())) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # Every small file has an entry in its directory's row (single.csv, under base, too).
        stored = conn.execute("SELECT sum(length(entries)) FROM dirs").fetchone()[0]
        assert stored == (N_DIRS * FILES_PER_DIR + 1) * ENTRY.size
        assert conn.execute("SELECT count(*) FROM files").fetchone()[0] == 1  # single.csv
        assert conn.execute("SELECT count(*) FROM trees").fetchone()[0] == N_DIRS + 1


@pytest.mark.interpreter_independent
@pytest.mark.slow
def test_sigkill_while_writing_never_breaks_the_cache(aged: list[str]) -> None:
    expected = reference(aged)
    zygote = subprocess.Popen(
        [sys.executable, str(APPS / "hash_kill_zygote.py"), *aged],
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
                with closing(sqlite3.connect(cache_path(), timeout=30)) as conn:
                    assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
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
    with closing(sqlite3.connect(cache_path())) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM dirs").fetchone()[0] > 0
