"""runlock() in-process: sections, merging, errors that write nothing, lineage, resolvers."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from helpers import copy_app, git
from omegaconf import OmegaConf

from naga.errors import DataError, LineageError, LockError, RepoError
from naga.lock import api
from naga.lock.api import runlock
from naga.lock.format import read_lock
from naga.lock.resolvers import declared, register_resolvers, reset_declared


@pytest.fixture(autouse=True)
def _fresh_process_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    # Each test acts as a new process: no run ids or declarations carried over.
    api._reset_process_runs()
    reset_declared()
    monkeypatch.chdir(tmp_path)
    yield
    api._reset_process_runs()
    reset_declared()


def test_minimal_lock_from_dict(tmp_path: Path) -> None:
    path = runlock({"param": 1, "save_dir": "results/a"})
    assert path == tmp_path / "results/a/run.lock"
    lock = read_lock(path)
    assert lock["naga_lock"] == 1
    assert len(lock["run_id"]) == 32
    assert lock["status"] == "completed"
    assert lock["config"] == {"param": 1, "save_dir": "results/a"}
    assert lock["cwd"] == str(tmp_path)
    assert lock["environment"]["packages"]
    assert lock["repos"] == lock["data"] == lock["prevs"] == lock["upstream"] == {}
    assert lock["script"]["function"] == "test_minimal_lock_from_dict"


def test_repeated_calls_merge_and_a_new_process_replaces(
    tmp_path: Path, make_git_repo: Callable[..., Path]
) -> None:
    make_git_repo(tmp_path)
    (tmp_path / "in.csv").write_text("a,b\n")
    cfg = {"save_dir": "out", "db_password": "hunter2"}
    runlock(cfg, repos=["."])
    runlock(cfg, data={"raw": "in.csv"}, redact=["save_dir"])
    lock = read_lock(tmp_path / "out/run.lock")
    assert set(lock["repos"]) == {"."}
    assert set(lock["data"]) == {"raw"}
    assert lock["config"] == {"save_dir": "***", "db_password": "***"}
    assert lock["redacted"] == ["db_password", "save_dir"]
    # A later call without the extra pattern keeps save_dir redacted (sticky within the run).
    runlock(cfg)
    assert read_lock(tmp_path / "out/run.lock")["config"]["save_dir"] == "***"
    api._reset_process_runs()  # a new process
    runlock({"save_dir": "out"})
    fresh = read_lock(tmp_path / "out/run.lock")
    assert fresh["run_id"] != lock["run_id"]
    assert fresh["repos"] == {} and fresh["data"] == {}


def test_repos_section_uses_real_git(tmp_path: Path, make_git_repo: Callable[..., Path]) -> None:
    make_git_repo(tmp_path / "proj")
    make_git_repo(tmp_path / "libs" / "my_lib", files={"lib.py": "x = 1\n"})
    (tmp_path / "proj" / "dirty.txt").write_text("uncommitted\n")
    import os

    os.chdir(tmp_path / "proj")
    path = runlock(
        {"save_dir": "r"}, repos={"main_project": ".", "shared_library": "../libs/my_lib"}
    )
    repos = read_lock(path)["repos"]
    assert repos["main_project"]["path"] == "."
    assert repos["main_project"]["commit"] == git(tmp_path / "proj", "rev-parse", "HEAD").strip()
    assert repos["main_project"]["dirty"] is True
    snap = repos["main_project"]["snapshot"]["commit"]
    assert git(tmp_path / "proj", "show", f"{snap}:dirty.txt") == "uncommitted\n"
    assert repos["shared_library"]["path"] == "../libs/my_lib"
    assert repos["shared_library"]["dirty"] is False


def test_data_section_and_b3sum(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "input.csv").write_text("some data")
    path = runlock({"save_dir": "r"}, data=["data/input.csv", "data"])
    data = read_lock(path)["data"]
    entry = data["data/input.csv"]
    assert entry["path"] == "data/input.csv"
    assert entry["kind"] == "file" and entry["size"] == 9 and entry["files"] == 1
    if Path("/usr/bin/b3sum").exists():
        b3 = subprocess.run(
            ["b3sum", "--no-names", "data/input.csv"], capture_output=True, text=True, check=True
        )
        assert entry["hash"] == "blake3:" + b3.stdout.strip()
    assert data["data"]["kind"] == "dir"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"data": ["missing.csv"]}, DataError, "missing.csv"),
        ({"repos": ["not_a_repo"]}, RepoError, "not_a_repo"),
        ({"prevs": ["no_stage"]}, LineageError, "no_stage.*run the upstream stage first"),
    ],
)
def test_bad_input_writes_nothing(
    tmp_path: Path, kwargs: dict, error: type[Exception], match: str
) -> None:
    (tmp_path / "not_a_repo").mkdir()
    runlock({"save_dir": "r"})  # an earlier good write of this run
    before = (tmp_path / "r/run.lock").read_bytes()
    with pytest.raises(error, match=match):
        runlock({"save_dir": "r", "changed": True}, **kwargs)
    assert (tmp_path / "r/run.lock").read_bytes() == before
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["run.lock"]


def test_config_none_without_path_is_error() -> None:
    with pytest.raises(LockError, match="needs a config or a runlock_path"):
        runlock()
    with pytest.raises(LockError, match=r"no save_dir key; pass runlock_path="):
        runlock({"param": 1})


def test_runlock_path_without_config(tmp_path: Path) -> None:
    path = runlock(runlock_path="somewhere/run.lock")
    assert "config" not in read_lock(path)


def test_lineage_diamond_and_same_names(tmp_path: Path) -> None:
    # a/prepare -> b/train, c/train (same dir name "train") -> eval
    prep = runlock({"save_dir": "a/prepare"})
    train_b = runlock({"save_dir": "b/train"}, prevs=["a/prepare"])
    train_c = runlock({"save_dir": "c/train"}, prevs={"prep": "a/prepare/run.lock"})
    ev = runlock({"save_dir": "eval"}, prevs={"tb": "b/train", "tc": "c/train"})
    ids = {p: read_lock(p)["run_id"] for p in (prep, train_b, train_c)}
    lock = read_lock(ev)
    assert lock["prevs"] == {
        "tb": {"path": "../b/train", "run_id": ids[train_b]},
        "tc": {"path": "../c/train", "run_id": ids[train_c]},
    }
    assert set(lock["upstream"]) == set(ids.values())  # the diamond's root stored once
    assert lock["upstream"][ids[prep]]["path"] == "../a/prepare"  # rewritten relative to eval/
    assert lock["upstream"][ids[train_b]]["path"] == "../b/train"
    assert "upstream" not in lock["upstream"][ids[train_b]]["lock"]
    assert lock["upstream"][ids[train_b]]["lock"]["prevs"]["a/prepare"]["path"] == "../../a/prepare"


def test_one_environment_lists_its_packages_once(tmp_path: Path) -> None:
    prep = runlock({"save_dir": "prepare"})
    train = runlock({"save_dir": "train"}, prevs=["prepare"])
    ev = runlock({"save_dir": "eval"}, prevs=["train", "prepare"])
    packages = read_lock(prep)["environment"]["packages"]
    assert "PyYAML" in packages
    text = ev.read_text()
    assert text.count("\n    PyYAML: ") + text.count("\n          PyYAML: ") == 1
    assert text.count("packages: *id001") == 2  # the two upstream stages refer to it
    lock = read_lock(ev)
    for entry in lock["upstream"].values():  # any YAML reader expands the aliases
        assert entry["lock"]["environment"]["packages"] == packages
    assert yaml.safe_load(text) == lock
    # A stage from another environment keeps its own list.
    other = yaml.safe_load(train.read_text())
    other["environment"]["packages"] = {**packages, "PyYAML": "0.0.1"}
    train.write_text(yaml.safe_dump(other, sort_keys=False))
    ev = runlock({"save_dir": "eval2"}, prevs=["train", "prepare"])
    lock = read_lock(ev)
    assert lock["upstream"][other["run_id"]]["lock"]["environment"]["packages"]["PyYAML"] == "0.0.1"
    assert ev.read_text().count("packages: *id001") == 1


def test_prev_as_non_standard_lock_file_name(tmp_path: Path) -> None:
    runlock({"x": 1}, runlock_path="stage/custom.lock")
    lock = read_lock(runlock({"save_dir": "next"}, prevs=["stage/custom.lock"]))
    assert lock["prevs"]["stage/custom.lock"]["path"] == "../stage/custom.lock"


def test_lineage_errors(tmp_path: Path) -> None:
    runlock({"save_dir": "a"})
    runlock({"save_dir": "b"}, prevs=["a"])
    with pytest.raises(LineageError, match=r"cycle .*depends on b, whose upstream \.\./a"):
        runlock({"save_dir": "a"}, prevs=["b"])
    with pytest.raises(LineageError, match=r"this run's own run\.lock"):
        runlock({"save_dir": "b"}, prevs=["b"])
    (tmp_path / "empty_stage").mkdir()
    with pytest.raises(
        LineageError, match=r"no run.lock in empty_stage.*run the upstream stage first"
    ):
        runlock({"save_dir": "c"}, prevs=["empty_stage"])
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "run.lock").write_text("not yaml: [")
    with pytest.raises(LineageError, match="not valid YAML"):
        runlock({"save_dir": "c"}, prevs=["junk"])


def test_resolvers_declare_data_and_prevs(tmp_path: Path) -> None:
    register_resolvers()
    register_resolvers()  # idempotent
    (tmp_path / "in.csv").write_text("1\n")
    runlock({"save_dir": "prep"})
    cfg = OmegaConf.create(
        {
            "input_path": "${runlock_data:in.csv}",
            "prev": "${runlock_prev:prep}",
            "save_dir": "out",
        }
    )
    assert cfg.input_path == "in.csv"
    # Only resolved nodes are declared; runlock() resolves the whole config itself.
    assert declared() == {"data": {"in.csv": "in.csv"}, "prevs": {}}
    lock = read_lock(runlock(cfg))
    assert declared() == {"data": {"in.csv": "in.csv"}, "prevs": {"prep": "prep"}}
    assert set(lock["data"]) == {"in.csv"}
    assert set(lock["prevs"]) == {"prep"}
    reset_declared()
    assert declared() == {"data": {}, "prevs": {}}


def test_runlock_section_splat(tmp_path: Path) -> None:
    register_resolvers()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.csv").write_text("a")
    runlock({"save_dir": "results/prepare"})
    cfg = OmegaConf.create(
        """
        save_dir: results/train
        input_path: data/a.csv
        runlock:
          data:
            - ${input_path}
          prevs: {prepare: results/prepare}
        """
    )
    lock = read_lock(runlock(config=cfg, **cfg.runlock))
    assert set(lock["data"]) == {"data/a.csv"}
    assert lock["prevs"]["prepare"]["path"] == "../prepare"


def test_resolvers_registered_on_first_use(tmp_path: Path) -> None:
    # A fresh interpreter: OmegaConf imported and a config built before naga registered anything.
    script = copy_app("declared_before_naga.py", tmp_path / "s.py")
    (tmp_path / "in.csv").write_text("1")
    import sys

    subprocess.run([sys.executable, str(script)], cwd=tmp_path, check=True)
    assert set(read_lock(tmp_path / "o/run.lock")["data"]) == {"in.csv"}
