"""naga's source read as data, for tests/test_architecture.py (nothing here imports naga).

- :func:`load_modules`: every module under some top-level packages, parsed once;
- :func:`imports_of`: every import statement of those modules that names one of them
  (module-level and inside functions, ``if TYPE_CHECKING:`` blocks included, relative and
  absolute, ``from a import b`` with ``b`` a submodule or a name, and
  ``import_module("literal")``);
- :func:`cycles`: the import cycles, each as a path ``a -> b -> a``;
- :func:`read_layers`: the layer tables of docs/architecture.md (every Markdown table whose
  header is ``| layer | job | may import |``) and :func:`layer_violations` against them.

An import of ``a.b.c`` also runs the ``__init__`` of ``a`` and ``a.b``; those implicit
arrows are left out (every submodule would then "import" its package, and a package that
re-exports its submodules would be a circle by construction). Only what a statement names
is an arrow.
"""

from __future__ import annotations

import ast
import re
from collections import deque
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path


@dataclass(frozen=True)
class Module:
    """One ``.py`` file: ``naga.lock.git`` for ``naga/lock/git/__init__.py``."""

    name: str
    path: str  # relative to the root, with "/" separators
    is_package: bool
    tree: ast.Module = field(compare=False, repr=False)


@dataclass(frozen=True)
class Import:
    """One imported module (``target``) at one place (``path``:``line``) of ``importer``.

    ``name`` is set for ``from target import name`` when ``name`` is not a submodule;
    ``alias`` is the local name a statement binds to the module ``target``, if it binds one.
    """

    importer: str
    target: str
    path: str
    line: int
    name: str | None = None
    alias: str | None = None

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def load_modules(root: Path, packages: tuple[str, ...]) -> dict[str, Module]:
    """Parse every module below ``root/<package>`` for each of ``packages``."""
    modules = {}
    for package in packages:
        for file in sorted((root / package).rglob("*.py")):
            rel = file.relative_to(root)
            parts = list(rel.with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            name = ".".join(parts[:-1] if is_package else parts)
            tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(rel))
            modules[name] = Module(name, rel.as_posix(), is_package, tree)
    return modules


def _known(name: str, modules: dict[str, Module]) -> str | None:
    """The longest prefix of dotted ``name`` that is one of ``modules``."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in modules:
            return prefix
    return None


def imports_of(modules: dict[str, Module]) -> list[Import]:
    """Every import, in any of ``modules``, of any of ``modules``, in file and line order."""
    found = []
    for module in modules.values():
        for node in ast.walk(module.tree):
            found.extend(_resolve(module, node, modules))
    return sorted(found, key=lambda i: (i.path, i.line, i.target))


def _resolve(module: Module, node: ast.AST, modules: dict[str, Module]) -> list[Import]:
    here = {"importer": module.name, "path": module.path, "line": getattr(node, "lineno", 0)}
    if isinstance(node, ast.Import):
        out = []
        for alias in node.names:
            target = _known(alias.name, modules)
            if target is not None:
                bound = alias.asname if alias.asname and target == alias.name else None
                out.append(Import(**here, target=target, alias=bound))
        return out
    if isinstance(node, ast.ImportFrom):
        if node.level:
            package = module.name.split(".")
            package = package if module.is_package else package[:-1]
            package = package[: len(package) - node.level + 1]
            base = ".".join([*package, *([node.module] if node.module else [])])
        else:
            base = node.module or ""
        target = _known(base, modules)
        if target is None:
            return []
        out = []
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            if sub in modules:
                out.append(Import(**here, target=sub, alias=alias.asname or alias.name))
            else:
                name = None if alias.name == "*" or target != base else alias.name
                out.append(Import(**here, target=target, name=name))
        return out
    # import_module("naga.x"): the lazy imports of naga/__init__.py are arrows too.
    if (
        isinstance(node, ast.Call)
        and getattr(node.func, "id", getattr(node.func, "attr", None)) == "import_module"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        target = _known(node.args[0].value, modules)
        return [] if target is None else [Import(**here, target=target)]
    return []


def cycles(imports: list[Import]) -> list[str]:
    """The import cycles, as ``a -> b -> a  (a.py:3, b.py:9)``, shortest first: the
    shortest cycle through each module on one, kept when it shows a module no shorter line
    shows (every module on a cycle appears, without every cycle of a knot); empty when
    there is none."""
    graph: dict[str, dict[str, Import]] = {}
    for imp in imports:
        if imp.target != imp.importer:
            graph.setdefault(imp.importer, {}).setdefault(imp.target, imp)
    candidates = []
    for start in sorted(graph):
        path = _shortest_cycle(graph, start)
        if path is not None:
            first = path.index(min(path[:-1]))  # one spelling per cycle: smallest name first
            candidates.append(path[first:-1] + path[:first] + [path[first]])
    found, shown = [], set()
    for path in sorted(candidates, key=lambda p: (len(p), p)):
        if not shown.issuperset(path):
            shown.update(path)
            where = ", ".join(graph[a][b].where for a, b in pairwise(path))
            found.append(f"{' -> '.join(path)}  ({where})")
    return found


def _shortest_cycle(graph: dict[str, dict[str, Import]], start: str) -> list[str] | None:
    parents: dict[str, str] = {}  # breadth-first from start until it is reached again
    queue = deque([start])
    while queue and start not in parents:
        node = queue.popleft()
        for nxt in sorted(graph.get(node, {})):
            if nxt not in parents:
                parents[nxt] = node
                queue.append(nxt)
    if start not in parents:
        return None
    path = [start, parents[start]]
    while path[-1] != start:
        path.append(parents[path[-1]])
    return path[::-1]


# --- layers, as docs/architecture.md draws them ------------------------------------------

_HEADER = re.compile(r"^\|\s*layer\s*\|\s*job\s*\|\s*may import\s*\|\s*$")


@dataclass
class Row:
    """One row of a layer table: which code (``patterns``) may import which (``allowed``)."""

    table: str
    index: int
    line: int
    patterns: list[str]
    allowed: list[str]
    used: set[str] = field(default_factory=set)

    @property
    def label(self) -> str:
        return ", ".join(f"`{p}`" for p in self.patterns)


@dataclass
class Table:
    """A layer table, top layer first; a module is in the row of its longest pattern."""

    title: str
    rows: list[Row]
    members: dict[str, Row] = field(default_factory=dict)  # module name -> its row


def read_layers(
    doc: str, modules: dict[str, Module], base: str = "naga"
) -> tuple[list[Table], list[str]]:
    """The layer tables of ``doc``, outermost (the one placing every module) first, and
    every way the tables themselves are wrong (empty when they are well formed).

    A row's ``layer`` cell names code by path: ``naga/lock/`` (a package and everything
    below it) or ``naga/debug.py`` (one module). Its ``may import`` cell names, in
    backticks, what that code may import besides its own row: ``lock`` (``naga.lock`` and
    below) or ``launch.status`` (that module only), dotted names below ``base``.
    """
    lines = doc.splitlines()
    tables, problems, title = [], [], "?"
    for number, line in enumerate(lines):
        if line.startswith("#"):
            title = line.lstrip("#").strip()
        if not _HEADER.match(line):
            continue
        rows = []
        for offset, text in enumerate(lines[number + 2 :], start=number + 3):
            if not text.startswith("|"):
                break
            cells = text.strip().strip("|").split("|")
            if len(cells) != 3:
                problems.append(f"docs line {offset}: a layer row has {len(cells)} cells, not 3")
                continue
            patterns = re.findall(r"`([^`]+)`", cells[0])
            tokens = re.findall(r"`([^`]+)`", cells[2])
            allowed = [f"{base}.{t}" for t in tokens]
            rows.append(Row(title, len(rows), offset, patterns, allowed))
        tables.append(Table(title, rows))
    for table in tables:
        for name, module in modules.items():
            row = _row_of(table, module.path)
            if row is not None:
                table.members[name] = row
    tables.sort(key=lambda t: -len(t.members))
    problems += _table_problems(tables, modules)
    return tables, problems


def _row_of(table: Table, path: str) -> Row | None:
    best, length = None, -1
    for row in table.rows:
        for pattern in row.patterns:
            hit = path.startswith(pattern) if pattern.endswith("/") else path == pattern
            if hit and len(pattern) > length:
                best, length = row, len(pattern)
    return best


def _table_problems(tables: list[Table], modules: dict[str, Module]) -> list[str]:
    problems = []
    if not tables:
        return ["docs/architecture.md has no table with the columns | layer | job | may import |"]
    outer = tables[0]
    problems += [
        f"{m.path} is in no row of the table {outer.title!r}" for m in _missing(outer, modules)
    ]
    for number, table in enumerate(tables):
        for row in table.rows:
            for pattern in row.patterns:
                if not any(m.path.startswith(pattern) for m in modules.values()):
                    problems.append(f"{table.title!r} line {row.line}: `{pattern}` names no code")
            for token in row.allowed:
                where = f"{table.title!r} line {row.line}"
                if token not in modules:
                    problems.append(f"{where}: `{token}` in 'may import' names no module")
                    continue
                target = table.members.get(token)
                if target is None:
                    problems.append(f"{where}: `{token}` lies outside this table's rows")
                elif target.index < row.index:
                    problems.append(
                        f"{where}: {row.label} may import `{token}` of {target.label}, a row "
                        "above it (a table lists its layers top to bottom)"
                    )
        if number == 0:
            continue
        # A nested table splits one row of an enclosing table, and places all of its code.
        parent = next(
            t for t in reversed(tables[:number]) if table.members.keys() <= t.members.keys()
        )
        rows = {id(parent.members[m]): parent.members[m] for m in table.members}
        if len(rows) != 1:
            problems.append(f"the table {table.title!r} spans several rows of {parent.title!r}")
            continue
        (split,) = rows.values()
        for name, row in parent.members.items():
            if row is split and name not in table.members:
                problems.append(f"{modules[name].path} is in no row of the table {table.title!r}")
    return problems


def _missing(table: Table, modules: dict[str, Module]) -> list[Module]:
    return [m for name, m in modules.items() if name not in table.members]


def layer_violations(tables: list[Table], imports: list[Import]) -> list[str]:
    """Each import that goes where its layer may not, as ``file:line: ...``.

    An import is judged by the first table (outermost first) that puts importer and
    imported in different rows: the importer's row must list the imported module or a
    package holding it. Each permission that lets an import through is marked used.
    """
    found = {}  # message -> None: `from x import a, b` is one arrow, reported once
    for imp in imports:
        if imp.importer == imp.target:
            continue
        for table in tables:
            mine, theirs = table.members.get(imp.importer), table.members.get(imp.target)
            if mine is None or theirs is None or mine is theirs:
                continue
            grant = next((t for t in mine.allowed if _covers(t, imp.target)), None)
            if grant is None:
                message = (
                    f"{imp.where}: {imp.importer} imports {imp.target}, but {mine.label} may "
                    f"not import {theirs.label} (table {table.title!r}, line {mine.line})"
                )
                found[message] = None
            else:
                mine.used.add(grant)
            break
    return list(found)


def unused_permissions(tables: list[Table], base: str = "naga") -> list[str]:
    """Each ``may import`` entry no import needed (after :func:`layer_violations` ran)."""
    return [
        f"{table.title!r} line {row.line}: {row.label} may import "
        f"`{token.removeprefix(base + '.')}`"
        for table in tables
        for row in table.rows
        for token in row.allowed
        if token not in row.used
    ]


def _covers(token: str, module: str) -> bool:
    return module == token or module.startswith(token + ".")


# --- private names, launcher names --------------------------------------------------------


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_violations(modules: dict[str, Module], imports: list[Import]) -> list[str]:
    """Each use of another module's private name, and each import of a private module
    from outside the package that holds it, as ``file:line: ...``.

    A private name (``_name``, not ``__dunder__``) is one module's own: no other module
    imports it (``from naga.x import _name``) or reaches it through the module
    (``x._name`` after ``from naga import x``). A private module (``naga/launch/_task.py``)
    or package is its package's own: only modules of that package (``naga.launch`` and
    below) import it.
    """
    found = []
    for imp in imports:
        if imp.name is not None and _private(imp.name) and imp.importer != imp.target:
            found.append(f"{imp.where}: {imp.importer} imports the private {imp.target}.{imp.name}")
        parts = imp.target.split(".")
        for depth, part in enumerate(parts):
            package = ".".join(parts[:depth])
            inside = imp.importer == package or imp.importer.startswith(package + ".")
            if _private(part) and not inside:
                private = ".".join(parts[: depth + 1])
                found.append(
                    f"{imp.where}: {imp.importer} imports {imp.target}, but {private} is "
                    f"private to {package}"
                )
                break
    for module in modules.values():
        aliases = {i.alias: i.target for i in imports if i.importer == module.name and i.alias}
        for node in ast.walk(module.tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and _private(node.attr)
                and f"{aliases[node.value.id]}.{node.attr}" not in modules
            ):
                found.append(
                    f"{module.path}:{node.lineno}: {module.name} uses the private "
                    f"{aliases[node.value.id]}.{node.attr}"
                )
    return sorted(set(found))


def launcher_comparisons(modules: dict[str, Module], names: frozenset[str]) -> list[str]:
    """Each place a module decides by a launcher's name, as ``file:line: code``: a
    comparison (``==``, ``!=``, ``in``, ``not in``) or ``case`` with one of ``names``, a
    tuple, list or set of them (made to be compared against) and a dict keyed by them (a
    lookup is a comparison)."""

    def named(node: ast.AST | None) -> bool:
        if isinstance(node, ast.Constant):
            return node.value in names
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return any(named(e) for e in node.elts)
        return False

    found = set()
    for module in modules.values():
        for node in ast.walk(module.tree):
            hit = (
                (isinstance(node, ast.Compare) and any(map(named, [node.left, *node.comparators])))
                or (isinstance(node, (ast.Tuple, ast.List, ast.Set)) and named(node))
                or (isinstance(node, ast.Dict) and any(map(named, node.keys)))
                or (isinstance(node, ast.MatchValue) and named(node.value))
            )
            if hit:
                found.add((module.path, node.lineno, ast.unparse(node)))
    # A comparison with a tuple of names is reported once, not again for its tuple.
    lines = {}
    for path, line, code in sorted(found, key=lambda f: (f[0], f[1], -len(f[2]))):
        lines.setdefault((path, line), f"{path}:{line}: {code}")
    return list(lines.values())
