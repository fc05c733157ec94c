"""``naga diff A B``: what differs between two runs (config, code, data, metrics, lineage, env).

The verdict is in docs/commands.md. What is compared is decided by a field's *position*
in the run.lock, never by its name: top-level bookkeeping fields and ``config.save_dir``
differ by construction and are ignored, while every key under ``config`` (even one named
``time``) is compared. Code not found here is not comparable, never the same or different.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from naga.commands import _render as r
from naga.commands._clone import ensure_code, locate
from naga.commands._compare import ABSENT, canon, mapping_lines, metric_lines
from naga.errors import NagaError
from naga.lock.git.recorded import ResolvedTree, changed_files, resolve_tree, try_open_repo
from naga.results.locks import Run, as_dict, code_state, comparable_config, display_path, load_run

# environment fields that name this machine rather than the software that ran.
_VOLATILE_ENV = frozenset({"executable"})


def add_parser(subparsers: Any) -> None:
    """Declare ``naga diff``."""
    parser = subparsers.add_parser(
        "diff",
        help="show what differs between two runs; exit 1 when they differ",
        description="Compare two runs: config keys, code (by git tree: two commits with "
        "one tree are the same code), data hashes, metrics, upstream stages, software "
        "environment. Timestamps, durations, run ids, host, cwd, the command line and "
        "config.save_dir are ignored; output files are not compared (naga rerun does). "
        "Exit status: 0 when the runs are equivalent, 1 when they differ or their code "
        "cannot be compared here.",
    )
    parser.add_argument("a", metavar="A", help="first run (directory or run.lock)")
    parser.add_argument("b", metavar="B", help="second run (directory or run.lock)")
    parser.add_argument(
        "--files", action="store_true", help="list the files that differ between the code states"
    )
    parser.add_argument("--json", action="store_true", help="print the differences as JSON")


def run(args: argparse.Namespace) -> int:
    """Print the differences; exit 0 when equivalent, 1 otherwise."""
    # Read against this clone: results copied from another machine name its paths.
    a, b = locate(load_run(args.a)).run, locate(load_run(args.b)).run
    sections = compare(a, b, files=args.files)
    if args.json:
        print(json.dumps(sections, indent=2, ensure_ascii=False))
        return 1 if sections else 0
    print(f"--- {display_path(a.dir)}  (run {r.short_id(a.run_id)}, {a.status})")
    print(f"+++ {display_path(b.dir)}  (run {r.short_id(b.run_id)}, {b.status})")
    if not sections:
        print(
            "equivalent: same config, code, data, metrics, lineage and environment "
            "(timestamps, durations, run ids, host, cwd, command line and save_dir ignored; "
            "output files not compared)"
        )
        return 0
    for name, lines in sections.items():
        print(name)
        for line in lines:
            print(f"  {line}")
    return 1


def compare(a: Run, b: Run, *, files: bool = False) -> dict[str, list[str]]:
    """The differences between two runs, as printable lines grouped by section.

    Args:
        files: Also list the files that differ between the two code states.

    Returns:
        ``{section: [line, ...]}`` holding only sections with differences; empty when the
        runs are equivalent.
    """
    sections: dict[str, list[str]] = {}
    run_lines = []
    if a.status != b.status:
        run_lines.append(f"status: {a.status} → {b.status}")
    for field in ("path", "function"):
        old, new = a.section("script").get(field), b.section("script").get(field)
        if old != new:
            run_lines.append(f"script.{field}: {r.value(old)} → {r.value(new)}")
    _put(sections, "run", run_lines)
    _put(sections, "config", mapping_lines(comparable_config(a), comparable_config(b)))
    _put(sections, "code", _code_lines(a, b, files=files))
    _put(sections, "data", _field_lines(a, b, "data", "hash", r.short_hash))
    _put(sections, "metrics", metric_lines(a.section("metrics"), b.section("metrics")))
    _put(sections, "lineage", _field_lines(a, b, "prevs", "run_id", _run_label))
    _put(sections, "environment", _env_lines(a, b))
    return sections


def _put(sections: dict[str, list[str]], name: str, lines: list[str]) -> None:
    if lines:
        sections[name] = lines


def _state_label(entry: dict[str, Any]) -> str:
    sha, kind = code_state(entry)
    if kind == "snapshot":
        tree = (entry.get("snapshot") or {}).get("tree")
        return f"commit {r.short_id(entry.get('commit'))} + snapshot tree {r.short_id(tree)}"
    if entry.get("dirty"):
        return f"commit {r.short_id(sha)} (dirty, no snapshot)"
    return f"commit {r.short_id(sha)}"


def _same_code(old: dict[str, Any], new: dict[str, Any]) -> tuple[bool, str | None]:
    """(same code, why it cannot be told): trees compared; ``(False, why)`` when unknown."""
    old_sha, _ = code_state(old)
    new_sha, _ = code_state(new)
    unknown = [e for e in (old, new) if e.get("dirty") and not (e.get("snapshot") or {})]
    if (
        not unknown
        and old_sha
        and old_sha == new_sha
        and bool(old.get("dirty")) == bool(new.get("dirty"))
    ):
        return True, None  # one commit (or one snapshot commit) holds one tree
    # A commit id names the same content in every clone: look each side up in both
    # repositories (a rerun's own root is a worktree removed after the rerun).
    roots = [old.get("root"), new.get("root")]
    trees: list[ResolvedTree] = [resolve_tree(old, roots=roots), resolve_tree(new, roots=roots)]
    if trees[0].tree is None or trees[1].tree is None:
        problems = "; ".join(dict.fromkeys(t.problem for t in trees if t.problem))
        if any(t.missing for t in trees):
            problems += "; fetch the missing commit (git fetch) and diff again"
        return False, problems
    return trees[0].tree == trees[1].tree, None


def _code_lines(a: Run, b: Run, *, files: bool) -> list[str]:
    old_repos, new_repos = a.section("repos"), b.section("repos")
    lines = []
    for key in [*old_repos, *(k for k in new_repos if k not in old_repos)]:
        old, new = old_repos.get(key), new_repos.get(key)
        if not isinstance(new, dict):
            lines.append(f"{key}: {_state_label(as_dict(old))} → {ABSENT}")
            continue
        if not isinstance(old, dict):
            lines.append(f"{key}: {ABSENT} → {_state_label(new)}")
            continue
        old_sha, _ = code_state(old)
        new_sha, _ = code_state(new)
        # Two commits with one tree (an amended message, a rebase, a dirty run's snapshot
        # and its rerun's checkout) hold the same code.
        same, unknown = _same_code(old, new)
        if unknown and _fetched(((a, old, new), (b, new, old))):
            same, unknown = _same_code(old, new)
        if unknown:
            lines.append(
                f"{key}: {_state_label(old)} → {_state_label(new)}: cannot be compared here: "
                f"{unknown}"
            )
        elif not same:
            lines.append(f"{key}: {_state_label(old)} → {_state_label(new)}")
            if files and old_sha and new_sha:
                pair = ((a, old, old_sha), (b, new, new_sha))
                lines.extend(f"    {change}" for change in _files(pair))
        old_big = {canon(x) for x in old.get("untracked_large") or []}
        new_big = {canon(x) for x in new.get("untracked_large") or []}
        if old_big != new_big:
            lines.append(f"{key}: untracked large files differ")
        if canon(old.get("submodules") or {}) != canon(new.get("submodules") or {}):
            lines.append(f"{key}: submodules differ")
    return lines


def _fetched(sides: tuple[tuple[Run, dict[str, Any], dict[str, Any]], ...]) -> bool:
    """Fetch the code of runs copied from another clone; True when anything was fetched.

    A commit or snapshot that no remote has leaves the comparison unknown, which the caller
    reports; it is not an error of ``naga diff``.
    """
    fetched = False
    for run, entry, other in sides:
        try:
            fetched = bool(ensure_code(locate(run), entry, [other])) or fetched
        except NagaError:
            continue
    return fetched


def _files(pair: tuple[tuple[Run, dict[str, Any], str], ...]) -> list[str]:
    """The files that differ between the code states of ``((run, entry, sha), ...)``."""
    (a, old, old_sha), (b, new, new_sha) = pair
    for run, entry, other in ((b, new, old), (a, old, new)):
        repo = try_open_repo(entry.get("root"))
        if repo is None:
            continue
        # Both code states must be here: fetched from a remote when the runs travelled.
        ensure_code(locate(run), entry, [other])
        return [str(change) for change in changed_files(repo, old_sha, new_sha)]
    return ["(file list unavailable: the recorded repository no longer exists)"]


def _run_label(run_id: Any) -> str:
    return f"run {r.short_id(run_id)}"


def _field_lines(a: Run, b: Run, section: str, field: str, show: Any) -> list[str]:
    """One line per entry of ``section`` whose ``field`` differs, shown with ``show``."""
    old = {k: as_dict(v).get(field) for k, v in a.section(section).items()}
    new = {k: as_dict(v).get(field) for k, v in b.section(section).items()}
    lines = []
    for key in [*old, *(k for k in new if k not in old)]:
        if old.get(key, ABSENT) != new.get(key, ABSENT):
            before = show(old[key]) if key in old else ABSENT
            after = show(new[key]) if key in new else ABSENT
            lines.append(f"{key}: {before} → {after}")
    return lines


def _env_lines(a: Run, b: Run) -> list[str]:
    old_env = as_dict(a.lock.get("environment"))
    new_env = as_dict(b.lock.get("environment"))
    old = {k: v for k, v in old_env.items() if k not in _VOLATILE_ENV and k != "packages"}
    new = {k: v for k, v in new_env.items() if k not in _VOLATILE_ENV and k != "packages"}
    lines = mapping_lines(old, new)
    old_pkgs = as_dict(old_env.get("packages"))
    new_pkgs = as_dict(new_env.get("packages"))
    lines += [f"packages.{line}" for line in mapping_lines(old_pkgs, new_pkgs)]
    return lines
