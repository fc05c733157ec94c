"""The launcher registry: every launcher by name, behind one protocol (naga.launch.launchers)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from naga.errors import UsageError
from naga.launch.launchers import registry
from naga.launch.launchers.base import Capabilities, Launcher
from naga.launch.launchers.plugin import HydraPlugin

ROOT = Path(__file__).resolve().parents[2]


def _cfg(target: str | None):
    launcher = {"_target_": target} if target is not None else {}
    return OmegaConf.create({"hydra": {"launcher": launcher}})


@pytest.mark.parametrize(
    ("target", "name"),
    [
        ("hydra._internal.core_plugins.basic_launcher.BasicLauncher", "basic"),
        ("hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher", "joblib"),
        ("hydra_plugins.hydra_submitit_launcher.submitit_launcher.LocalLauncher", "submitit_local"),
        ("hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher", "submitit_slurm"),
        ("hydra_plugins.hydra_ray_launcher.ray_launcher.RayLauncher", "RayLauncher"),
        (None, None),
    ],
)
def test_a_config_names_its_launcher_by_naga_short_name(target: str | None, name: str) -> None:
    assert registry.launcher_name(_cfg(target)) == name


def test_each_known_launcher_has_its_implementation_and_capabilities() -> None:
    found = {name: registry.by_name(name) for name in registry.LAUNCHERS}
    assert {name: launcher.name for name, launcher in found.items()} == {
        name: name for name in registry.LAUNCHERS
    }
    assert {name: launcher.capabilities for name, launcher in found.items()} == {
        "basic": Capabilities(in_process=True),
        "joblib": Capabilities(carries_task=True),
        "submitit_slurm": Capabilities(detaches=True, queue=True),
        "submitit_local": Capabilities(detaches=True),
    }
    assert all(isinstance(launcher, Launcher) for launcher in found.values())


def test_any_other_hydra_launcher_runs_through_its_plugin() -> None:
    launcher = registry.by_name("RayLauncher")
    assert type(launcher) is HydraPlugin
    assert launcher.name == "RayLauncher"
    assert launcher.capabilities == Capabilities()


def test_only_launchers_that_run_jobs_without_this_command_detach() -> None:
    registry.require_detach(registry.by_name("submitit_slurm"))
    for name in ("basic", "joblib", "RayLauncher"):
        with pytest.raises(UsageError, match=rf"this sweep uses the {name} launcher"):
            registry.require_detach(registry.by_name(name))


def test_how_to_stop_live_jobs_is_the_launchers_word() -> None:
    assert registry.stop_hint("submitit_slurm", ["12_0", "9_1", "12_1"]) == (
        ", cancel it (scancel 9 12)"
    )
    assert registry.stop_hint("submitit_local", ["311", "42"]) == ", stop it (kill 42 311)"
    # Jobs of a sweep in its own process (or its pool) stop with that process.
    assert registry.stop_hint("basic", ["12"]) == ""
    assert registry.stop_hint("submitit_slurm", []) == ""


def test_a_flag_picks_its_launcher_unless_another_was_chosen() -> None:
    assert registry.flag_launcher("--n_jobs", None) == ["hydra/launcher=joblib"]
    assert registry.flag_launcher("--n_jobs", "hydra/launcher=joblib") == []
    with pytest.raises(UsageError, match=r"^--slurm_config submits to Slurm, but hydra/l"):
        registry.flag_launcher("--slurm_config", "hydra/launcher=joblib")


def test_no_launcher_name_is_spelled_outside_the_registry() -> None:
    """Adding a launcher is one module and one registry line: nothing else knows names."""
    names = re.compile(r"""["'](basic|joblib|submitit_local|submitit_slurm)["']""")
    spelled = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in ("naga", "hydra_plugins")
        for path in sorted((ROOT / package).rglob("*.py"))
        if path.name != "registry.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if names.search(line)
    ]
    assert spelled == []
