"""``naga lineage RUN``: the graph of a run's upstream stages (tree, DOT, Mermaid, SVG).

The graph is built from the run.lock alone: ``prevs`` names the direct upstream runs and
``upstream`` embeds every transitive one (each with its own ``prevs``), so the picture is
what the run *saw*, even if upstream directories were re-run or deleted since.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from naga.commands import _render as r
from naga.errors import LockError, UsageError
from naga.lock.format import LOCK_NAME, read_lock
from naga.lock.status import BAD
from naga.results.locks import Run, as_dict, display_path, load_run, parse_time

FORMATS = ("tree", "dot", "mermaid")
_RENDERED = {".svg": "svg", ".png": "png", ".pdf": "pdf"}
_TEXT = {".dot": "dot", ".gv": "dot", ".mmd": "mermaid", ".txt": "tree"}


@dataclass
class Node:
    """One run in the lineage graph."""

    run_id: str
    where: Path  # the run's directory, as located from the root run.lock
    lock: dict[str, Any] | None  # None when the run.lock did not record this upstream run
    parents: list[tuple[str, str]] = field(default_factory=list)  # (prev key, run_id)

    def label_parts(self) -> list[str]:
        lock = self.lock or {}
        status = str(lock.get("status") or "not recorded")
        when = parse_time(lock.get("finished_at")) or parse_time(lock.get("started_at"))
        return [
            display_path(self.where),
            f"{status}  {r.short_time(when)}",
            f"run {r.short_id(self.run_id)}",
        ]


def add_parser(subparsers: Any) -> None:
    """Declare ``naga lineage``."""
    parser = subparsers.add_parser(
        "lineage",
        help="show a run's upstream stages as a tree, DOT or Mermaid graph (or render to SVG)",
        description="Draw the graph of a run's upstream stages, from the prevs/upstream "
        "sections of its run.lock. --output FILE writes the graph instead of printing it; the "
        "suffix chooses the form: .svg/.png/.pdf (rendered by Graphviz `dot`), .dot/.gv, "
        ".mmd, .txt.",
    )
    parser.add_argument("run", metavar="RUN", help="a run directory (save_dir) or its run.lock")
    parser.add_argument(
        "--format", choices=FORMATS, default="tree", help="what to print (default: tree)"
    )
    parser.add_argument("--output", "-o", metavar="FILE", help="write the graph to FILE")


def run(args: argparse.Namespace) -> int:
    """Print or write the graph; exit 0."""
    found = load_run(args.run)
    nodes, root = build_graph(found)
    if args.output:
        out = Path(args.output)
        suffix = out.suffix.lower()
        if suffix in _RENDERED:
            render_with_graphviz(to_dot(nodes, root), out, _RENDERED[suffix])
        elif suffix in _TEXT:
            text = {"dot": to_dot, "mermaid": to_mermaid, "tree": to_tree}[_TEXT[suffix]](
                nodes, root
            )
            out.write_text(text + "\n", encoding="utf-8")
        else:
            known = ", ".join([*_RENDERED, *_TEXT])
            raise UsageError(
                f"--output {args.output}: unknown file type '{suffix or '(none)'}'; "
                f"use one of {known}"
            )
        print(f"wrote {out}")
        return 0
    render = {"tree": to_tree, "dot": to_dot, "mermaid": to_mermaid}[args.format]
    print(render(nodes, root))
    return 0


def build_graph(run: Run) -> tuple[dict[str, Node], str]:
    """The nodes of ``run``'s lineage keyed by run id, and the root's run id."""
    upstream = run.section("upstream")
    root_id = run.run_id or "root"
    nodes: dict[str, Node] = {root_id: Node(root_id, run.dir, run.lock)}
    # Upstream entries are located relative to the root run.lock's directory.
    for rid, raw in upstream.items():
        entry = as_dict(raw)
        lock = entry.get("lock") if isinstance(entry.get("lock"), dict) else None
        nodes[str(rid)] = Node(str(rid), _norm(run.dir / str(entry.get("path", "."))), lock)
    pending = [root_id]
    seen: set[str] = set()
    while pending:
        rid = pending.pop()
        if rid in seen:
            continue
        seen.add(rid)
        node = nodes[rid]
        for key, raw in as_dict((node.lock or {}).get("prevs")).items():
            prev = as_dict(raw)
            prev_id = str(prev.get("run_id") or f"unknown:{node.run_id}:{key}")
            if prev_id not in nodes:
                nodes[prev_id] = _missing_node(prev_id, node.where / str(prev.get("path", ".")))
            node.parents.append((str(key), prev_id))
            pending.append(prev_id)
    return nodes, root_id


def _norm(path: Path) -> Path:
    # Collapse `a/../b` without resolving symlinks (mounted result trees stay as named).
    import os

    return Path(os.path.normpath(path))


def _missing_node(rid: str, where: Path) -> Node:
    """An upstream run the lock does not embed: read it from disk when it is still there."""
    where = _norm(where)
    lock = None
    try:
        candidate = read_lock(where / LOCK_NAME)
        if candidate.get("run_id") == rid:
            lock = candidate
    except LockError:
        pass
    return Node(rid, where, lock)


def to_tree(nodes: dict[str, Node], root: str) -> str:
    """The upstream graph as an indented terminal tree, root first."""
    lines = ["  ".join(nodes[root].label_parts())]
    shown: set[str] = {root}

    def walk(rid: str, prefix: str) -> None:
        parents = nodes[rid].parents
        for i, (key, parent) in enumerate(parents):
            last = i == len(parents) - 1
            node = nodes[parent]
            label = "  ".join(node.label_parts())
            if key != node.where.name and key != display_path(node.where):
                label = f"[{key}] {label}"
            repeat = parent in shown and node.parents
            lines.append(
                f"{prefix}{'└── ' if last else '├── '}{label}{'  (see above)' if repeat else ''}"
            )
            if not repeat:
                shown.add(parent)
                walk(parent, prefix + ("    " if last else "│   "))

    walk(root, "")
    return "\n".join(lines)


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def to_dot(nodes: dict[str, Node], root: str) -> str:
    """The graph in Graphviz DOT; edges point downstream (data flows along the arrows)."""
    lines = [
        "digraph lineage {",
        "  rankdir=LR;",
        '  node [shape=box, style="rounded,filled", fillcolor=white, fontname="Helvetica"];',
    ]
    for rid, node in nodes.items():
        label = "\\n".join(_dot_escape(part) for part in node.label_parts())
        status = (node.lock or {}).get("status")
        extra = ""
        if status in BAD:
            extra = ", color=red, fillcolor=mistyrose"
        elif rid == root:
            extra = ", penwidth=2"
        elif node.lock is None:
            extra = ", style=dashed"
        lines.append(f'  "{_dot_escape(rid)}" [label="{label}"{extra}];')
    for rid, node in nodes.items():
        for _key, parent in node.parents:
            lines.append(f'  "{_dot_escape(parent)}" -> "{_dot_escape(rid)}";')
    lines.append("}")
    return "\n".join(lines)


def _mermaid_id(rid: str) -> str:
    return "r" + "".join(ch if ch.isalnum() else "_" for ch in rid)


def to_mermaid(nodes: dict[str, Node], root: str) -> str:
    """The graph as a Mermaid flowchart (renders in GitHub/GitLab markdown)."""
    lines = ["graph LR"]
    for rid, node in nodes.items():
        label = "<br/>".join(part.replace('"', "#quot;") for part in node.label_parts())
        lines.append(f'  {_mermaid_id(rid)}["{label}"]')
    for rid, node in nodes.items():
        for _key, parent in node.parents:
            lines.append(f"  {_mermaid_id(parent)} --> {_mermaid_id(rid)}")
    failed = [rid for rid, n in nodes.items() if (n.lock or {}).get("status") in BAD]
    if failed:
        lines.append("  classDef failed stroke:#c00,fill:#fee")
        lines.append(f"  class {','.join(_mermaid_id(rid) for rid in failed)} failed")
    return "\n".join(lines)


def render_with_graphviz(dot_source: str, out: Path, fmt: str) -> None:
    """Render DOT source to ``out`` with Graphviz.

    Raises:
        UsageError: Graphviz's ``dot`` is not installed, or it failed.
    """
    exe = shutil.which("dot")
    if exe is None:
        raise UsageError(
            f"cannot write {out}: Graphviz `dot` is not on PATH; install Graphviz "
            "(e.g. `apt install graphviz`) or write the DOT source with "
            f"--output {out.with_suffix('.dot')}"
        )
    result = subprocess.run(
        [exe, f"-T{fmt}", "-o", str(out)],
        input=dot_source,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        message = " ".join(result.stderr.split()) or f"exit code {result.returncode}"
        raise UsageError(f"cannot write {out}: Graphviz dot failed: {message}")
