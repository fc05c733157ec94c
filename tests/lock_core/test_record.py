"""Config conversion, lock path rules, environment and the package cache (naga.lock.record)."""

from __future__ import annotations

import dataclasses
import enum
import json
import sys
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from omegaconf import OmegaConf

from naga.errors import LockError
from naga.lock import _packages
from naga.lock.record import environment, error_info, lock_path_for, to_plain


class Color(enum.Enum):
    RED = 1


class Inner:
    depth = 3


class Config:
    param = 1
    input_path = "data/input.csv"
    save_dir = "results/process"
    inner = Inner
    _private = "hidden"

    def method(self) -> int:
        return 1

    @property
    def prop(self) -> int:
        return 2

    @staticmethod
    def helper() -> None:
        return None


def test_plain_class_instance_uses_class_and_instance_attributes() -> None:
    cfg = Config()
    cfg.param = 10
    cfg.extra = Path("a/b")
    assert to_plain(cfg) == {
        "param": 10,
        "input_path": "data/input.csv",
        "save_dir": "results/process",
        "inner": {"depth": 3},
        "extra": "a/b",
    }


def test_dataclass_attrs_dict_and_dictconfig() -> None:
    @dataclasses.dataclass
    class DC:
        a: int = 1
        color: Color = Color.RED
        items: list = dataclasses.field(default_factory=lambda: [1, (2, 3)])

    @attrs.define
    class AC:
        a: int = 1
        sub: DC = attrs.Factory(DC)

    assert to_plain(DC()) == {"a": 1, "color": "RED", "items": [1, [2, 3]]}
    assert to_plain(AC()) == {"a": 1, "sub": {"a": 1, "color": "RED", "items": [1, [2, 3]]}}
    assert to_plain({"a": {"b": (1, 2)}}) == {"a": {"b": [1, 2]}}
    cfg = OmegaConf.create({"a": 1, "b": "${a}", "c": {"d": "x-${b}"}})
    assert to_plain(cfg) == {"a": 1, "b": 1, "c": {"d": "x-1"}}
    assert to_plain(OmegaConf.structured(DC)) == {"a": 1, "color": "RED", "items": [1, [2, 3]]}


def test_unresolvable_dictconfig_is_lock_error() -> None:
    cfg = OmegaConf.create({"a": "${missing_key}"})
    with pytest.raises(LockError, match="cannot resolve the config"):
        to_plain(cfg)


def test_list_config_is_refused() -> None:
    with pytest.raises(LockError, match="mapping-like config"):
        to_plain([1, 2])


@given(
    st.dictionaries(
        st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True),
        st.none() | st.booleans() | st.integers() | st.text() | st.lists(st.integers(), max_size=3),
        max_size=6,
    )
)
def test_plain_dict_round_trips_through_dictconfig(data: dict) -> None:
    assert to_plain(OmegaConf.create(data)) == data
    assert to_plain(data) == data


def test_lock_path_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert lock_path_for(Config()) == tmp_path / "results/process/run.lock"
    assert lock_path_for({"save_dir": "out"}) == tmp_path / "out/run.lock"
    assert lock_path_for(OmegaConf.create({"save_dir": "o"})) == tmp_path / "o/run.lock"
    assert lock_path_for(None, "x/my.lock") == tmp_path / "x/my.lock"
    (tmp_path / "d").mkdir()
    assert lock_path_for(None, "d") == tmp_path / "d/run.lock"
    with pytest.raises(LockError, match=r"the config has no save_dir key; pass runlock_path="):
        lock_path_for({"param": 1})
    with pytest.raises(LockError, match=r"no config was given; pass runlock_path="):
        lock_path_for(None)


def test_environment_fields() -> None:
    env = environment()
    assert env["python"] == ".".join(map(str, sys.version_info[:3]))
    assert env["implementation"] == "CPython"
    assert env["executable"] == sys.executable
    assert env["platform"].startswith("Linux-")
    assert "omegaconf" in {name.lower() for name in env["packages"]}


def fake_cache(cache: Path, name: str, exclude: set[Path]) -> set[Path]:
    """Replace the packages of the newest cache file (not in exclude) by {name: "1.0"}."""
    files = set(cache.glob("*.json"))
    (new,) = files - exclude
    stored = json.loads(new.read_text())
    new.write_text(json.dumps({"key": stored["key"], "packages": {name: "1.0"}}))
    return files


def test_package_cache_is_used_and_keyed_on_sys_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NAGA_CACHE_DIR", str(tmp_path / "cache"))
    cache = tmp_path / "cache" / "packages"
    first = _packages.installed_packages()
    # A cache hit returns what the file says (proves it is read, not rescanned).
    seen = fake_cache(cache, "fake", set())
    assert _packages.installed_packages() == {"fake": "1.0"}
    # Another sys.path is another key.
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    assert _packages.installed_packages() == first
    fake_cache(cache, "fake2", seen)
    # Outputs appearing in a sys.path directory (the script's dir) keep the key...
    (site / "results").mkdir()
    assert _packages.installed_packages() == {"fake2": "1.0"}
    # ...a newly installed distribution changes it.
    (site / "new_pkg-1.0.dist-info").mkdir()
    (site / "new_pkg-1.0.dist-info" / "METADATA").write_text("Name: new-pkg\nVersion: 1.0\n")
    assert _packages.installed_packages()["new-pkg"] == "1.0"
    monkeypatch.setenv("NAGA_NO_CACHE", "1")
    assert "fake" not in _packages.installed_packages()


@pytest.mark.parametrize("off", ["1", "on", "TRUE"])
def test_both_caches_read_the_cache_variables_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, off: str
) -> None:
    from naga.lock.hashing import _cache as _hash_cache

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NAGA_CACHE_DIR", "~/c")
    _packages.installed_packages()
    assert list((tmp_path / "c" / "packages").glob("*.json"))
    assert _hash_cache.cache_path() == tmp_path / "c" / "hashes.sqlite"
    monkeypatch.setenv("NAGA_NO_CACHE", off)
    fake_cache(tmp_path / "c" / "packages", "fake", set())
    assert "fake" not in _packages.installed_packages()
    assert _hash_cache.get_cache(None) is None


def test_error_info() -> None:
    try:
        raise ValueError("bad value")
    except ValueError as exc:
        info = error_info(exc)
    assert info is not None
    assert info["type"] == "ValueError"
    assert info["message"] == "bad value"
    assert "Traceback" in info["traceback"]
    assert "raise ValueError" in info["traceback"]
