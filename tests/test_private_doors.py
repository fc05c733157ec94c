"""Hydra's and OmegaConf's private APIs are used through one door each (docs/architecture.md).

``naga/_hydra_compat.py`` holds every use of ``hydra._internal`` and of a private attribute
of a Hydra object; ``naga/_omegaconf_compat.py`` every call of OmegaConf's underscore
methods. A Hydra or OmegaConf upgrade is then checked in those two files.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOORS = {ROOT / "naga" / "_hydra_compat.py", ROOT / "naga" / "_omegaconf_compat.py"}
#: Private names of Hydra (JobReturn, Override, ConfigLoaderImpl, the submitit plugin) and
#: OmegaConf (Node, Container) objects.
PRIVATE = {
    "_return_value", "_value", "_EXECUTOR", "_apply_overrides_to_config",
    "_parse_overrides_and_create_caching_repo", "_get_node", "_set_parent", "_get_parent",
    "_is_missing", "_is_none", "_is_interpolation", "_metadata", "_content", "_get_flag",
    "_set_value", "_get_full_key", "_dereference_node", "_iter_ex",
}  # fmt: skip
PRIVATE_MODULES = ("hydra._internal", "hydra_plugins.hydra_joblib_launcher._core")


def _private_uses(path: Path) -> list[str]:
    uses = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in PRIVATE:
            uses.append(f"{path.name}:{node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Constant) and node.value in PRIVATE:  # getattr(x, "_value")
            uses.append(f"{path.name}:{node.lineno}: {node.value!r}")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [alias.name for alias in node.names]
            uses += [
                f"{path.name}:{node.lineno}: import {n}"
                for n in names
                if n.startswith(PRIVATE_MODULES)
            ]
    return uses


SOURCES = sorted(p for d in ("naga", "hydra_plugins") for p in (ROOT / d).rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_private_api_only_through_its_door(path: Path) -> None:
    if path in DOORS:
        return
    assert _private_uses(path) == [], "use naga._hydra_compat / naga._omegaconf_compat"


def test_the_doors_are_where_the_private_uses_are() -> None:
    assert all(_private_uses(door) for door in DOORS)
