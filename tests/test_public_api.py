"""The public surface: five names in ``naga``, the documented names of the lock's rooms, every
import path the docs show, and an ``import naga`` that stays cheap."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys

import pytest
from helpers import REPO_ROOT

import naga

HEAVY = (
    "hydra", "mlflow", "pygit2", "submitit", "joblib", "IPython", "omegaconf", "pandas",
    "matplotlib", "yaml", "sqlite3", "plotly", "optuna",
)  # fmt: skip

#: Each module's ``__all__``, sorted, exactly: docs/hashing.md, docs/git-state.md and
#: docs/run-lock.md ("For integrators") name these modules to users.
DOCUMENTED = {
    "naga": ["clicfg", "mlflow_lock", "runlock", "runs", "unsafe_debug"],
    "naga.lock.api": ["runlock"],
    "naga.lock.hashing": ["hash_file", "hash_path"],
    "naga.lock.git": [
        "DEFAULT_LARGE_FILE_LIMIT",
        "SNAPSHOT_REF_PREFIX",
        "LargeFileWarning",
        "find_repo_root",
        "repo_state",
        "snapshot_exists",
        "strip_credentials",
    ],
    "naga.lock.session": [
        "RunContext",
        "current_run",
        "finish_run",
        "lock_path_for",
        "start_run",
        "to_plain",
    ],
}

#: ``from naga.x import a, b`` in code blocks, and ``naga.x.y`` in prose, of the user docs.
_FROM_IMPORT = re.compile(r"^\s*from (naga(?:\.\w+)*) import ([\w, ]+)", re.M)
_DOTTED = re.compile(r"`(naga\.(?:lock|errors|debug|tracking|config|launch|clicfg)(?:\.\w+)+)")


def _isort_key(name: str) -> tuple[int, str]:
    """The order ruff keeps ``__all__`` in: CONSTANTS, then Classes, then functions."""
    return (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)


def _documented_paths() -> list[str]:
    found: set[str] = set()
    for page in [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]:
        text = page.read_text(encoding="utf-8")
        for module, names in _FROM_IMPORT.findall(text):
            found.update(f"{module}.{name.strip()}" for name in names.split(",") if name.strip())
        found.update(_DOTTED.findall(text))
    return sorted(found)


@pytest.mark.parametrize(("module", "names"), DOCUMENTED.items(), ids=list(DOCUMENTED))
def test_all_is_exactly_the_documented_names_sorted(module: str, names: list[str]) -> None:
    imported = importlib.import_module(module)
    assert imported.__all__ == names
    assert names == sorted(names, key=_isort_key)
    for name in names:
        assert getattr(imported, name) is not None


def test_the_four_tools_are_callable() -> None:
    for name in naga.__all__:
        assert callable(getattr(naga, name))


def test_docs_name_real_import_paths() -> None:
    paths = _documented_paths()
    assert "naga.lock.hashing.hash_path" in paths  # the scan itself works
    missing = []
    for path in paths:
        module, _, name = path.rpartition(".")
        while module:
            try:
                found = importlib.import_module(module)
                break
            except ModuleNotFoundError:
                module, _, parent = module.rpartition(".")
                name = f"{parent}.{name}"
        else:
            missing.append(path)
            continue
        try:
            for part in name.split("."):
                found = getattr(found, part)
        except AttributeError:
            missing.append(path)
    assert missing == []


def test_import_naga_loads_no_heavy_dependency() -> None:
    code = f"import sys, naga; print([m for m in {HEAVY!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="nope"):
        naga.nope  # noqa: B018
