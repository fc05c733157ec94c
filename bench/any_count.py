"""Count the explicit ``Any`` in naga's type annotations (issue 21: ``Any`` in launch/ -80%).

    python bench/any_count.py [PATH ...]      (default: naga/launch)

Reads the source with ``ast`` (nothing is imported): an ``Any`` is a ``Name`` or attribute
(``typing.Any``) inside an annotation, i.e. a parameter's or return's annotation or the
annotation of ``x: T = ...``, string annotations included. Docstrings, comments and imports
do not count. ``Any`` used as a type elsewhere (an alias ``Row = dict[str, Any]``,
``cast(Any, x)``, a generic's argument in an expression) is counted in a second column:
mypy's ``disallow_any_explicit`` refuses both, and an alias moves ``Any`` out of the
annotations without removing it.
"""

from __future__ import annotations

import ast
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path


def _is_any(node: ast.AST) -> bool:
    return (isinstance(node, ast.Name) and node.id == "Any") or (
        isinstance(node, ast.Attribute) and node.attr == "Any"
    )


def _count(annotation: ast.AST | None) -> int:
    if annotation is None:
        return 0
    total = 0
    for node in ast.walk(annotation):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            # A string annotation ("dict[str, Any]"); a Literal["..."] value is no type.
            with contextlib.suppress(SyntaxError):
                total += _count(ast.parse(node.value, mode="eval"))
        elif _is_any(node):
            total += 1
    return total


def _annotations(tree: ast.AST) -> Iterator[ast.AST]:
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = node.args
            for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]:
                if arg is not None and arg.annotation is not None:
                    yield arg.annotation
            if node.returns is not None:
                yield node.returns
        elif isinstance(node, ast.AnnAssign):
            yield node.annotation


def count_file(path: Path) -> tuple[int, int]:
    """(``Any`` in annotations, ``Any`` elsewhere in code) of one module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    in_annotations = sum(_count(a) for a in _annotations(tree))
    everywhere = sum(1 for node in ast.walk(tree) if _is_any(node))
    return in_annotations, everywhere - _plain_count(tree)


def _plain_count(tree: ast.AST) -> int:
    # Any nodes inside annotations (not inside their string constants, which ast.walk of the
    # tree never sees as nodes): what "everywhere" must not count twice.
    return sum(1 for a in _annotations(tree) for node in ast.walk(a) if _is_any(node))


def main(argv: list[str]) -> int:
    roots = [Path(p) for p in argv] or [Path("naga/launch")]
    rows = []
    for root in roots:
        files = [root] if root.is_file() else sorted(root.rglob("*.py"))
        rows += [(str(f), *count_file(f)) for f in files]
    rows = [r for r in rows if r[1] or r[2]]
    rows.sort(key=lambda r: (-r[1], -r[2], r[0]))
    width = max((len(r[0]) for r in rows), default=4)
    print(f"{'file':<{width}}  annotations  other")
    for name, annotated, other in rows:
        print(f"{name:<{width}}  {annotated:>11}  {other:>5}")
    total_a, total_o = sum(r[1] for r in rows), sum(r[2] for r in rows)
    print(f"{'total':<{width}}  {total_a:>11}  {total_o:>5}")
    print(f"explicit Any in annotations under {', '.join(map(str, roots))}: {total_a}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
