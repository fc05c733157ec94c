"""``naga gc [DIR...]``: delete snapshot refs that no run.lock below DIRs references.

Only refs are deleted (git's own ``git gc`` prunes the objects later); docs/commands.md has
the rules. Run.locks below a repository's work tree but outside DIRs that still use a
snapshot that would go stop it (exit 2) unless ``--force``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from naga.commands import _render as r
from naga.commands._clone import locate
from naga.errors import UsageError
from naga.lock.git.recorded import delete_ref, snapshot_refs, try_open_repo
from naga.results.locks import Run, as_dict, display_path, find_runs


def add_parser(subparsers: Any) -> None:
    """Declare ``naga gc``."""
    parser = subparsers.add_parser(
        "gc",
        help="delete refs/naga/snapshots/* refs that no run.lock below DIRs references",
        description="Collect the repositories recorded by the run.locks below DIRs (default: "
        "the current directory) and delete their refs/naga/snapshots/* refs that none of "
        "those run.locks (nor the upstream run.locks they embed) references. Pass every "
        "directory that holds runs you keep: a snapshot referenced only by a run.lock "
        "elsewhere would be deleted: gc checks the run.locks below each repository's work "
        "tree and stops, listing them, when some outside DIRs still use a snapshot it would "
        "delete (--force deletes anyway).",
    )
    parser.add_argument("dirs", metavar="DIR", nargs="*", default=["."], help="where runs live")
    parser.add_argument(
        "--dry-run", "-n", action="store_true", help="print what would be deleted, delete nothing"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="delete snapshot refs even when run.locks outside DIRs still use them",
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
    """Delete (or list) unreferenced snapshot refs; exit 0 (2 when runs elsewhere use some)."""
    roots = [Path(d) for d in args.dirs]
    runs = find_runs(roots)
    if not runs:
        print(f"no run.lock below {', '.join(args.dirs)}: no repository to clean, nothing done")
        return 0
    # Runs copied from another clone name its repository: clean this clone's, not that one.
    repos, refs, commits = referenced([locate(found).run.lock for found in runs])
    plan: list[tuple[str, Any, dict[str, str], int]] = []  # root, repo, stale refs, count
    for root in sorted(repos):
        repo = try_open_repo(root)
        if repo is None:
            print(f"{root}: repository not found, skipped")
            continue
        existing = snapshot_refs(repo)
        stale = {n: t for n, t in existing.items() if n not in refs and t not in commits}
        plan.append((root, repo, stale, len(existing)))
    users = _users_elsewhere(plan, runs)
    if users and not args.force and not args.dry_run:
        _list_users(users)
        count = len(users)
        raise UsageError(
            f"{count} snapshot ref{'s' if count != 1 else ''} that gc would delete "
            f"{'are' if count != 1 else 'is'} still used by run.locks outside "
            f"{', '.join(args.dirs)} (listed above), so nothing was deleted; pass those "
            "directories too, or --force to delete the refs anyway"
        )
    verb = "would delete" if args.dry_run else "deleted"
    total = 0
    for root, repo, stale, existing_count in plan:
        kept = existing_count - len(stale)
        print(
            f"{root}: {existing_count} snapshot refs, {kept} referenced, {len(stale)} unreferenced"
        )
        for name, target in sorted(stale.items()):
            if not args.dry_run:
                delete_ref(repo, name)
            note = f"  still used by {_paths(users[name])}" if name in users else ""
            print(f"  {verb} {name}  (commit {r.short_id(target, 12)}){note}")
        total += len(stale)
    summary = f"{verb} {total} snapshot ref{'s' if total != 1 else ''} from {len(runs)} run.lock"
    print(summary + ("s" if len(runs) != 1 else "") + " scanned")
    if total and not args.dry_run:
        print("the objects they held are pruned by git's own `git gc` once unreachable")
    return 0


def _users_elsewhere(
    plan: list[tuple[str, Any, dict[str, str], int]], scanned: list[Run]
) -> dict[str, list[Run]]:
    """The run.locks below the repositories' work trees, outside DIRs, using a doomed ref.

    Returns:
        ``{ref: [runs using it]}`` for every stale ref some run outside DIRs references.
    """
    seen = {found.path.resolve() for found in scanned}
    users: dict[str, list[Run]] = {}
    for root, _, stale, _ in plan:
        if not stale or not Path(root).is_dir():
            continue
        for other in find_runs([Path(root)], warn=False):
            if other.path.resolve() in seen:
                continue
            _, refs, commits = referenced([other.lock])
            for name, target in stale.items():
                if name in refs or target in commits:
                    users.setdefault(name, []).append(other)
    return users


def _list_users(users: dict[str, list[Run]]) -> None:
    print("snapshot refs still used by run.locks outside the directories given:")
    for name in sorted(users):
        print(f"  {name}  used by {_paths(users[name])}")


def _paths(runs: list[Run]) -> str:
    shown = [display_path(found.path) for found in runs[:3]]
    return ", ".join(shown) + (f" and {len(runs) - 3} more" if len(runs) > 3 else "")
