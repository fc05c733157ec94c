"""Benchmark naga's data hashing against its anchors, side by side in one run.

1. One big file (default 1 GiB): naga ``hash_file`` vs ``b3sum`` (same digest), and the
   read()-in-chunks alternative that naga does not use.
2. Many small files (default 100,000 × 100 B): naga cold (empty cache) vs
   ``dvc add --no-commit``; naga warm (unchanged tree) and after editing one file vs a bare
   ``os.scandir`` + ``stat`` walk; and sequential vs threads vs processes for reading.

Prints medians (seconds) and ratios. Smaller runs: ``--big-mib 256 --files 20000``.
Needs ``b3sum`` (Debian package) and, for the DVC anchor, ``pip install 'naga[bench]'``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import blake3

from naga.lock import hashing
from naga.lock.hashing import _cold as _hash_cold
from naga.lock.hashing import _read as _hash_read
from naga.lock.hashing import _walk as _hash_walk
from naga.lock.hashing._cache import RACY_WINDOW_NS


def median_time(fn: Callable[[], object], repeat: int, setup: Callable[[], object] | None = None):
    times = []
    result = None
    for _ in range(repeat):
        if setup is not None:
            setup()
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def row(name: str, seconds: float, anchor: float | None = None, note: str = "") -> None:
    ratio = f"{anchor / seconds:6.2f}x anchor speed" if anchor else ""
    print(f"  {name:<44} {seconds:9.4f} s  {ratio}  {note}", flush=True)


# -- big file ---------------------------------------------------------------------------


def bench_big(work: Path, mib: int, repeat: int) -> None:
    path = work / f"big-{mib}MiB.bin"
    if not path.exists() or path.stat().st_size != mib << 20:
        with path.open("wb") as out:
            for _ in range(mib):
                out.write(os.urandom(1 << 20))
    subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)  # page cache
    print(f"\n[1] one file of {mib} MiB (in page cache), median of {repeat}")

    def run_b3sum() -> str:
        out = subprocess.run(["b3sum", "--no-names", str(path)], capture_output=True, check=True)
        return out.stdout.decode().strip()

    def read_chunks() -> str:
        hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
        buffer = bytearray(4 << 20)
        view = memoryview(buffer)
        with path.open("rb", buffering=0) as handle:
            while n := handle.readinto(buffer):
                hasher.update(view[:n])
        return hasher.hexdigest()

    t_b3, d_b3 = median_time(run_b3sum, repeat)
    t_naga, d_naga = median_time(lambda: hashing.hash_file(path, use_cache=False), repeat)
    t_read, d_read = median_time(read_chunks, repeat)
    assert d_naga == "blake3:" + d_b3 == "blake3:" + d_read, (d_naga, d_b3, d_read)
    gib = mib / 1024
    row("b3sum (anchor; mmap + all cores)", t_b3, note=f"{gib / t_b3:.2f} GiB/s")
    row("naga hash_file (mmap + all cores)", t_naga, t_b3, f"{gib / t_naga:.2f} GiB/s")
    row("alternative: read() 4 MiB chunks + all cores", t_read, t_b3, f"{gib / t_read:.2f} GiB/s")
    print(f"  same digest: {d_b3[:16]}...")


# -- small files ------------------------------------------------------------------------


def make_tree(root: Path, files: int, size: int, per_dir: int = 1000) -> None:
    marker = root.parent / f".complete-{files}-{size}-{per_dir}"
    if marker.exists():
        return
    shutil.rmtree(root, ignore_errors=True)
    for i in range(files):
        directory = root / f"d{i // per_dir:04d}"
        if i % per_dir == 0:
            directory.mkdir(parents=True)
        (directory / f"f{i:07d}.bin").write_bytes(os.urandom(size))
    marker.touch()
    # Stamps newer than the racy window are never cached: let them age once.
    time.sleep(RACY_WINDOW_NS / 1e9 + 0.5)


def bare_walk(root: str) -> int:
    """The anchor for a warm run: list the tree and stat every file, nothing else."""
    count = 0
    stack = [root]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                else:
                    entry.stat()
                    count += 1
    return count


def _list_files(root: str) -> list[tuple[str, _hash_read.Key]]:
    walk = _hash_walk.walk(root, os.stat(root))
    rels = _hash_walk.relpaths(walk.records, walk.groups)
    return [(f"{root}/{rel}", rec[1:]) for rel, rec in zip(rels, walk.records, strict=True)]


def _read_chunk(items: list[tuple[str, _hash_read.Key]]) -> list[bytes | None]:
    return [_hash_read.read_small(path, key) for path, key in items]


def bench_strategies(root: str, repeat: int) -> None:
    items = _list_files(root)
    chunks = [items[i : i + 2000] for i in range(0, len(items), 2000)]
    print(f"\n[2b] reading+hashing {len(items)} small files: sequential vs threads vs processes")
    t_seq, _ = median_time(lambda: _read_chunk(items), repeat)
    row("sequential (naga below 20,000 files)", t_seq)
    for workers in (2, 4, 8):
        with ThreadPoolExecutor(workers) as threads:

            def in_threads(threads: ThreadPoolExecutor = threads) -> list[list[bytes | None]]:
                return list(threads.map(_read_chunk, chunks))

            t, _ = median_time(in_threads, repeat)
        row(f"{workers} threads", t, t_seq, "(vs sequential)")
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_read_chunk, chunks[:2]))  # start the workers outside the timing
        t, _ = median_time(lambda: list(pool.map(_read_chunk, chunks)), repeat)
    row("2 processes (warm pool)", t, t_seq, "(vs sequential)")
    t, _ = median_time(lambda: _hash_read.read_many(items), repeat)
    row("naga read_many (forked workers, incl. start)", t, t_seq, "(vs sequential)")


def bench_small(work: Path, files: int, size: int, repeat: int, dvc_repeat: int) -> None:
    root = work / "small" / "data"
    make_tree(root, files, size)
    root_s = str(root)
    caches = work / "caches"
    shutil.rmtree(caches, ignore_errors=True)
    counter = iter(range(10**6))

    def fresh_cache() -> None:
        os.environ["NAGA_CACHE_DIR"] = str(caches / f"c{next(counter)}")

    print(f"\n[2] {files} files of {size} B in {max(1, files // 1000)} dirs, median of {repeat}")
    t_walk, n = median_time(lambda: bare_walk(root_s), repeat)
    assert n == files, n
    t_cold, cold = median_time(lambda: hashing.hash_path(root_s), repeat, setup=fresh_cache)
    t_none, none = median_time(lambda: hashing.hash_path(root_s, use_cache=False), repeat)
    worker_count = _hash_cold.worker_count
    _hash_cold.worker_count = lambda: 1  # type: ignore[assignment]
    t_seq, seq = median_time(lambda: hashing.hash_path(root_s), repeat, setup=fresh_cache)
    _hash_cold.worker_count = worker_count
    # The same files in one flat directory: read in slices by the workers.
    flat = work / "flat" / "data"
    make_tree(flat, files, size, per_dir=files)
    flat_s = str(flat / "d0000")
    t_flat, _ = median_time(lambda: hashing.hash_path(flat_s), repeat, setup=fresh_cache)
    assert seq == cold, (seq, cold)
    t_warm, warm = median_time(lambda: hashing.hash_path(root_s), repeat)
    assert cold == none == warm, (cold, none, warm)
    script = "import sys; from naga.lock.hashing import hash_path; print(hash_path(sys.argv[1]))"
    t_proc, _ = median_time(
        lambda: subprocess.run(
            [sys.executable, "-c", script, root_s], check=True, stdout=subprocess.DEVNULL
        ),
        repeat,
        setup=fresh_cache,
    )
    edited = root / "d0000" / "f0000000.bin"

    def edit_one() -> None:
        edited.write_bytes(os.urandom(size))

    t_edit, _ = median_time(lambda: hashing.hash_path(root_s), repeat, setup=edit_one)

    t_dvc = bench_dvc(root, dvc_repeat) if dvc_repeat else None
    print("  cold (empty cache):")
    if t_dvc:
        row("dvc add --no-commit (anchor, CLI)", t_dvc)
        row("naga cold, new process (CLI-like)", t_proc, t_dvc)
        row("naga cold, in process", t_cold, t_dvc)
        row("naga, cache disabled", t_none, t_dvc)
        row("naga cold, in process, no worker processes", t_seq, t_dvc)
        row("naga cold, one flat directory (in slices)", t_flat, t_dvc)
    else:
        row("naga cold, new process", t_proc)
        row("naga cold, in process", t_cold)
        row("naga, cache disabled", t_none)
        row("naga cold, in process, no worker processes", t_seq)
        row("naga cold, one flat directory (in slices)", t_flat)
    print("  warm (cache filled):")
    row("bare os.scandir + stat walk (anchor)", t_walk)
    row("naga warm, tree unchanged", t_warm, t_walk, f"= {t_warm / t_walk:.2f}x walk time")
    row("naga after editing one file", t_edit, t_walk, f"= {t_edit / t_walk:.2f}x walk time")
    bench_strategies(root_s, repeat)


def bench_dvc(root: Path, repeat: int) -> float | None:
    dvc = Path(sys.executable).with_name("dvc")
    if not dvc.exists():
        print("  (dvc not installed: pip install 'naga[bench]'; skipping the DVC anchor)")
        return None
    parent = root.parent
    if not (parent / ".git").exists():
        subprocess.run(["git", "init", "-q"], cwd=parent, check=True)
    times = []
    for _ in range(repeat):
        # A fresh DVC repo and site cache each time, so DVC hashes cold like naga does.
        shutil.rmtree(parent / ".dvc", ignore_errors=True)
        (parent / f"{root.name}.dvc").unlink(missing_ok=True)
        site_cache = tempfile.mkdtemp(prefix="dvc-site-")
        env = {**os.environ, "DVC_SITE_CACHE_DIR": site_cache, "DVC_NO_ANALYTICS": "1"}
        subprocess.run([dvc, "init", "-q", "-f"], cwd=parent, check=True, env=env)
        start = time.perf_counter()
        subprocess.run(
            [dvc, "add", "-q", "--no-commit", root.name], cwd=parent, check=True, env=env
        )
        times.append(time.perf_counter() - start)
        shutil.rmtree(site_cache, ignore_errors=True)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big-mib", type=int, default=1024, help="size of the big file (0: skip)")
    parser.add_argument("--files", type=int, default=100_000, help="small files (0: skip)")
    parser.add_argument("--file-size", type=int, default=100, help="bytes per small file")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per measurement")
    parser.add_argument("--dvc-repeat", type=int, default=1, help="DVC runs (0: skip DVC)")
    parser.add_argument("--workdir", type=Path, help="where to create data (kept for reuse)")
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.gettempdir()) / "naga-bench-hashing"
    work.mkdir(parents=True, exist_ok=True)
    print(f"naga hashing benchmark; {os.cpu_count()} cores; python {sys.version.split()[0]}")
    print(f"load average at start: {os.getloadavg()[0]:.2f}; data in {work}")
    if args.big_mib:
        bench_big(work, args.big_mib, args.repeat)
    if args.files:
        bench_small(work, args.files, args.file_size, args.repeat, args.dvc_repeat)
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
