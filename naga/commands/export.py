"""``naga export DIR... -o FILE``: runs and the code they need, in one file that travels.

For air-gapped clusters and for handing results to someone: run folders plus, per
repository, a git bundle of exactly the commits and snapshots they need (docs/travel.md).
The file's format is :mod:`naga.commands._archive`.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from naga.commands import _render as r
from naga.commands._archive import GIT, RUNS, Writer
from naga.commands._clone import RepoCode, code_by_repository, count_code
from naga.errors import RepoError, UsageError
from naga.lock.atomic import TMP_MARK
from naga.lock.format import LOCK_NAME
from naga.results.locks import SKIP_DIRS, Run, find_runs


def add_parser(subparsers: Any) -> None:
    """Declare ``naga export``."""
    parser = subparsers.add_parser(
        "export",
        help="write runs and the git commits and snapshots they need to one file",
        description="Write the runs below each DIR (their folders; only the receipts with "
        "--receipts-only) and a git bundle of exactly the commits and snapshots they need "
        "into FILE (a tar; gzip-compressed when FILE ends in .gz or .tgz). `naga import "
        "FILE` in another clone of the repository puts them back, no network needed.",
    )
    parser.add_argument("dirs", nargs="+", metavar="DIR", help="directories holding runs")
    parser.add_argument("-o", "--output", required=True, metavar="FILE", help="the file to write")
    parser.add_argument(
        "--receipts-only",
        action="store_true",
        help="only the receipts (run.lock, sweep.lock), not the runs' output files",
    )
    parser.add_argument("--force", action="store_true", help="replace FILE if it exists")


def run(args: argparse.Namespace) -> int:
    """Write the export file; exit 0."""
    roots = [Path(d) for d in args.dirs]
    target = Path(args.output)
    if target.exists() and not args.force:
        raise UsageError(
            f"-o {args.output}: the file exists; choose another name or pass --force to replace it"
        )
    # The package list and upstream receipts are most of a receipt, and not needed here.
    runs = find_runs(roots, skip=("environment", "upstream"))
    if not runs:
        raise UsageError(
            f"no run.lock below {' '.join(args.dirs)}, so there is nothing to export; pass "
            "directories that hold runs (`naga ls DIR` lists them)"
        )
    anchor, in_clone = _anchor(roots)
    upstream = _upstream_dirs(runs, roots, anchor)
    if upstream:
        # A run re-created elsewhere reads its upstream stages' outputs: they travel too.
        roots += upstream
        runs = find_runs(roots, skip=("environment", "upstream"))
    repos, gone = code_by_repository(runs)
    if gone:
        raise RepoError(
            f"repository {gone[0]}, recorded by runs below {' '.join(args.dirs)}, is not on "
            "this machine, so their code cannot be exported; export where the runs were made"
        )
    files = _files(roots, anchor, receipts_only=args.receipts_only)
    sizes = {"receipts": 0, "outputs": 0, "code": 0}
    head = {
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "host": platform.node(),
        "anchor": "clone" if in_clone else "dir",
        "receipts_only": bool(args.receipts_only),
        "runs": [_run_entry(run, anchor) for run in runs],
    }
    try:
        total = _write(target, files, repos, head, sizes)
    except OSError as exc:  # a file that cannot be read, a full disk: no file is left
        where = exc.filename or target
        raise UsageError(
            f"cannot export: {where}: {exc.strerror or exc}; fix the file's permissions or "
            "free some space, then export again (nothing was written)"
        ) from exc
    states = count_code(need for code in repos.values() for need in code.needs)
    print(
        f"exported {len(runs)} run{'s' * (len(runs) != 1)} to {target} ({r.size(total)}): "
        f"receipts {r.size(sizes['receipts'])}, outputs "
        + ("left out (--receipts-only)" if args.receipts_only else r.size(sizes["outputs"]))
        + f", code {r.size(sizes['code'])} ({states} of {len(repos)} "
        f"repositor{'ies' if len(repos) != 1 else 'y'})"
    )
    for directory in upstream:
        print(f"  with the upstream stage {directory.relative_to(anchor).as_posix()}")
    print(f"import it in another clone with: naga import {target.name}")
    return 0


def _write(
    target: Path,
    files: list[tuple[str, Path]],
    repos: dict[Path, RepoCode],
    head: dict[str, Any],
    sizes: dict[str, int],
) -> int:
    """Write the export file (run files, one bundle per repository, the manifest).

    Returns:
        The file's size; ``sizes`` is filled with the bytes of receipts, outputs and code.
    """
    from naga.lock.git import bundle
    from naga.lock.git.recorded import open_repo

    manifest_repos = []
    with Writer(target) as writer, tempfile.TemporaryDirectory(prefix="naga-export-") as tmp:
        for name, path in files:
            if path.is_symlink():
                writer.add_symlink(f"{RUNS}/{name}", str(path.readlink()))
                continue
            kind = "receipts" if _is_receipt(path) else "outputs"
            sizes[kind] += writer.add_file(f"{RUNS}/{name}", path)
        for number, (root, code) in enumerate(sorted(repos.items())):
            member = f"{GIT}/{number}.bundle"
            made = Path(tmp) / f"{number}.bundle"
            origins = bundle.create(open_repo(root), code.needs, made)
            sizes["code"] += writer.add_file(member, made)
            manifest_repos.append(_repo_entry(root, code, member, origins))
        return writer.finish({**head, "repos": manifest_repos})


def _anchor(roots: list[Path]) -> tuple[Path, bool]:
    """Where the runs' paths in the file start: the clone holding them, else their parent.

    Paths relative to the clone's root land at the same place in the importing clone,
    so the runs' relative data paths and upstream links hold there too.
    """
    from naga.lock.git import find_repo_root

    absolute = [Path(os.path.abspath(root)) for root in roots]  # noqa: PTH100 - keep links
    clones = {find_repo_root(root, resolve=False) for root in absolute}
    if len(clones) == 1 and None not in clones:
        return next(iter(c for c in clones if c is not None)), True
    parents = [root.parent if root.is_dir() else root.parent.parent for root in absolute]
    return Path(os.path.commonpath(parents)), False


def _upstream_dirs(runs: list[Run], roots: list[Path], anchor: Path) -> list[Path]:
    """Upstream run directories (``prevs``) the runs need and no DIR holds, transitively.

    Only those below ``anchor`` (they must have a place in the file); an upstream stage
    elsewhere is left out, as ``naga verify`` on the imported run will then say.
    """
    from naga.results.locks import load_run

    held = [Path(os.path.abspath(root)) for root in roots]  # noqa: PTH100
    found: list[Path] = []
    todo = list(runs)
    while todo:
        run = todo.pop()
        for entry in run.section("prevs").values():
            if not isinstance(entry, dict):
                continue
            where = Path(os.path.normpath(run.dir / str(entry.get("path", "."))))
            if any(where == h or h in where.parents for h in [*held, *found]):
                continue
            if anchor not in where.parents or not (where / LOCK_NAME).is_file():
                continue
            found.append(where)
            todo.append(load_run(where))
    return sorted(found)


def _is_receipt(path: Path) -> bool:
    from naga.launch.record.files import SWEEP_LOCK

    return path.name in (LOCK_NAME, SWEEP_LOCK)


def _files(roots: list[Path], anchor: Path, *, receipts_only: bool) -> list[tuple[str, Path]]:
    """``(name relative to anchor, path)`` of every file to export, each once, sorted."""
    found: dict[str, Path] = {}
    for root in roots:
        top = Path(os.path.abspath(root))  # noqa: PTH100 - keep links as walked
        walked = [(str(top.parent), [], [top.name])] if top.is_file() else os.walk(top)
        for dirpath, dirnames, filenames in walked:
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
            for name in filenames:
                path = Path(dirpath) / name
                if _skipped(path) or (receipts_only and not _is_receipt(path)):
                    continue
                if path.is_symlink() and not _link_stays_inside(path, top):
                    continue  # a link out of the runs means nothing on another machine
                found[path.relative_to(anchor).as_posix()] = path
    return sorted(found.items())


def _skipped(path: Path) -> bool:
    """naga's own lock and temporary files, never part of a run."""
    name = path.name
    return TMP_MARK in name or (name.startswith(".") and name.endswith(".lock.lock"))


def _link_stays_inside(path: Path, top: Path) -> bool:
    target = str(path.readlink())
    if Path(target).is_absolute():
        return False
    landing = os.path.normpath(os.path.join(path.parent, target))  # noqa: PTH118
    return os.path.commonpath([landing, str(top)]) == str(top)


def _run_entry(run: Run, anchor: Path) -> dict[str, Any]:
    return {"path": run.dir.relative_to(anchor).as_posix(), "run_id": run.run_id}


def _repo_entry(root: Path, code: RepoCode, member: str, origins: list[str]) -> dict[str, Any]:
    return {
        "root": str(root),
        "bundle": member,
        "roots": origins,
        "remotes": code.remotes,
        "needs": [
            {"sha": need.sha, "kind": need.kind, "ref": need.ref, "tree": need.tree}
            for need in code.needs
        ],
    }
