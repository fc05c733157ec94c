"""The shape of the house, checked from the source (tests/codemap.py reads it; nothing is
imported or run): no import cycle, imports follow the layers docs/architecture.md draws, no
private name used across modules, launcher names compared only in the launcher registry.

The first half checks naga itself; the second half feeds the same checks a small package
with each fault, so that each check is seen to catch what it exists for.
"""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path

from codemap import (
    Import,
    Module,
    cycles,
    imports_of,
    launcher_comparisons,
    layer_violations,
    load_modules,
    private_violations,
    read_layers,
    unused_permissions,
)
from helpers import REPO_ROOT

#: The only modules that may compare a launcher's name (the launcher registry).
LAUNCHER_REGISTRY = ("naga/launch/launchers/registry.py", "naga/launch/launchers/__init__.py")
LAUNCHER_NAMES = frozenset({"basic", "joblib", "submitit_local", "submitit_slurm"})
PACKAGES = ("naga", "hydra_plugins")
DOC = REPO_ROOT / "docs" / "architecture.md"


@cache
def _naga() -> tuple[dict[str, Module], list[Import]]:
    """naga's modules and imports, parsed once, when a test first asks (not at collection)."""
    modules = load_modules(REPO_ROOT, PACKAGES)
    return modules, imports_of(modules)


def _report(what: str, found: list[str]) -> str:
    return f"{len(found)} {what}:\n  " + "\n  ".join(found)


def test_no_import_cycle() -> None:
    _, imports = _naga()
    found = cycles(imports)
    # Where to cut first: the arrows (file:line) on the most cycles shown.
    arrows = Counter(a for c in found for a in c.rsplit("(", 1)[1].rstrip(")").split(", "))
    hot = ", ".join(f"{arrow} ({n})" for arrow, n in arrows.most_common(3))
    assert not found, _report(f"import cycles (arrows on the most: {hot})", found)


def test_layer_tables_of_the_docs_are_well_formed() -> None:
    modules, _ = _naga()
    _, problems = read_layers(DOC.read_text(encoding="utf-8"), modules)
    assert not problems, _report("problems in docs/architecture.md's layer tables", problems)


def test_imports_follow_the_layers_of_the_docs() -> None:
    modules, imports = _naga()
    tables, _ = read_layers(DOC.read_text(encoding="utf-8"), modules)
    found = layer_violations(tables, imports)
    assert not found, _report("imports across layers the docs forbid", found)


def test_every_permission_of_the_layer_tables_is_used() -> None:
    """The tables say what is, not what once was: a permission nothing uses goes."""
    modules, imports = _naga()
    tables, _ = read_layers(DOC.read_text(encoding="utf-8"), modules)
    layer_violations(tables, imports)
    unused = unused_permissions(tables)
    assert not unused, _report("permissions no import uses (remove them from the docs)", unused)


def test_no_private_name_across_modules() -> None:
    found = private_violations(*_naga())
    assert not found, _report("private names used across modules", found)


def test_launcher_names_are_compared_only_in_the_registry() -> None:
    modules, _ = _naga()
    outside = {k: m for k, m in modules.items() if m.path not in LAUNCHER_REGISTRY}
    found = launcher_comparisons(outside, LAUNCHER_NAMES)
    assert not found, _report(f"launcher-name comparisons outside {LAUNCHER_REGISTRY}", found)


# --- each check on a package made to fail it ------------------------------------------------


def _package(root: Path, files: dict[str, str]) -> dict[str, Module]:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return load_modules(root, ("pkg",))


def test_cycles_are_found_through_every_kind_of_import(tmp_path: Path) -> None:
    modules = _package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg import b\n",  # b is a submodule, not a name of pkg
            "pkg/b.py": "def f():\n    from .sub import c\n",  # inside a function, relative
            "pkg/sub/__init__.py": "",
            "pkg/sub/c.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.a\n"
            ),
            "pkg/d.py": "import importlib\nimportlib.import_module('pkg.e')\n",
            "pkg/e.py": "from pkg.d import thing\n",
            "pkg/f.py": "import pkg.a\n",  # on no cycle
        },
    )
    assert cycles(imports_of(modules)) == [
        "pkg.d -> pkg.e -> pkg.d  (pkg/d.py:2, pkg/e.py:1)",
        "pkg.a -> pkg.b -> pkg.sub.c -> pkg.a  (pkg/a.py:1, pkg/b.py:2, pkg/sub/c.py:3)",
    ]


LAYERS = """
## Layers

| layer | job | may import |
| --- | --- | --- |
| `pkg/top.py` | the top | `low` |
| `pkg/low/` | the room below | `base` |
| `pkg/mid.py` | needs nothing it may import | `base` |
| `pkg/base.py`, `pkg/__init__.py` | the floor | nothing |

## Inside low

| layer | job | may import |
| --- | --- | --- |
| `pkg/low/` | the rest of low | `low.inner` |
| `pkg/low/inner/` | a room | nothing |
"""


def test_layers_catch_upward_and_unlisted_imports(tmp_path: Path) -> None:
    modules = _package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/base.py": "from pkg import top\n",  # up
            "pkg/top.py": "from pkg.low import x\nfrom pkg import base\n",  # base: not listed
            "pkg/low/__init__.py": "",
            "pkg/low/x.py": "from pkg.low.inner import y\nimport pkg.base\n",  # both fine
            "pkg/low/inner/__init__.py": "",
            "pkg/low/inner/y.py": "def f():\n    from pkg.low import x\n",  # up, inside low
            "pkg/mid.py": "",
        },
    )
    tables, problems = read_layers(LAYERS, modules, base="pkg")
    assert problems == []
    assert [t.title for t in tables] == ["Layers", "Inside low"]
    found = layer_violations(tables, imports_of(modules))
    assert [f.split(":")[0:2] for f in found] == [
        ["pkg/base.py", "1"],
        ["pkg/low/inner/y.py", "2"],
        ["pkg/top.py", "2"],
    ]
    assert "`pkg/base.py`, `pkg/__init__.py` may not import `pkg/top.py`" in found[0]
    assert "(table 'Inside low', line 16)" in found[1]
    assert unused_permissions(tables, base="pkg") == [
        "'Layers' line 8: `pkg/mid.py` may import `base`"
    ]


def test_layer_tables_that_lie_are_refused(tmp_path: Path) -> None:
    modules = _package(
        tmp_path,
        {"pkg/__init__.py": "", "pkg/a.py": "", "pkg/b.py": "", "pkg/c/__init__.py": ""},
    )
    doc = """# Layers
| layer | job | may import |
| --- | --- | --- |
| `pkg/a.py` | the top | `b`, `gone` |
| `pkg/b.py`, `pkg/old.py` | below it | `a` |
"""
    _, problems = read_layers(doc, modules, base="pkg")
    assert problems == [
        "pkg/__init__.py is in no row of the table 'Layers'",
        "pkg/c/__init__.py is in no row of the table 'Layers'",
        "'Layers' line 4: `pkg.gone` in 'may import' names no module",
        "'Layers' line 5: `pkg/old.py` names no code",
        "'Layers' line 5: `pkg/b.py`, `pkg/old.py` may import `pkg.a` of `pkg/a.py`, a row above"
        " it (a table lists its layers top to bottom)",
    ]


def test_private_names_stay_home(tmp_path: Path) -> None:
    modules = _package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "_x = 1\n_y = 2\n__version__ = '1'\n",
            "pkg/b.py": (
                "from pkg.a import _x, __version__\n"  # _x: another module's own
                "from pkg import a\n"
                "print(a._y, a.__name__)\n"  # a._y: the same, reached through the module
            ),
            "pkg/sub/__init__.py": "from pkg.sub import _priv\n",  # its own package: fine
            "pkg/sub/_priv.py": "",
            "pkg/sub/c.py": "from ._priv import *\n",
            "pkg/sub/inner/d.py": "import pkg.sub._priv\n",  # a subpackage: fine
            "pkg/other.py": "def f():\n    from pkg.sub import _priv\n",  # outside pkg.sub
        },
    )
    assert private_violations(modules, imports_of(modules)) == [
        "pkg/b.py:1: pkg.b imports the private pkg.a._x",
        "pkg/b.py:3: pkg.b uses the private pkg.a._y",
        "pkg/other.py:2: pkg.other imports pkg.sub._priv, but pkg.sub._priv is private to pkg.sub",
    ]


def test_launcher_names_in_comparisons_are_found(tmp_path: Path) -> None:
    modules = _package(
        tmp_path,
        {
            "pkg/a.py": (
                '"""Launchers: basic, joblib."""\n'
                "def f(name, d):\n"
                "    if name == 'joblib' or 'submitit_slurm' != name:\n"  # 3
                "        return name not in ('basic', 'submitit_local')\n"  # 4
                "    match name:\n"
                "        case 'basic' | 'other':\n"  # 6
                "            pass\n"
                "    SLURM = {'submitit_slurm'}\n"  # 8: a set made to compare against
                "    run = {'joblib': f}[name]\n"  # 9: a lookup is a comparison
                "    default = 'basic'\n"  # naming the default is no comparison
                "    return d == {'launcher': 'basic'} or name == 'basics'\n"
            ),
        },
    )
    found = launcher_comparisons(modules, LAUNCHER_NAMES)
    assert [f.split(":")[1] for f in found] == ["3", "4", "6", "8", "9"]
    assert found[1] == "pkg/a.py:4: name not in ('basic', 'submitit_local')"
