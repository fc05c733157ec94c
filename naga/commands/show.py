"""``naga show RUN``: a readable summary of one run.lock (or the raw lock as JSON)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from naga.commands import _render as r
from naga.commands._compare import metric_text
from naga.lock.git.recorded import run_code
from naga.lock.liveness import recorded_slurm_id
from naga.lock.status import LOST, REQUEUED, RUNNING
from naga.results.locks import Run, as_dict, code_state, display_path, load_run


def add_parser(subparsers: Any) -> None:
    """Declare ``naga show``."""
    parser = subparsers.add_parser(
        "show",
        help="summarize one run: status, timing, command, metrics, code, data, lineage, config",
        description="Summarize one run from its run.lock: status, when and how long, the "
        "command, its metrics, the code state (commit, dirty, snapshot, the tree that ran), "
        "data hashes, upstream stages and the resolved config.",
    )
    parser.add_argument("run", metavar="RUN", help="a run directory (save_dir) or its run.lock")
    parser.add_argument(
        "--json", action="store_true", help="print the whole run.lock as JSON instead"
    )


def run(args: argparse.Namespace) -> int:
    """Print the summary; exit 0."""
    found = load_run(args.run)
    if args.json:
        print(json.dumps(found.lock, indent=2, ensure_ascii=False, default=str))
        return 0
    print(summary(found))
    return 0


def summary(run: Run) -> str:
    """The human-readable summary of ``run`` printed by ``naga show``."""
    lock = run.lock
    script = as_dict(lock.get("script"))
    env = as_dict(lock.get("environment"))
    where = script.get("path") or "-"
    if script.get("function"):
        where += f":{script['function']}"
    if script.get("repo"):
        where += f"  (repo {script['repo']})"
    status = run.status
    if status in (RUNNING, LOST) and lock.get("pid") is not None:
        gone = " (gone: its receipt can no longer change)" if status == LOST else ""
        status += f"  pid {lock['pid']} on {lock.get('host', '?')}{gone}"
    elif status == REQUEUED:
        status += "  (Slurm runs the job again; its next attempt continues this run)"
    head = [
        ("run", display_path(run.path)),
        ("status", status),
        ("run id", str(lock.get("run_id") or "-")),
        ("started", r.timestamp(lock.get("started_at"))),
        ("finished", r.timestamp(lock.get("finished_at"))),
        ("duration", r.duration(lock.get("duration_s"))),
        ("command", r.command_line(lock.get("command"))),
        ("cwd", str(lock.get("cwd") or "-")),
        ("host", str(lock.get("host") or "-")),
        ("script", where),
        ("launcher", str(lock.get("launcher") or "-")),
    ]
    slurm = recorded_slurm_id(lock)
    if slurm:  # the id scancel and sacct take (ARRAYID_TASKID for an array task)
        head.append(("slurm job", slurm))
    if env:
        head.append(("python", f"{env.get('python', '-')} ({env.get('executable', '-')})"))
    lines = r.key_values(head)

    error = lock.get("error")
    if isinstance(error, dict):
        message = str(error.get("message") or "").strip().splitlines()
        lines += ["", "error", f"  {error.get('type', 'Error')}: {message[0] if message else ''}"]

    lines += ["", "metrics"]
    metrics = run.section("metrics")
    if not metrics:
        lines.append("  (no metrics recorded)")
    lines += r.key_values([(str(k), metric_text(v)) for k, v in metrics.items()], indent="  ")

    lines += ["", "code"]
    repos = run.section("repos")
    if not repos:
        lines.append("  (no repository recorded)")
    else:
        # The value of `naga ls`'s code column: equal for two runs exactly when they ran
        # the same tree.
        lines.append(f"  ran  {run_code(repos) or 'unknown (dirty without a snapshot)'}")
    for key, entry in repos.items():
        lines.append(f"  {key}  {_repo_line(as_dict(entry))}")
        if isinstance(entry, dict):
            for note in entry.get("not_captured") or []:
                lines.append(f"      not captured: {note}")
            for big in entry.get("untracked_large") or []:
                if isinstance(big, dict):
                    lines.append(
                        f"      untracked, too large to snapshot: {big.get('path')} "
                        f"({r.size(big.get('size'))}, {r.short_hash(big.get('hash'))})"
                    )

    lines += ["", "data"]
    data = run.section("data")
    if not data:
        lines.append("  (no data recorded)")
    rows = []
    for key, raw in data.items():
        entry = as_dict(raw)
        files = entry.get("files")
        shape = entry.get("kind", "-") + (f", {files} files" if entry.get("kind") == "dir" else "")
        rows.append((str(key), shape, r.size(entry.get("size")), str(entry.get("hash") or "-")))
    if rows:
        lines += [
            "  " + line for line in r.table(("key", "kind", "size", "hash"), rows).splitlines()
        ]

    lines += ["", "lineage", *_lineage_lines(run)]

    lines += ["", "config"]
    config = run.config
    if not config:
        lines.append("  (empty)")
    else:
        lines += ["  " + line for line in _yaml(config).splitlines()]
    redacted = lock.get("redacted") or []
    if redacted:
        lines.append(f"  (redacted: {', '.join(map(str, redacted))})")
    return "\n".join(lines)


def _lineage_lines(run: Run) -> list[str]:
    """The direct upstream stages as a table whose columns line up, however long the keys."""
    prevs = run.section("prevs")
    upstream = run.section("upstream")
    if not prevs:
        return ["  (no upstream stage)"]
    rows = []
    for key, raw in prevs.items():
        entry = as_dict(raw)
        rid = entry.get("run_id")
        up = upstream.get(rid, {}) if rid else {}
        up_lock = up.get("lock") if isinstance(up, dict) else None
        status = up_lock.get("status", "?") if isinstance(up_lock, dict) else "?"
        rows.append((str(key), str(entry.get("path", "-")), r.short_id(rid), str(status)))
    table = r.table(("stage", "path", "run", "status"), rows)
    lines = ["  " + line for line in table.splitlines()]
    if len(upstream) > len(prevs):
        lines.append(f"  ({len(upstream)} upstream runs in total; see `naga lineage`)")
    return lines


def _repo_line(entry: dict[str, Any]) -> str:
    commit, _ = code_state(entry)
    parts = [f"commit {r.short_id(entry.get('commit'))}"]
    parts.append(f"({entry['branch']})" if entry.get("branch") else "(detached)")
    if entry.get("dirty"):
        snapshot = entry.get("snapshot")
        if isinstance(snapshot, dict) and snapshot.get("commit"):
            parts.append(f"dirty, snapshot {r.short_id(commit)} ({snapshot.get('ref', '-')})")
        else:
            parts.append("dirty, no snapshot")
    else:
        parts.append("clean")
    if entry.get("root"):
        parts.append(f"at {entry['root']}")
    return " ".join(parts)


def _yaml(tree: Any) -> str:
    import yaml

    return yaml.safe_dump(tree, sort_keys=False, allow_unicode=True, default_flow_style=False)
