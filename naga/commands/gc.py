"""``naga gc [DIR...]``: delete snapshot refs that no run.lock below DIRs references.

A dirty run keeps its working-tree snapshot alive under ``refs/naga/snapshots/<tree>``.
When runs are deleted those refs linger, and so do the blobs they hold. ``naga gc`` looks
at every run.lock below the given directories, collects the repositories they record and
the snapshots they (and their embedded upstream run.locks) reference, and deletes the
other ``refs/naga/snapshots/*`` refs of those repositories. Only refs are deleted; git's
own ``git gc`` later prunes the objects no ref reaches any more.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from naga.commands import _render as r
from naga.commands._clone import locate
from naga.commands._locks import as_dict, find_runs
from naga.lock.git.recorded import delete_ref, snapshot_refs, try_open_repo


def add_parser(subparsers: Any) -> None:
    """Declare ``naga gc``."""
    parser = subparsers.add_parser(
        "gc",
        help="delete refs/naga/snapshots/* refs that no run.lock below DIRs references",
        description="Collect the repositories recorded by the run.locks below DIRs (default: "
        "the current directory) and delete their refs/naga/snapshots/* refs that none of "
        "those run.locks (nor the upstream run.locks they embed) references. Pass every "
        "directory that holds runs you keep: a snapshot referenced only by a run.lock "
        "elsewhere would be deleted.",
    )
    parser.add_argument("dirs", metavar="DIR", nargs="*", default=["."], help="where runs live")
    parser.add_argument(
        "--dry-run", "-n", action="store_true", help="print what would be deleted, delete nothing"
    )


def referenced(locks: list[dict[str, Any]]) -> tuple[set[str], set[str], set[str]]:
    """Repositories and snapshots referenced by ``locks`` (their upstream locks included).

    Returns:
        ``(repository roots, referenced snapshot refs, referenced snapshot commits)``.
    """
    roots: set[str] = set()
    refs: set[str] = set()
    commits: set[str] = set()
    pending = list(locks)
    while pending:
        lock = pending.pop()
        repos = as_dict(lock.get("repos"))
        for entry in repos.values():
            if not isinstance(entry, dict):
                continue
            if entry.get("root"):
                roots.add(str(entry["root"]))
            snapshot = entry.get("snapshot")
            if isinstance(snapshot, dict):
                if snapshot.get("ref"):
                    refs.add(str(snapshot["ref"]))
                if snapshot.get("commit"):
                    commits.add(str(snapshot["commit"]))
        upstream = as_dict(lock.get("upstream"))
        pending += [
            e["lock"]
            for e in upstream.values()
            if isinstance(e, dict) and isinstance(e.get("lock"), dict)
        ]
    return roots, refs, commits


def run(args: argparse.Namespace) -> int:
    """Delete (or list) unreferenced snapshot refs; exit 0."""
    roots = [Path(d) for d in args.dirs]
    runs = find_runs(roots)
    if not runs:
        print(f"no run.lock below {', '.join(args.dirs)}: no repository to clean, nothing done")
        return 0
    # Runs copied from another clone name its repository: clean this clone's, not that one.
    repos, refs, commits = referenced([locate(found).run.lock for found in runs])
    verb = "would delete" if args.dry_run else "deleted"
    total = 0
    for root in sorted(repos):
        repo = try_open_repo(root)
        if repo is None:
            print(f"{root}: repository not found, skipped")
            continue
        existing = snapshot_refs(repo)
        stale = {n: t for n, t in existing.items() if n not in refs and t not in commits}
        kept = len(existing) - len(stale)
        print(
            f"{root}: {len(existing)} snapshot refs, {kept} referenced, {len(stale)} unreferenced"
        )
        for name, target in sorted(stale.items()):
            if not args.dry_run:
                delete_ref(repo, name)
            print(f"  {verb} {name}  (commit {r.short_id(target, 12)})")
        total += len(stale)
    summary = f"{verb} {total} snapshot ref{'s' if total != 1 else ''} from {len(runs)} run.lock"
    print(summary + ("s" if len(runs) != 1 else "") + " scanned")
    if total and not args.dry_run:
        print("the objects they held are pruned by git's own `git gc` once unreachable")
    return 0
