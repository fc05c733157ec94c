"""naga's override semantics must equal Hydra's own compose API — or both must reject.

The naga side starts from a *plain* config class (types inferred from defaults); the Hydra
side from the hand-written dataclass a Hydra user would write for the same config.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import pytest
from hydra import compose as hydra_compose
from hydra import initialize
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf

from naga.config.compose import compose
from naga.config.structured import to_structured
from naga.errors import ConfigError


class Model:
    lr = 0.1
    layers = [1, 2]


class Config:
    param = 1
    flag = False
    name = "x"
    nothing = None
    model = Model
    opts = {"a": 1}
    input_path = "data/in.csv"


@dataclass
class HydraModel:
    lr: float = 0.1
    layers: list[Any] = field(default_factory=lambda: [1, 2])


@dataclass
class HydraConfig:
    param: int = 1
    flag: bool = False
    name: str = "x"
    nothing: Optional[Any] = None  # noqa: UP045 - spelled as Hydra users write it
    model: HydraModel = field(default_factory=HydraModel)
    opts: dict[str, Any] = field(default_factory=lambda: {"a": 1})
    input_path: str = "data/in.csv"


OVERRIDES = [
    ["param=10"],
    ["model.lr=0.5"],
    ["model.lr=1"],  # int into a float field
    ["+new=1"],
    ["++param=7"],
    ["++brand_new=3"],
    ["~input_path"],
    ["~model"],
    ["model.layers=[1,2,3]"],
    ["model.layers=[]"],
    ["opts={a:1,b:2}"],
    ["opts.a=5"],
    ["name='hello world'"],
    ['name="double quoted"'],
    [r"name=a\,b"],
    ["nothing=null"],
    ["nothing=[1,2]"],
    ["name=${param}"],
    ["flag=true"],
    ["+model.extra=x"],
    ["param=10", "model.lr=0.2", "+new=[a,b]"],
    # rejected by both
    ["param=abc"],
    ["param=1.5"],
    ["paramm=1"],
    ["model.lrr=1"],
    ["+param=3"],
    ["name=null"],
    ["flag=maybe"],
    ["param=1,2"],
    ["param=[1"],
    ["~nope"],
]


def hydra_result(overrides: list[str]) -> Any:
    ConfigStore.instance().store(name="hydra_reference", node=HydraConfig)
    GlobalHydra.instance().clear()
    try:
        with initialize(version_base="1.3", config_path=None):
            cfg = hydra_compose(config_name="hydra_reference", overrides=overrides)
        return OmegaConf.to_container(cfg, resolve=True)
    except Exception as exc:
        return ("rejected", type(exc).__name__)
    finally:
        GlobalHydra.instance().clear()


def naga_result(overrides: list[str]) -> Any:
    try:
        cfg = compose(to_structured(Config), overrides)
        return OmegaConf.to_container(cfg, resolve=True)
    except ConfigError as exc:
        return ("rejected", type(exc).__name__)


def test_the_reference_dataclass_matches_the_plain_class() -> None:
    assert naga_result([]) == hydra_result([])


@pytest.mark.parametrize("overrides", OVERRIDES, ids=" ".join)
def test_naga_composes_like_hydra(overrides: list[str]) -> None:
    expected = hydra_result(overrides)
    actual = naga_result(overrides)
    if isinstance(expected, tuple):
        assert isinstance(actual, tuple), f"Hydra rejects {overrides}, naga gave {actual}"
    else:
        assert actual == expected


def test_enough_forms_are_covered() -> None:
    accepted = [o for o in OVERRIDES if not isinstance(hydra_result(o), tuple)]
    rejected = [o for o in OVERRIDES if isinstance(hydra_result(o), tuple)]
    assert len(accepted) >= 15
    assert len(rejected) >= 5
