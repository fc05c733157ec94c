"""``naga verify RUN``: is everything a run.lock points to still there, unchanged?

Four kinds of drift, one line each (docs/commands.md): the receipt (edited after naga
wrote it), data (missing or changed), code (a repository missing, a commit or snapshot
unreachable) and lineage (an upstream run.lock missing, replaced or changed).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from naga.commands import _render as r
from naga.commands._clone import Located, ensure_code, locate
from naga.errors import LockError, NagaError
from naga.lock.format import DIGEST_KEY, LOCK_NAME, check_digest, read_lock
from naga.lock.git.recorded import has_commit, kept_by_a_ref, try_open_repo
from naga.lock.status import COMPLETED, LOST, RUNNING
from naga.results.locks import Run, as_dict, data_abspath, display_path, load_run

OK = "ok"


@dataclass(frozen=True)
class Finding:
    """The result of one check.

    Attributes:
        area: ``run``, ``receipt``, ``data``, ``code`` or ``lineage``.
        key: The recorded key (``status``, data name, repo key, prev key).
        status: ``ok`` or the drift: ``incomplete`` (the run did not complete),
            ``edited`` (the receipt), ``changed``, ``missing``, ``unreachable``, ``replaced``.
        detail: What was checked / what was found.
    """

    area: str
    key: str
    status: str
    detail: str

    @property
    def drift(self) -> bool:
        return self.status != OK


def add_parser(subparsers: Any) -> None:
    """Declare ``naga verify``."""
    parser = subparsers.add_parser(
        "verify",
        help="check that a run's receipt, data, commits, snapshots and upstream runs are unchanged",
        description="Check the run.lock against the integrity digest naga sealed it with, "
        "re-hash every data path it records (relative paths start at the recorded cwd; the "
        "hash cache makes unchanged data fast), check that every recorded commit and "
        "snapshot is in its repository (fetched from a remote when missing), and that "
        "upstream run.locks were not replaced. A run copied to another clone of its "
        "repository is checked against that clone. Exit status: 0 clean, 1 on any drift.",
    )
    parser.add_argument("run", metavar="RUN", help="a run directory (save_dir) or its run.lock")
    parser.add_argument(
        "--upstream",
        action="store_true",
        help="also verify the data and code recorded by every upstream stage",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="print only the drifts")


def run(args: argparse.Namespace) -> int:
    """Print one line per check; exit 1 when anything drifted."""
    as_read = load_run(args.run)
    located = locate(as_read)
    found = located.run
    targets: list[tuple[str, Run]] = [(display_path(found.dir), found)]
    if args.upstream:
        targets += upstream_runs(found)
    drifts = 0
    for label, target in targets:
        findings = verify(target)
        if target is found:
            findings.insert(1, verify_receipt(as_read))
        drifts += sum(f.drift for f in findings)
        print(f"{label}  (run {r.short_id(target.run_id)})")
        if target is found and located.note:
            print(f"  in another clone: {located.note}")
        rows = [
            ["  " + f.status.upper() if f.drift else "  ok", f.area, f.key, f.detail]
            for f in findings
            if f.drift or not args.quiet
        ]
        if rows:
            print(r.table(["", "", "", ""], rows).split("\n", 1)[1])
        elif not findings:
            print("  nothing recorded to verify")
    if drifts:
        print(f"{drifts} drift{'s' if drifts != 1 else ''} found")
        return 1
    print("clean: the receipt, every recorded data hash, commit, snapshot and upstream run match")
    return 0


def upstream_runs(run: Run) -> list[tuple[str, Run]]:
    """Every upstream stage as embedded in ``run``'s lock, labelled by its directory."""
    found = []
    for rid, entry in run.section("upstream").items():
        if not isinstance(entry, dict) or not isinstance(entry.get("lock"), dict):
            continue
        where = run.dir / str(entry.get("path", "."))
        label = f"{display_path(where)} [upstream]"
        found.append((label, Run(path=where / LOCK_NAME, lock={"run_id": rid, **entry["lock"]})))
    return found


def verify(run: Run) -> list[Finding]:
    """Check everything ``run`` records; one :class:`Finding` per data path, commit, prev."""
    return [*_verify_status(run), *verify_data(run), *_verify_code(run), *verify_lineage(run)]


def _verify_status(run: Run) -> list[Finding]:
    """A run that did not complete (failed, interrupted, still running, lost) is no result."""
    status = run.status
    if status == COMPLETED:
        return [Finding("run", "status", OK, COMPLETED)]
    why = {
        RUNNING: "still running: its outputs are not final yet",
        LOST: "lost: the receipt says running but its process or Slurm job is gone",
    }.get(status, f"{status}: the run did not complete")
    return [Finding("run", "status", "incomplete", why)]


def verify_receipt(run: Run) -> Finding:
    """Whether the run.lock, as read from disk, is what naga wrote (its integrity digest)."""
    intact = check_digest(run.lock)
    if intact is None:
        return Finding("receipt", DIGEST_KEY, OK, "no digest (written before naga sealed receipts)")
    recorded = str(run.lock.get(DIGEST_KEY))
    if intact:
        return Finding("receipt", DIGEST_KEY, OK, f"{r.short_hash(recorded)} matches its content")
    return Finding(
        "receipt",
        DIGEST_KEY,
        "edited",
        f"{LOCK_NAME} was changed after naga wrote it: its content no longer matches "
        f"{r.short_hash(recorded)}",
    )


def hash_recorded(path: Path) -> str:
    """Hash ``path`` the way runlock did (same scheme, same persistent cache)."""
    from naga.lock.hashing import hash_path

    return str(hash_path(path)["hash"])


def verify_data(run: Run) -> list[Finding]:
    findings = []
    for key, raw in run.section("data").items():
        entry = as_dict(raw)
        recorded = entry.get("hash")
        path = data_abspath(run, str(entry.get("path", key)))
        # Name the path only when the key does not already say it (dict-form data=).
        shown = "" if str(entry.get("path", key)) == str(key) else f"{entry.get('path')}  "
        if not path.exists():
            findings.append(Finding("data", str(key), "missing", f"{shown}not found at {path}"))
            continue
        kind = "dir" if path.is_dir() else "file"
        if entry.get("kind") and entry["kind"] != kind:
            detail = f"{shown}was a {entry['kind']}, is now a {kind}"
            findings.append(Finding("data", str(key), "changed", detail))
            continue
        try:
            current = hash_recorded(path)
        except NagaError as exc:
            findings.append(Finding("data", str(key), "missing", f"{shown}{exc}"))
            continue
        if current == recorded:
            findings.append(Finding("data", str(key), OK, f"{shown}{r.short_hash(recorded)}"))
        else:
            detail = f"{shown}{r.short_hash(recorded)} → {r.short_hash(current)}"
            findings.append(Finding("data", str(key), "changed", detail))
    return findings


def _verify_code(run: Run) -> list[Finding]:
    findings = []
    located = locate(run)
    for key, raw in run.section("repos").items():
        entry = as_dict(raw)
        root = entry.get("root")
        repo = try_open_repo(root)
        if repo is None:
            findings.append(Finding("code", str(key), "missing", f"repository {root} is gone"))
            continue
        fetched = _fetch(located, entry)
        if fetched:
            findings.append(Finding("code", str(key), OK, fetched))
        commit = entry.get("commit")
        snapshot = as_dict(entry.get("snapshot"))
        has_snapshot = bool(snapshot.get("commit"))
        if commit:
            findings.append(_check_commit(repo, str(key), str(commit), root, has_snapshot))
        if has_snapshot:
            findings.append(_check_snapshot(repo, str(key), snapshot, root))
    return findings


def _fetch(located: Located, entry: dict[str, Any]) -> str:
    """Fetch the entry's code when it is missing here; the findings then say what is found."""
    try:
        return ensure_code(located, entry)
    except NagaError:
        return ""  # reported as unreachable below


def _check_commit(repo: Any, key: str, commit: str, root: Any, has_snapshot: bool) -> Finding:
    label = f"commit {r.short_id(commit)}"
    if not has_commit(repo, commit):
        detail = f"{label} is not in {root} (fetch it from a remote)"
        return Finding("code", key, "unreachable", detail)
    # A dirty run's commit is kept by its snapshot (the snapshot's parent): checked there.
    if not has_snapshot and not kept_by_a_ref(repo, commit):
        detail = (
            f"{label} is on no branch, tag or other ref (amended or rebased away?); "
            f"`git gc` prunes it once its reflog entry expires: keep it with "
            f"`git tag <name> {r.short_id(commit, 12)}`"
        )
        return Finding("code", key, "unreachable", detail)
    return Finding("code", key, OK, label)


def _check_snapshot(repo: Any, key: str, snapshot: dict[str, Any], root: Any) -> Finding:
    sha = str(snapshot["commit"])
    ref = snapshot.get("ref")
    label = f"snapshot {r.short_id(sha)}"
    if not has_commit(repo, sha):
        return Finding(
            "code", key, "unreachable", f"{label} is not in {root} (its ref was deleted)"
        )
    if ref:
        target = repo.references.get(str(ref))
        if target is None or str(target.target) != sha:
            detail = f"{label} exists but {ref} no longer points to it; `git gc` may prune it"
            return Finding("code", key, "unreachable", detail)
    return Finding("code", key, OK, f"{label} ({ref or 'no ref recorded'})")


def verify_lineage(run: Run) -> list[Finding]:
    """Is every direct upstream stage's run.lock still the one ``run`` read?"""
    findings = []
    for key, raw in run.section("prevs").items():
        entry = as_dict(raw)
        where = run.dir / str(entry.get("path", "."))
        lock_path = where / LOCK_NAME
        recorded = entry.get("run_id")
        shown = display_path(where)
        named = "" if shown == str(key) else f"{shown}  "
        if not lock_path.is_file():
            findings.append(
                Finding("lineage", str(key), "missing", f"{shown}/{LOCK_NAME} not found")
            )
            continue
        try:
            current = read_lock(lock_path).get("run_id")
        except LockError as exc:
            findings.append(Finding("lineage", str(key), "changed", str(exc)))
            continue
        if current == recorded:
            findings.append(Finding("lineage", str(key), OK, f"{named}run {r.short_id(recorded)}"))
        else:
            detail = (
                f"{named}run {r.short_id(recorded)} → {r.short_id(current)} "
                "(the upstream stage was re-run)"
            )
            findings.append(Finding("lineage", str(key), "replaced", detail))
    return findings
