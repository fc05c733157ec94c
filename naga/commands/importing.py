"""``naga import FILE [--into DIR]``: put runs exported elsewhere into this clone.

The file is checked whole (members, manifest, bundles, repository, runs already at the
target) before anything is written; a different run already at the target is never
overwritten (exit 2).
"""

from __future__ import annotations

import argparse
import filecmp
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from naga.commands._archive import RUNS, extracted
from naga.commands._clone import count_code
from naga.errors import RepoError, UsageError
from naga.lock.format import LOCK_NAME, try_read
from naga.lock.git.remotes import Need


def add_parser(subparsers: Any) -> None:
    """Declare ``naga import``."""
    parser = subparsers.add_parser(
        "import",
        help="put runs written by `naga export` (and their code) into this clone",
        description="Check FILE whole (members, sizes, hashes, git bundles), add the "
        "commits and snapshot refs it carries to this clone's repository, and put the run "
        "folders under DIR (default: the root of the clone holding the current directory "
        "when they were exported from inside a clone, so they land where they were there; "
        "else the current directory). Nothing is written when "
        "anything is refused; a different run already at the target is never overwritten.",
    )
    parser.add_argument("file", metavar="FILE", help="a file written by `naga export`")
    parser.add_argument("--into", metavar="DIR", help="where the run folders go")


@dataclass
class _Placement:
    """What the import will do with the extracted files."""

    new: list[tuple[Path, Path]] = field(default_factory=list)  # (extracted, target)
    same: int = 0  # files already at the target with the same content
    runs_new: int = 0
    runs_same: int = 0


def run(args: argparse.Namespace) -> int:
    """Import the file; exit 0."""
    from naga.lock.git import find_repo_root
    from naga.lock.git.bundle import unbundle

    archive = Path(args.file)
    clone = find_repo_root(Path.cwd(), resolve=False)
    beside = Path(args.into) if args.into else clone or Path.cwd()
    with extracted(archive, beside) as (temp, manifest):
        # Runs exported from inside a clone land where they were in it; others here.
        from_clone = manifest.get("anchor") == "clone"
        into = Path(args.into) if args.into else (clone if from_clone else None) or Path.cwd()
        into = Path(os.path.abspath(into))  # noqa: PTH100 - keep the route the user named
        target_clone = find_repo_root(into, resolve=False)
        repos = _match_repositories(manifest, temp, target_clone, args.file)
        placement = _plan(manifest, temp / RUNS, into, args.file)
        refs = []
        for repo, root, bundle_file, needs in repos:
            refs += unbundle(repo, root, bundle_file, needs)
        for source, target in placement.new:
            target.parent.mkdir(parents=True, exist_ok=True)
            source.replace(target)
    runs = placement.runs_new + placement.runs_same
    print(
        f"imported {placement.runs_new} of {runs} run{'s' * (runs != 1)} into {into}"
        + (f" ({placement.runs_same} already there, unchanged)" if placement.runs_same else "")
    )
    for _, root, _, needs in repos:
        print(f"  code: {count_code(needs)} in {root}")
    if refs:
        print(
            f"  added {len(refs)} ref{'s' * (len(refs) != 1)}: {', '.join(refs[:3])}"
            + (f" and {len(refs) - 3} more" if len(refs) > 3 else "")
        )
    return 0


def _match_repositories(
    manifest: dict[str, Any], temp: Path, clone: Path | None, shown: str
) -> list[tuple[Any, Path, Path, list[Need]]]:
    """Each bundle with the repository here that receives it (verified, not yet applied).

    The clone holding the target receives the bundle of its own repository (they share
    their root commit). Runs that also recorded other repositories (``repos=['.',
    '../lib']``) bring their bundles too: each goes to a clone of its repository found at
    the recorded path, or beside this clone under the same name; one that has none here is
    left out, with a line saying so.

    Raises:
        RepoError: The target is in no clone, the clone is of another repository, or git
            refuses a bundle.
    """
    from naga.lock.git import bundle
    from naga.lock.git.recorded import try_open_repo

    entries = [e for e in manifest.get("repos") or [] if isinstance(e, dict)]
    if not entries:
        return []
    if clone is None:
        raise RepoError(
            f"{shown} carries the code of its runs, but the target is not inside a git "
            "clone; run naga import inside a clone of the runs' repository (or pass "
            "--into a directory inside one)"
        )
    matched = []
    skipped: list[str] = []
    for entry in entries:
        roots = [str(s) for s in entry.get("roots") or []]
        recorded = Path(str(entry.get("root") or clone))
        found = None
        for candidate in dict.fromkeys([clone, recorded, clone.parent / recorded.name]):
            repo = try_open_repo(candidate)
            if repo is not None and bundle.shares_history(repo, roots):
                found = (repo, candidate)
                break
        if found is None:
            skipped.append(str(recorded))
            continue
        bundle_file = temp / str(entry.get("bundle"))
        heads = bundle.heads(found[1], bundle_file)
        if isinstance(heads, str):
            raise RepoError(
                f"{shown}: git refuses its bundle {entry.get('bundle')} ({heads}); nothing "
                "was written; export the runs again"
            )
        needs = [
            Need(sha=str(n["sha"]), kind=str(n["kind"]), ref=str(n["ref"]), tree=n.get("tree"))
            for n in entry.get("needs") or []
            if isinstance(n, dict)
        ]
        if any(heads.get(need.ref) != need.sha for need in needs):
            raise RepoError(
                f"{shown}: its bundle {entry.get('bundle')} lacks code the runs need; "
                "nothing was written; export the runs again"
            )
        matched.append((found[0], found[1], bundle_file, needs))
    if not any(_same(root, clone) for _, root, _, _ in matched):
        raise RepoError(
            f"{clone} is a clone of a different repository than the one the runs in "
            f"{shown} were made in ({entries[0].get('root')}); nothing was written; import "
            "in a clone of that repository"
        )
    for root in skipped:
        print(f"  left out: the code of repository {root} (no clone of it found here)")
    return matched


def _same(a: Path, b: Path) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def _plan(manifest: dict[str, Any], extracted_runs: Path, into: Path, shown: str) -> _Placement:
    """Compare what was extracted with the target; refuse to overwrite anything.

    A directory the target lacks is moved whole (one rename, however many runs it holds);
    below a directory the target has, each file is new, identical (skipped) or different
    (refused).

    Raises:
        UsageError: A different run, or a different file, is already at the target.
    """
    placement = _Placement()
    for entry in manifest.get("runs") or []:
        if not isinstance(entry, dict):
            continue
        rel, theirs = str(entry.get("path")), entry.get("run_id")
        here = try_read(into / rel / LOCK_NAME, head=True)  # run_id is in the head
        if here is None:
            placement.runs_new += 1
            continue
        placement.runs_same += 1
        if here.get("run_id") != theirs:
            raise UsageError(
                f"{into / rel} already holds a different run (run {here.get('run_id')}, the "
                f"file has run {theirs}); nothing was written; move it away or import into "
                "another directory with --into"
            )
    if not extracted_runs.is_dir():
        return placement
    for dirpath, dirnames, filenames in os.walk(extracted_runs):
        level = Path(dirpath)
        target_level = into / level.relative_to(extracted_runs)
        whole = [d for d in dirnames if not os.path.lexists(target_level / d)]
        links = [d for d in dirnames if (level / d).is_symlink()]  # os.walk lists them as dirs
        dirnames[:] = [d for d in dirnames if d not in whole and d not in links]
        for name in dirnames:
            if not (target_level / name).is_dir():
                raise UsageError(
                    f"{target_level / name} already exists and is not a directory; nothing "
                    "was written; move it away or import into another directory with --into"
                )
        for name in sorted({*filenames, *links, *whole}):
            source = level / name
            target = into / source.relative_to(extracted_runs)
            if name in whole:
                placement.new.append((source, target))
                continue
            if os.path.lexists(target):
                if source.is_symlink() or target.is_symlink() or target.is_dir():
                    same = _same_link(source, target)
                else:
                    same = filecmp.cmp(source, target, shallow=False)
                if not same:
                    raise UsageError(
                        f"{target} already exists with other content; nothing was written; "
                        "move it away or import into another directory with --into"
                    )
                placement.same += 1
                continue
            placement.new.append((source, target))
    return placement


def _same_link(source: Path, target: Path) -> bool:
    if source.is_symlink() and target.is_symlink():
        return source.readlink() == target.readlink()
    return False
