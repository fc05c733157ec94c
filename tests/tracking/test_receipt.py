"""Unit tests for what a run directory tells MLflow (no MLflow store involved)."""

from __future__ import annotations

import json
import posixpath
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from naga.errors import TrackingError
from naga.tracking import receipt as receipt_mod
from naga.tracking.receipt import (
    MAX_PARAM_VAL_LENGTH,
    TRUNCATED,
    clip,
    flatten_params,
    lock_tags,
    logical_run_id,
    read_receipt,
    safe_key,
    source_tags,
    upstream_dirs,
)


def test_limits_match_installed_mlflow() -> None:
    from mlflow.utils import validation

    for name in (
        "MAX_PARAMS_TAGS_PER_BATCH",
        "MAX_PARAM_VAL_LENGTH",
        "MAX_TAG_VAL_LENGTH",
        "MAX_ENTITY_KEY_LENGTH",
    ):
        assert getattr(receipt_mod, name) == getattr(validation, name), name


def test_flatten_nested_lists_and_scalars() -> None:
    params = flatten_params(
        {
            "lr": 0.1,
            "model": {"depth": 3, "layers": [64, 32], "act": None, "opts": {}},
            "flag": True,
            "name": "x",
        }
    )
    assert params == {
        "lr": "0.1",
        "model.depth": "3",
        "model.layers": "[64, 32]",
        "model.act": "null",
        "model.opts": "{}",
        "flag": "true",
        "name": "x",
    }


def test_long_values_are_truncated_visibly() -> None:
    params = flatten_params({"big": "x" * 10_000, "lst": list(range(5000))})
    for value in params.values():
        assert len(value) == MAX_PARAM_VAL_LENGTH
        assert value.endswith(TRUNCATED)
    assert clip("short", 10) == "short"


def test_bad_keys_are_made_safe_without_collisions() -> None:
    params = flatten_params({"a+b": 1, "a_b": 2, "ü/../x": 3})
    assert len(params) == 3
    from mlflow.utils.validation import _validate_param_name

    for key in params:
        _validate_param_name(key)


@given(st.text(max_size=300))
@example("..0")  # found by hypothesis: a key starting with ".." that normalises to itself
def test_safe_key_is_always_accepted_by_mlflow(key: str) -> None:
    from mlflow.utils.validation import path_not_unique, validate_param_and_metric_name

    safe = safe_key(key)
    assert safe
    assert len(safe) <= 250
    assert validate_param_and_metric_name(safe)
    assert not path_not_unique(safe), (key, safe, posixpath.normpath(safe))


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.text(min_size=1, max_size=8), children, max_size=3)
        ),
        max_leaves=20,
    ).filter(lambda tree: isinstance(tree, dict))
)
def test_flatten_keeps_every_leaf(tree: dict) -> None:
    params = flatten_params(tree)

    def leaves(node: object) -> int:
        if isinstance(node, dict) and node:
            return sum(leaves(child) for child in node.values())
        return 1

    assert len(params) == (leaves(tree) if tree else 0)
    for value in params.values():
        assert isinstance(value, str)


def test_logical_run_id_is_canonical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = tmp_path / "results" / "a"
    run.mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "results")
    assert logical_run_id(tmp_path / "link" / "a") == run.resolve().as_posix()
    monkeypatch.chdir(tmp_path)
    assert logical_run_id("results/./a/") == run.resolve().as_posix()


def test_logical_run_id_relative_to_runs_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NAGA_RUNS_ROOT", str(tmp_path / "results"))
    assert logical_run_id(tmp_path / "results" / "exp 1" / "ü") == "exp 1/ü"
    outside = tmp_path / "elsewhere"
    assert logical_run_id(outside) == outside.resolve().as_posix()


def test_missing_dir_is_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(TrackingError, match=r"run directory '.*nope' does not exist; pass"):
        read_receipt(tmp_path / "nope")


def test_broken_run_lock_is_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "run.lock").write_text("a: [unclosed\n")
    with pytest.raises(TrackingError, match=r"run\.lock is not valid YAML") as info:
        read_receipt(tmp_path)
    assert "\n" not in str(info.value)


def test_no_run_lock_gives_warning_text(tmp_path: Path) -> None:
    receipt = read_receipt(tmp_path)
    assert receipt.lock is None
    assert receipt.lock_hash is None
    assert "no run.lock" in receipt.warnings[0]
    assert lock_tags(receipt)["naga.lock_hash"] == "none"


def test_tags_from_real_runlock(make_run_dir, tmp_path: Path) -> None:
    prep = make_run_dir("prep", {"x": 1}, data=["data/in.csv"])
    train = make_run_dir("train", {"y": [1, 2]}, prevs=[str(prep)])
    receipt = read_receipt(prep)
    tags = lock_tags(receipt)
    lock = receipt.lock
    assert lock is not None
    assert tags["naga.lock_run_id"] == lock["run_id"]
    assert tags["naga.git.commit"] == lock["repos"]["."]["commit"]
    assert tags["naga.git.dirty"] in {"true", "false"}
    assert tags["naga.data.data/in.csv.hash"].startswith("blake3:")
    assert tags["naga.lock_hash"].startswith("blake3:")
    # upstream paths are relative to the run.lock's directory and resolve to prep's id
    assert upstream_dirs(read_receipt(train)) == [(lock["run_id"], logical_run_id(prep))]


def test_lock_hash_changes_with_bytes(tmp_path: Path) -> None:
    (tmp_path / "run.lock").write_text(json.dumps({"naga_lock": 1, "run_id": "a", "config": {}}))
    first = read_receipt(tmp_path).lock_hash
    (tmp_path / "run.lock").write_text(
        json.dumps({"naga_lock": 1, "run_id": "a", "config": {"x": 1}})
    )
    assert read_receipt(tmp_path).lock_hash != first


def _receipt_with(tmp_path: Path, lock: dict) -> receipt_mod.Receipt:
    (tmp_path / "run.lock").write_text(json.dumps({"naga_lock": 1, **lock}))
    return read_receipt(tmp_path)


def test_git_tags_name_the_script_repository_plainly_and_others_by_key(tmp_path: Path) -> None:
    lock = {
        "run_id": "r",
        "script": {"path": "src/train.py", "repo": "/home/me/proj", "function": "main"},
        "repos": {
            "proj": {
                "root": "/home/me/proj",
                "commit": "a" * 40,
                "branch": "dev",
                "dirty": True,
                "snapshot": {"commit": "b" * 40},
                "remotes": {},
            },
            "vendor/lib": {"root": "/home/me/lib", "commit": "c" * 40, "dirty": False},
        },
    }
    tags = lock_tags(_receipt_with(tmp_path, lock))
    assert tags["naga.git.commit"] == "a" * 40
    assert tags["naga.git.branch"] == "dev"
    assert tags["naga.git.dirty"] == "true"
    assert tags["naga.git.snapshot"] == "b" * 40
    assert tags["naga.git.vendor/lib.commit"] == "c" * 40
    assert tags["naga.git.vendor/lib.dirty"] == "false"
    assert tags["mlflow.source.name"] == "/home/me/proj/src/train.py"
    assert tags["mlflow.source.git.commit"] == "a" * 40  # HEAD, not naga's snapshot
    # first, so they are among the tags the run is created with (overriding MLflow's guess)
    assert next(iter(tags)).startswith("mlflow.source.")


def test_without_a_script_match_the_repository_keyed_dot_is_the_script_repository() -> None:
    lock = {"repos": {".": {"commit": "d" * 40, "remotes": {"upstream": "u", "origin": "o"}}}}
    assert source_tags(lock) == {
        "mlflow.source.git.commit": "d" * 40,
        "mlflow.source.git.repoURL": "o",
    }


def test_source_repo_url_never_carries_credentials() -> None:
    lock = {"repos": {".": {"remotes": {"origin": "https://bob:tok@git.example/x.git"}}}}
    assert source_tags(lock)["mlflow.source.git.repoURL"] == "https://git.example/x.git"


def test_no_script_and_no_repos_set_no_source_tags() -> None:
    assert source_tags({"run_id": "r", "repos": {}}) == {}
