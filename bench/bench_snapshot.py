"""Benchmark: snapshot of a dirty repository, naga's repo_state() vs the git CLI.

The repository (made in a temp dir): N committed small files, then ~5% modified and
~5% new untracked files. Both sides do the same job from scratch each round — store the
work tree as a commit on top of HEAD and point a ref at it:

    naga:     repo_state(repo)      (status, tree in an in-memory index, commit, ref)
    git CLI:  GIT_INDEX_FILE=tmp git read-tree HEAD; git add -A; git write-tree;
              git commit-tree -p HEAD; git update-ref

Between rounds the snapshot refs are deleted and a fresh file is touched, so every round
builds a new tree (and writes its blobs) instead of hitting an existing ref.

Usage: python bench/bench_snapshot.py [--files 2000] [--rounds 11]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from naga.lock.git import repo_state


def run_git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    return subprocess.run(
        ["git", *args],
        cwd=repo,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def make_repo(root: Path, files: int) -> Path:
    repo = root / "repo"
    repo.mkdir()
    run_git(repo, "init", "-q", "-b", "main")
    run_git(repo, "config", "user.name", "bench")
    run_git(repo, "config", "user.email", "bench@example.invalid")
    for i in range(files):
        sub = repo / f"pkg{i % 20:02d}"
        sub.mkdir(exist_ok=True)
        (sub / f"mod{i:05d}.py").write_text(f"value = {i}\n" * 20)
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "-q", "-m", "base")
    changed = max(1, files // 20)
    for i in range(0, files, files // changed):
        (repo / f"pkg{i % 20:02d}" / f"mod{i:05d}.py").write_text(f"value = {-i}\n" * 20)
    for i in range(changed):
        (repo / "new" / f"d{i % 5}").mkdir(parents=True, exist_ok=True)
        (repo / "new" / f"d{i % 5}" / f"untracked{i:04d}.py").write_text(f"u = {i}\n" * 20)
    run_git(repo, "status", "-s")  # let git refresh the user's index once, as in real life
    return repo


def git_cli_snapshot(repo: Path, tmp: Path) -> str:
    index = tmp / "bench-index"
    env = {"GIT_INDEX_FILE": str(index)}
    run_git(repo, "read-tree", "HEAD", env=env)
    run_git(repo, "add", "-A", env=env)
    tree = run_git(repo, "write-tree", env=env)
    commit = run_git(repo, "commit-tree", tree, "-p", "HEAD", "-m", "snapshot", env=env)
    run_git(repo, "update-ref", f"refs/bench/snapshots/{tree}", commit)
    index.unlink()
    return commit


def reset(repo: Path, round_no: int) -> None:
    for ref in run_git(repo, "for-each-ref", "--format=%(refname)").splitlines():
        if ref.startswith(("refs/naga/", "refs/bench/")):
            run_git(repo, "update-ref", "-d", ref)
    # A new file each round: both sides must build and write a tree that does not exist yet.
    (repo / "new" / "round.txt").write_text(f"round {round_no}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=11)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="naga-bench-snap-") as tmp_name:
        tmp = Path(tmp_name)
        repo = make_repo(tmp, args.files)
        naga_times: list[float] = []
        git_times: list[float] = []
        for round_no in range(args.rounds):
            # Alternate the order so neither side always runs with a warmer page cache.
            order = ("naga", "git") if round_no % 2 == 0 else ("git", "naga")
            for who in order:
                reset(repo, round_no * 2 + (who == "git"))
                start = time.perf_counter()
                if who == "naga":
                    state = repo_state(repo)
                    assert state["snapshot"] is not None
                    naga_times.append(time.perf_counter() - start)
                else:
                    git_cli_snapshot(repo, tmp)
                    git_times.append(time.perf_counter() - start)
        naga_med = statistics.median(naga_times)
        git_med = statistics.median(git_times)
        status = run_git(repo, "status", "--porcelain", "-uall").splitlines()
        print(f"repo: {args.files} committed files, {len(status)} changed/untracked paths")
        print(f"rounds: {args.rounds}")
        print(f"naga repo_state   median {naga_med * 1000:8.1f} ms")
        print(f"git CLI pipeline  median {git_med * 1000:8.1f} ms")
        print(f"ratio naga / git CLI: {naga_med / git_med:.2f}x  (target <= 1.00x)")
        print_phases(repo, args.rounds)


def print_phases(repo: Path, rounds: int) -> None:
    """Where naga's time goes: status, tree building (blobs + trees), commit + ref."""
    import pygit2

    from naga.lock.git._snapshot import build_worktree_tree, store_snapshot

    phases: dict[str, list[float]] = {"status": [], "tree": [], "commit+ref": []}
    for round_no in range(rounds):
        reset(repo, 1000 + round_no)
        handle = pygit2.Repository(str(repo))
        head = handle.head.peel(pygit2.Commit)
        t0 = time.perf_counter()
        status = handle.status(untracked_files="all", ignored=False)
        t1 = time.perf_counter()
        built = build_worktree_tree(
            handle, head.tree, status, large_file_limit=10 << 20, gitlinks=set()
        )
        t2 = time.perf_counter()
        store_snapshot(handle, built.tree, head)
        t3 = time.perf_counter()
        phases["status"].append(t1 - t0)
        phases["tree"].append(t2 - t1)
        phases["commit+ref"].append(t3 - t2)
    shown = ", ".join(f"{k} {statistics.median(v) * 1000:.1f} ms" for k, v in phases.items())
    print(f"naga phases (medians): {shown}")


if __name__ == "__main__":
    main()
