"""The clicfg command line, driven through subprocesses exactly as users run scripts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import APPS, copy_app


@pytest.fixture
def app(tmp_path: Path) -> Path:
    return copy_app("clicfg/train.py", tmp_path / "train.py")


def cfg_of(result: subprocess.CompletedProcess[str]) -> dict:
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("CFG="))
    return json.loads(line[4:])


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "CFG=" not in result.stdout  # nothing ran
    return lines[0]


def test_defaults_run(app, run_py, tmp_path):
    cfg = cfg_of(run_py(app, cwd=tmp_path))
    assert cfg == {
        "param": 1,
        "lr": 0.1,
        "name": "x",
        "tags": ["a"],
        "save_dir": "results/run",
        "model": {"depth": 2, "width": 8},
    }


def test_bare_and_dash_o_overrides_are_the_same(app, run_py, tmp_path):
    bare = cfg_of(run_py(app, "param=10", "model.depth=3", cwd=tmp_path))
    dash = cfg_of(run_py(app, "-o", "param=10", "-o", "model.depth=3", cwd=tmp_path))
    grouped = cfg_of(run_py(app, "-o", "param=10", "model.depth=3", cwd=tmp_path))
    assert bare == dash == grouped
    assert bare["param"] == 10 and bare["model"]["depth"] == 3


def test_override_grammar_forms(app, run_py, tmp_path):
    cfg = cfg_of(
        run_py(
            app,
            "+extra={k: [1, 2]}",
            "tags=[b,c]",
            "name='two words'",
            "~lr",
            "++model.width=16",
            cwd=tmp_path,
        )
    )
    assert cfg["extra"] == {"k": [1, 2]}
    assert cfg["tags"] == ["b", "c"]
    assert cfg["name"] == "two words"
    assert "lr" not in cfg
    assert cfg["model"]["width"] == 16


def test_interpolations_resolve_once_per_run(tmp_path, run_py):
    script = tmp_path / "stamp.py"
    copy_app("clicfg/stamp.py", script)
    result = run_py(script, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    first, again, mirror = result.stdout.split()
    assert first == again == mirror


def test_config_files_merge_in_order_under_overrides(app, run_py, tmp_path):
    (tmp_path / "a.yml").write_text("param: 2\nname: from-a\n")
    (tmp_path / "b.yaml").write_text("param: 3\nmodel:\n  depth: 4\n")
    cfg = cfg_of(
        run_py(app, "--config", "a.yml", "--config", "b.yaml", "model.width=1", cwd=tmp_path)
    )
    assert (cfg["param"], cfg["name"], cfg["model"]) == (3, "from-a", {"depth": 4, "width": 1})


MULTI = APPS / "clicfg" / "multi.yml"


def test_experiment_selects_one_section_with_defaults(app, run_py, tmp_path):
    copy_app("clicfg/multi.yml", tmp_path / "multi.yml")
    cfg = cfg_of(run_py(app, "--config", "multi.yml", "--experiment", "small", cwd=tmp_path))
    assert cfg["param"] == 2
    assert cfg["lr"] == 0.5  # from the top-level defaults
    assert cfg["model"]["depth"] == 1  # from the section's own defaults
    assert cfg["save_dir"] == "out/small"  # interpolation of a top-level file key
    assert set(cfg) == {"param", "lr", "name", "tags", "save_dir", "model"}  # nothing leaked


def test_experiment_dotted_path_and_overrides_on_top(app, run_py, tmp_path):
    copy_app("clicfg/multi.yml", tmp_path / "multi.yml")
    cfg = cfg_of(
        run_py(app, "--config", "multi.yml", "--experiment", "group.big", "param=11", cwd=tmp_path)
    )
    assert (cfg["param"], cfg["name"], cfg["lr"]) == (11, "out-big", 0.5)


def test_seed_multi_stage_example(run_py, examples_dir):
    repo = examples_dir.parent
    script = examples_dir / "quickstart" / "process.py"
    result = run_py(
        script, "--config", "conf/multi_stage.yml", "--experiment", "process_v2", "--cfg", cwd=repo
    )
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout) == {
        "param": 5,
        "input_path": "data/preprocess/input.csv",
        "save_dir": "results/process_v2",
    }


def test_unknown_experiment_lists_the_available_ones(app, run_py, tmp_path):
    copy_app("clicfg/multi.yml", tmp_path / "multi.yml")
    line = error_line(run_py(app, "--config", "multi.yml", "--experiment", "nope", cwd=tmp_path))
    assert "Available experiments: base, group, loop_a, loop_b, small, tiny_model." in line


def test_help_shows_flags_docstring_and_default_config_and_runs_nothing(app, run_py, tmp_path):
    result = run_py(app, "-h", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Train the thing on the data." in result.stdout
    assert "--experiment NAME" in result.stdout and "--config FILE" in result.stdout
    default = result.stdout.split("default config (override")[1].split("\n", 2)[2]
    assert yaml.safe_load(default)["model"] == {"depth": 2, "width": 8}
    assert "CFG=" not in result.stdout
    assert not (tmp_path / "results").exists()


def test_cfg_prints_resolved_config_and_runs_nothing(app, run_py, tmp_path):
    result = run_py(app, "--cfg", "name=${model.depth}-deep", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout)["name"] == "2-deep"
    assert "CFG=" not in result.stdout
    assert not (tmp_path / "results").exists()


def test_cfg_resolves_the_hydra_job_name_as_a_run_does(app, run_py, tmp_path):
    printed = run_py(app, "--cfg", "name=${hydra:job.name}", cwd=tmp_path)
    assert printed.returncode == 0, printed.stderr
    ran = run_py(app, "name=${hydra:job.name}", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    recorded = yaml.safe_load((tmp_path / "results/run/run.lock").read_text())["config"]
    assert yaml.safe_load(printed.stdout)["name"] == recorded["name"] == Path(app).stem


def test_user_exception_is_a_normal_traceback_exit_1(app, run_py, tmp_path):
    result = run_py(app, "name=boom", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" in result.stderr
    assert "ValueError: boom from the user's function" in result.stderr
    receipt = yaml.safe_load((tmp_path / "results/run/run.lock").read_text())
    assert receipt["status"] == "failed"
    assert receipt["error"]["type"] == "ValueError"
    assert receipt["error"]["message"] == "boom from the user's function"
    assert receipt["config"]["name"] == "boom"
    assert receipt["command"][1:] == ["name=boom"]
    assert receipt["finished_at"] >= receipt["started_at"]


def test_successful_run_records_its_receipt(app, run_py, tmp_path):
    assert run_py(app, "param=7", cwd=tmp_path).returncode == 0
    receipt = yaml.safe_load((tmp_path / "results/run/run.lock").read_text())
    assert receipt["status"] == "completed" and receipt["error"] is None
    assert receipt["config"]["param"] == 7
    assert receipt["script"]["function"] == "main"
    assert receipt["duration_s"] >= 0


def test_python_dash_m_parses_the_command_line(app, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "train", "param=4"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert cfg_of(result)["param"] == 4


def test_called_from_another_module_never_parses_foreign_argv(app, run_py, tmp_path):
    driver = tmp_path / "driver.py"
    copy_app("clicfg/driver.py", driver)
    result = run_py(driver, "-f", "kernel.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    cfgs = [json.loads(line[4:]) for line in result.stdout.splitlines() if line.startswith("CFG=")]
    assert [c["param"] for c in cfgs] == [1, 10, 1]
    assert cfgs[1]["model"]["depth"] == 5
    returns = [line for line in result.stdout.splitlines() if line.startswith("RET=")]
    assert returns == ["RET= 1", "RET= 10", "RET= 1"]
