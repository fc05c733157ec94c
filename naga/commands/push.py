"""``naga push [DIR...]``: publish the commits and snapshots that runs need to a git remote.

``git push`` sends branches, not naga's snapshot refs, so a dirty run's code stays in the
clone where it ran; docs/travel.md has the whole story (:mod:`naga.lock.git.publish` does
the work).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from naga.commands._clone import RepoCode, code_by_repository, count_code
from naga.errors import RepoError, UsageError
from naga.results.locks import display_path, find_runs


def add_parser(subparsers: Any) -> None:
    """Declare ``naga push``."""
    parser = subparsers.add_parser(
        "push",
        help="publish the commits and snapshot refs that runs need to a git remote",
        description="Read every run.lock below DIR (default: the current directory) and push "
        "the snapshot refs and commits they need, and the remote lacks, to each "
        "repository's remote (default: the current branch's upstream, else origin). "
        "A second push sends nothing. Exit status: 0 everything is on the remote, 1 some "
        "code could not be pushed (it is not in this repository either).",
    )
    parser.add_argument("dirs", nargs="*", metavar="DIR", help="directories holding runs")
    parser.add_argument(
        "--remote", metavar="NAME", help="the git remote to push to (in every repository)"
    )
    parser.add_argument("--dry-run", action="store_true", help="only print what would be pushed")


def run(args: argparse.Namespace) -> int:
    """Push what the remotes lack; exit 0 when all the runs' code is there."""
    from naga.lock.git import publish
    from naga.lock.git.recorded import open_repo

    roots = [Path(d) for d in args.dirs or ["."]]
    # The package list and upstream receipts are most of a receipt, and not needed here.
    runs = find_runs(roots, skip=("environment", "upstream"))
    shown = " ".join(args.dirs or ["."])
    if not runs:
        raise UsageError(
            f"no run.lock below {shown}; pass directories that hold runs (`naga ls DIR` lists them)"
        )
    repos, gone = code_by_repository(runs)
    if gone:
        raise RepoError(
            f"repository {gone[0]} recorded by runs below {shown} is not on this machine; "
            "run naga push where the runs were made (or in a clone holding their code)"
        )
    if not repos:
        print(f"nothing to push: the {len(runs)} runs below {shown} record no git code state")
        return 0
    plans = []
    for root, code in sorted(repos.items()):
        repo = open_repo(root)
        remote = _remote(repo, root, code, args.remote)
        plans.append((root, code, publish.plan(repo, root, remote, code.needs)))
    incomplete = 0
    for root, code, planned in plans:
        if not args.dry_run:
            publish.push(root, planned)
        incomplete += _report(root, code, planned, dry_run=args.dry_run)
    return 1 if incomplete else 0


def _remote(repo: Any, root: Path, code: RepoCode, given: str | None) -> str:
    from naga.lock.git.publish import default_remote

    names = sorted(r.name for r in repo.remotes if r.name)
    runs = len({run.path for runs in code.needs.values() for run in runs})
    if given is not None:
        if given not in names:
            choices = ", ".join(names) if names else "none"
            raise UsageError(
                f"--remote {given}: repository {root} has no such remote (its remotes: "
                f"{choices}); pass one of them or add it with `git remote add {given} URL`"
            )
        return given
    chosen = default_remote(repo)
    if chosen is None:
        if not names:
            raise RepoError(
                f"repository {root} has no remote to push the code of {runs} "
                f"run{'s' * (runs != 1)} to; add one with `git remote add origin URL` "
                "(a bare repository works), or carry the runs with `naga export`"
            )
        raise UsageError(
            f"repository {root} has several remotes and no upstream or origin "
            f"({', '.join(names)}); choose one with --remote NAME"
        )
    return chosen


def _report(root: Path, code: RepoCode, planned: Any, *, dry_run: bool) -> int:
    verb = "would push" if dry_run else "pushed"
    print(f"{root} → {planned.remote} ({planned.url})")
    for need, ref in planned.send:
        runs = code.needs[need]
        who = display_path(runs[0].dir) + (f" and {len(runs) - 1} more" if len(runs) > 1 else "")
        print(
            f"  {verb:<10} {ref}  ({need.label()}, {len(runs)} run{'s' * (len(runs) != 1)}: {who})"
        )
    for need in planned.absent:
        runs = code.needs[need]
        print(
            f"  missing    {need.label()} needed by {display_path(runs[0].dir)}: not in this "
            "repository (snapshot ref deleted?), so it cannot be pushed"
        )
    if not planned.send:
        held = count_code(planned.present)
        print(f"  nothing to push: the remote already holds the {held} the runs need")
    else:
        print(f"  {len(planned.send)} {verb}, {len(planned.present)} already there")
    return len(planned.absent)
