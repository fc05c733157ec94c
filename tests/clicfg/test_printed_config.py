"""Every config naga prints or writes is plain YAML in the order the class defines it.

``--cfg``, ``--help`` and run.lock are read by people, by ``yaml.safe_load`` and by
``--config``; a Python object tag (``!!python/object/apply:pathlib.PosixPath``) breaks all
three, and keys reordered by annotation break the first.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
import yaml

APP = Path(__file__).resolve().parents[1] / "apps" / "typed_config.py"
ORDER = [
    *("color", "layers", "out", "shape", "extra", "seed", "big", "small", "nan", "word"),
    *("model", "save_dir"),
]


@pytest.fixture
def app(tmp_path: Path) -> Path:
    return Path(shutil.copy(APP, tmp_path / "train.py"))


def check_plain(tree: dict) -> None:
    assert list(tree) == ORDER
    assert tree["color"] == "RED"
    assert tree["out"] == "results/out"
    assert tree["shape"] == [3, 4] and tree["extra"] == [1, 2]
    assert tree["big"] == math.inf and tree["small"] == -math.inf and math.isnan(tree["nan"])
    assert tree["word"] == "1e3"
    assert tree["model"] == {"depth": 2, "ckpt": "ckpt/last.pt"}


def test_cfg_is_plain_yaml_in_definition_order_and_reads_back_as_config(app, run_py, tmp_path):
    printed = run_py(app, "--cfg", "seed=7", cwd=tmp_path)
    assert printed.returncode == 0, printed.stderr
    assert "!!python" not in printed.stdout
    tree = yaml.safe_load(printed.stdout)
    check_plain(tree)
    assert tree["seed"] == 7

    (tmp_path / "printed.yaml").write_text(printed.stdout)
    again = run_py(app, "--config", "printed.yaml", "--cfg", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout == printed.stdout


def test_help_default_config_is_plain_yaml_in_definition_order(app, run_py, tmp_path):
    result = run_py(app, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    default = result.stdout.split("default config (override")[1].split("\n", 2)[2]
    assert "!!python" not in default
    tree = yaml.safe_load(default)
    check_plain(tree)
    assert tree["seed"] == "???"


def test_run_lock_config_keeps_definition_order_and_the_function_gets_a_path(app, run_py, tmp_path):
    result = run_py(app, "seed=3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "out is a PosixPath" in result.stdout or "out is a WindowsPath" in result.stdout
    text = (tmp_path / "results/run/run.lock").read_text()
    assert "!!python" not in text
    tree = yaml.safe_load(text)["config"]
    check_plain(tree)
    assert tree["seed"] == 3
