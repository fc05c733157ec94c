"""Atomic writes, merge rules and refusal to clobber foreign files (naga.lock.writer)."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from naga.errors import LockError
from naga.lock.atomic import write_atomic
from naga.lock.format import dumps, loads, read_lock
from naga.lock.writer import merge, update_lock

# Plain YAML-safe trees as a run.lock holds them (NaN excluded: it never equals itself).
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False)
    | st.text()
)
trees = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8) | st.integers(), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(config=st.dictionaries(st.text(max_size=10), trees, max_size=5))
def test_dump_reads_back_equal(config: dict) -> None:
    record = {"naga_lock": 1, "run_id": "x", "config": config}
    assert loads(dumps(record)) == record


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(config=st.dictionaries(st.text(max_size=10), trees, max_size=5))
def test_written_lock_reads_back_equal(tmp_path: Path, config: dict) -> None:
    path = tmp_path / "run.lock"
    written = update_lock(path, {"naga_lock": 1, "run_id": "r", "config": config})
    assert read_lock(path) == written
    assert read_lock(path)["config"] == config


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    packages=st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=8),
    config=st.dictionaries(st.sampled_from(["packages", "environment", "x"]), trees, max_size=3),
)
def test_the_package_list_is_written_as_a_plain_dump_writes_it(
    packages: dict, config: dict
) -> None:
    # dumps() makes the package list's YAML once per process and splices it in.
    record = {"naga_lock": 1, "environment": {"python": "3", "packages": packages}}
    record["config"] = config
    plain = yaml.dump(
        record,
        Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=120,
    )
    assert dumps(record) == plain
    assert dumps(record) == plain  # a second time, from the cached text


def test_block_style_and_key_order(tmp_path: Path) -> None:
    path = tmp_path / "run.lock"
    update_lock(path, {"run_id": "r", "status": "completed", "config": {"b": 1, "a": [1, 2]}})
    text = path.read_text()
    assert text.startswith("naga_lock: 1\nrun_id: r\nstatus: completed\n")
    assert "config:\n  b: 1\n  a:\n  - 1\n  - 2\n" in text


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_mode_follows_umask(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        write_atomic(tmp_path / "run.lock", "naga_lock: 1\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "run.lock").stat().st_mode) == 0o666 & ~umask


def test_no_temp_or_lock_files_left(tmp_path: Path) -> None:
    for i in range(3):
        update_lock(tmp_path / "run.lock", {"run_id": "r", "config": {"i": i}})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.lock"]


def test_temp_file_removed_when_write_fails(tmp_path: Path) -> None:
    # A text the encoder refuses fails inside the write, after the temp file exists.
    with pytest.raises(UnicodeEncodeError):
        write_atomic(tmp_path / "run.lock", "bad \udcff surrogate")
    assert list(tmp_path.iterdir()) == []


def test_stale_temp_files_are_cleaned_by_next_write(tmp_path: Path) -> None:
    stale = tmp_path / ".run.lock.naga-tmp-abc123.tmp"
    stale.write_text("partial")
    other = tmp_path / ".other.naga-tmp-x.tmp"
    other.write_text("not ours")
    update_lock(tmp_path / "run.lock", {"run_id": "r"})
    assert not stale.exists()
    assert other.exists()


def test_creates_missing_parent_dirs(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "run.lock"
    update_lock(path, {"run_id": "r"})
    assert read_lock(path)["run_id"] == "r"


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("hello: [unclosed\n", "not valid YAML"),
        ("- a list\n", "not a naga run.lock"),
        ("my notes about the run\n", "not a naga run.lock"),
        ("", "not a naga run.lock"),
        ("run_id: x\n", "not a naga run.lock"),
    ],
)
def test_refuses_to_clobber_foreign_file(tmp_path: Path, content: str, why: str) -> None:
    path = tmp_path / "run.lock"
    path.write_text(content)
    with pytest.raises(LockError, match=rf"run\.lock is {why}.*move it away"):
        update_lock(path, {"run_id": "r"})
    assert path.read_text() == content


def test_refuses_directory_target(tmp_path: Path) -> None:
    (tmp_path / "run.lock").mkdir()
    with pytest.raises(LockError, match="not a regular file"):
        update_lock(tmp_path / "run.lock", {"run_id": "r"})


def test_uncreatable_directory_is_lock_error(tmp_path: Path) -> None:
    (tmp_path / "results").write_text("a file where the save_dir should be")
    with pytest.raises(LockError, match=r"cannot create .*results.*runlock_path="):
        update_lock(tmp_path / "results" / "run.lock", {"run_id": "r"})


def test_merge_same_run_unites_sections_and_takes_newest_scalars() -> None:
    old = {
        "naga_lock": 1,
        "run_id": "r",
        "status": "running",
        "config": {"a": 1},
        "repos": {".": {"path": ".", "root": "/p"}},
        "data": {"x": {"hash": "1"}},
        "redacted": ["pw"],
    }
    new = {
        "run_id": "r",
        "status": "completed",
        "config": {"a": 2},
        "repos": {},
        "data": {"y": {"hash": "2"}, "x": {"hash": "3"}},
        "redacted": ["token"],
    }
    merged = merge(old, new)
    assert merged["status"] == "completed"
    assert merged["config"] == {"a": 2}
    assert merged["repos"] == {".": {"path": ".", "root": "/p"}}
    assert merged["data"] == {"x": {"hash": "3"}, "y": {"hash": "2"}}
    assert merged["redacted"] == ["pw", "token"]


def test_merge_dedupes_repos_by_root() -> None:
    old = {"run_id": "r", "repos": {".": {"path": ".", "root": "/p"}, "lib": {"root": "/lib"}}}
    new = {"run_id": "r", "repos": {"main_project": {"path": ".", "root": "/p"}}}
    assert merge(old, new)["repos"] == {
        "lib": {"root": "/lib"},
        "main_project": {"path": ".", "root": "/p"},
    }


def test_merge_other_run_replaces_whole() -> None:
    old = {"run_id": "old", "data": {"x": {}}, "config": {"a": 1}, "stale": True}
    new = {"run_id": "new", "config": {"b": 2}}
    assert merge(old, new) == {"run_id": "new", "config": {"b": 2}}


def test_concurrent_writers_of_one_run_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "run.lock"
    errors: list[BaseException] = []

    def writer(i: int) -> None:
        try:
            for j in range(5):
                update_lock(path, {"run_id": "r", "data": {f"{i}-{j}": {"hash": f"{i}{j}"}}})
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(read_lock(path)["data"]) == 30
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.lock"]


def test_readable_by_plain_yaml(tmp_path: Path) -> None:
    path = tmp_path / "run.lock"
    update_lock(path, {"run_id": "r", "config": {"when": "2026-01-01", "yes": "yes", "n": "1e3"}})
    assert yaml.safe_load(path.read_text())["config"] == {
        "when": "2026-01-01",
        "yes": "yes",
        "n": "1e3",
    }
