"""The public surface is four names, and importing naga stays cheap."""

from __future__ import annotations

import subprocess
import sys

import naga

HEAVY = ("hydra", "mlflow", "pygit2", "submitit", "joblib", "IPython", "omegaconf")


def test_all_is_exactly_the_four_tools_sorted():
    assert naga.__all__ == ["clicfg", "mlflow_lock", "runlock", "unsafe_debug"]
    for name in naga.__all__:
        assert callable(getattr(naga, name))


def test_import_naga_loads_no_heavy_dependency():
    code = f"import sys, naga; print([m for m in {HEAVY!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_attribute_is_an_attribute_error():
    try:
        naga.nope  # noqa: B018
    except AttributeError as exc:
        assert "nope" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("naga.nope should not exist")
