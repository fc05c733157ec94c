"""Config classes, instances, dataclasses, attrs classes and dicts become structured configs."""

from __future__ import annotations

import dataclasses
import enum
import keyword
import pathlib

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigAttributeError, ValidationError

from naga.config.structured import to_structured
from naga.errors import ConfigError


class Color(enum.Enum):
    RED = 1
    BLUE = 2


class Optim:
    lr = 0.1
    betas = [0.9, 0.99]


class Config:
    param = 1
    ratio = 0.5
    flag = True
    name = "x"
    path = pathlib.Path("data")
    color = Color.RED
    nothing = None
    optim = Optim
    opts = {"a": 1}
    _private = object()

    def method(self):
        return 1

    @property
    def computed(self):
        return 2

    @staticmethod
    def helper():
        return 3


def test_types_are_inferred_from_defaults():
    cfg = to_structured(Config)
    assert OmegaConf.to_container(cfg) == {
        "param": 1,
        "ratio": 0.5,
        "flag": True,
        "name": "x",
        "path": pathlib.Path("data"),
        "color": Color.RED,
        "nothing": None,
        "optim": {"lr": 0.1, "betas": [0.9, 0.99]},
        "opts": {"a": 1},
    }
    with pytest.raises(ValidationError):
        cfg.param = "abc"
    with pytest.raises(ValidationError):
        cfg.flag = "maybe"
    cfg.ratio = 1  # an int is a valid float
    assert cfg.ratio == 1.0
    cfg.nothing = [1, 2]  # None means "optional, any type"
    cfg.color = "BLUE"
    assert cfg.color is Color.BLUE


def test_typos_raise_and_members_are_skipped():
    cfg = to_structured(Config)
    with pytest.raises(ConfigAttributeError):
        _ = cfg.parm
    for skipped in ("method", "computed", "helper", "_private"):
        assert skipped not in cfg


def test_mutable_defaults_are_fresh_copies():
    first = to_structured(Config)
    first.optim.betas.append(0.5)
    first.opts.a = 9
    second = to_structured(Config)
    assert list(second.optim.betas) == [0.9, 0.99]
    assert second.opts.a == 1
    assert Optim.betas == [0.9, 0.99]


def test_instance_attributes_override_class_defaults():
    instance = Config()
    instance.param = 7
    instance.extra = "added"
    cfg = to_structured(instance)
    assert cfg.param == 7 and cfg.extra == "added" and cfg.name == "x"


def test_nested_instances_become_subnodes():
    tuned = Optim()
    tuned.lr = 0.3

    class WithInstance:
        optim = tuned

    assert to_structured(WithInstance).optim.lr == 0.3


def test_annotations_win_over_inference_and_missing_is_required():
    class Annotated:
        lr: float = 1
        steps: int

    cfg = to_structured(Annotated)
    assert cfg.lr == 1.0 and isinstance(cfg.lr, float)
    assert OmegaConf.is_missing(cfg, "steps")


def test_inheritance_collects_base_attributes():
    class Base:
        a = 1
        b = 2

    class Child(Base):
        b = 3
        c = 4

    assert OmegaConf.to_container(to_structured(Child)) == {"a": 1, "b": 3, "c": 4}


def test_dataclass_attrs_dict_and_dictconfig_are_accepted():
    @dataclasses.dataclass
    class DC:
        a: int = 1

    @attrs.define
    class AT:
        b: float = 2.0

    assert to_structured(DC).a == 1
    assert to_structured(DC(a=5)).a == 5
    assert to_structured(AT).b == 2.0
    from_dict = to_structured({"x": {"y": 1}})
    assert from_dict.x.y == 1
    with pytest.raises(ConfigAttributeError):
        _ = from_dict.z
    assert isinstance(to_structured(OmegaConf.create({"k": 1})), DictConfig)


@pytest.mark.parametrize(
    ("value", "kind"),
    [(len, "a function"), (lambda x: x, "a function"), (object(), "a object object")],
)
def test_values_a_config_cannot_hold_name_the_attribute(value, kind):
    Bad = type("Bad", (), {"thing": value})
    with pytest.raises(ConfigError, match=rf"^Bad\.thing: {kind} cannot be stored in a config"):
        to_structured(Bad)


def test_keyword_attribute_names_are_a_clear_error():
    odd = type("Odd", (), {"in": 1})
    with pytest.raises(ConfigError, match=r"^Odd\.in: not a valid attribute name"):
        to_structured(odd)


def test_unstorable_values_inside_lists_are_reported_with_their_index():
    class Bad:
        items = [1, object()]

    with pytest.raises(ConfigError, match=r"Bad\.items\[1\]"):
        to_structured(Bad)


scalars = st.one_of(
    st.integers(-(2**31), 2**31),
    st.booleans(),
    st.text(max_size=8),
    st.floats(allow_nan=False, allow_infinity=False),
    st.none(),
)
# Names a class body can hold (keywords cannot be class attributes in source code).
names = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True).filter(
    lambda n: not keyword.iskeyword(n)
)
trees = st.recursive(
    st.dictionaries(names, scalars, max_size=4),
    lambda children: st.dictionaries(
        names, st.one_of(scalars, children, st.lists(scalars, max_size=3)), max_size=4
    ),
    max_leaves=12,
)


def _as_class(name: str, tree: dict) -> type:
    attrs_ = {k: (_as_class(k, v) if isinstance(v, dict) else v) for k, v in tree.items()}
    return type(name, (), attrs_)


@given(trees)
def test_plain_class_round_trips_to_the_same_tree(tree):
    assert OmegaConf.to_container(to_structured(_as_class("Generated", tree))) == tree


def test_keys_keep_definition_order_with_mixed_annotations():
    class Mixed:
        color = "red"
        layers: int = 3
        out = pathlib.Path("out")
        seed: int
        extra: tuple = (1, 2)

        class model:
            depth = 2

        save_dir = "results"

    assert list(to_structured(Mixed)) == [
        *("color", "layers", "out", "seed", "extra", "model", "save_dir")
    ]


def test_a_bare_annotation_between_plain_values_is_placed_from_the_source():
    class Between:
        a = 1
        b: int
        c = 3

    assert list(to_structured(Between)) == ["a", "b", "c"]


def test_a_redefined_base_attribute_keeps_the_base_position():
    class Base:
        a = 1
        b: int
        c = 3

    class Child(Base):
        d = 4
        b: int = 2

    assert list(to_structured(Child)) == ["a", "b", "c", "d"]


def test_without_source_a_bare_annotation_goes_before_the_next_annotated_value():
    namespace: dict = {}
    exec("class NoSource:\n a = 1\n b: int\n c: float = 2\n d = 3\n e: str\n", namespace)
    assert list(to_structured(namespace["NoSource"])) == ["a", "b", "c", "d", "e"]
