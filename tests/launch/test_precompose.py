"""Every job's config, derived from one composed base, equals what Hydra's multirun composes.

Differential: for each sweep below, Hydra's own ``Hydra.multirun`` (BasicSweeper +
BasicLauncher, composing every job with ``load_sweep_config``) runs a task that records
what the job sees; then naga runs the same sweep from the same base config, deriving each
job's config (:mod:`naga.launch.plan.compose`) and running it with its in-process launcher
(:mod:`naga.launch.launchers.inprocess`), or through Hydra's BasicLauncher with the configs carried
and pickled as joblib and submitit carry them (:mod:`naga.launch.plan.handoff`). What the
jobs see must be equal: the task's config (unresolved and resolved, so ``${hydra:...}``
and ``${now:...}`` are evaluated inside the job), the Hydra config (``hydra.job.num``,
``override_dirname``, ``overrides.task``, ``runtime.output_dir``, ...), the types, flags
and metadata of every node, and the working directory. A sweep Hydra rejects, naga rejects.
"""

from __future__ import annotations

import os
import pickle
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hypothesis import given
from hypothesis import strategies as st
from omegaconf import DictConfig, ListConfig, OmegaConf

from naga.config.compose import primary_config_name
from naga.config.structured import to_structured
from naga.errors import ConfigError
from naga.launch.job import job_failed
from naga.launch.launchers import inprocess
from naga.launch.plan import hydra_session
from naga.launch.plan.compose import JobConfigs, Template, subdir_override
from naga.launch.plan.handoff import JobOverride, PrecomposedLoader
from naga.launch.plan.tasks import override_value


class Model:
    depth = 2
    layers = [1, 2]


class Config:
    param = 1
    lr = 0.1
    seed = 0
    name = "x"
    flag = False
    nothing = None
    model = Model
    opts = {"a": 1}
    extra = None  # filled by the config group `extra` (+extra=a)
    tag = "${name}-${param}"
    num = "${hydra:job.num}"
    dirname = "${hydra:job.override_dirname}"
    job_name = "${hydra:job.name}"
    out = "${hydra:runtime.output_dir}"
    mode = "${hydra:mode}"
    year = "${now:%Y}"


# naga's own defaults for a sweep (naga.launch.sweep._HYDRA_DEFAULTS), on both sides.
DEFAULTS = [
    "hydra/hydra_logging=none",
    "hydra/job_logging=none",
    "hydra.output_subdir=null",
    "hydra.job.chdir=false",
    "hydra.mode=MULTIRUN",
]

SWEEPS = [
    ["param=1,2,3"],
    ["param=range(0,4)"],
    ["param=range(1,10,4)", "lr=0.5"],
    ["lr=choice(0.1,0.01)", "name=choice(a,b)"],
    ["param=1,2", "name=x,y"],  # a grid
    ["name='a,b','c d'", "param=int(2.0),3"],  # quoted values, a cast
    ["name='x y'", "param=sort(3,1,2)"],
    ["+extra_key=1,2"],
    ["++param=5,6", "++brand_new=[1,2]"],
    ["~flag", "param=1,2"],
    ["~model", "seed=1,2"],
    ["+model.extra=1,2", "model.depth=3"],
    ["model.layers=[1,2],[3]", "opts={a:2},{a:3}"],
    ["nothing=1,null"],
    ["name='${param}-x'", "param=1,2"],  # an interpolation as a value
    ["param=1,2", "hydra.job.name=custom"],
    ["param=1,2", "seed=3", "hydra.job.config.override_dirname.exclude_keys=[seed]"],
    ["param=1,2", "hydra.job.config.override_dirname.kv_sep=:"],
    ["param=1,2", "+hydra.job.env_set.NAGA_TEST_VAR=yes", "hydra.job.env_copy=[HOME]"],
    ["param=1,2", "hydra.job.chdir=true"],
    ["param=1,2", "hydra.sweep.subdir=run_${hydra.job.num}"],
    ["param=1,2", "hydra.sweep.subdir=${hydra:job.override_dirname}"],
    ["+extra=glob(*)"],  # a config group: these jobs are composed by Hydra
    ["+extra=glob(a*)", "param=7,8"],
    [],  # -m with no sweep: one job
]
REJECTED = [
    ["param=x,1"],  # a value that does not fit the int field
    ["param=interval(0,1)"],  # the basic sweeper takes no interval()
    ["paramm=1,2"],
    ["+param=1,2"],  # the key exists
    ["~nope", "param=1,2"],
    ["~nothing", "param=1,2"],  # a None value cannot be deleted
    ["opts={b:2},{c:3}"],  # a dict value merges into a closed dict
    ["hydra.job.name=a,b"],  # Hydra's own config cannot be swept
]


@pytest.fixture(autouse=True)
def _extra_group() -> Iterator[None]:
    store = ConfigStore.instance()
    for option, value in (("a", 1), ("ab", 2), ("b", 3)):
        store.store(group="extra", name=option, node={"v": value})
    yield
    GlobalHydra.instance().clear()


def _shape(node: Any, path: str = "") -> list[tuple[Any, ...]]:
    """Every node's class, metadata and own flags, in tree order."""
    meta = node._metadata
    row = (
        path,
        type(node).__name__,
        meta.object_type,
        meta.ref_type,
        meta.optional,
        getattr(meta, "key_type", None),
        getattr(meta, "element_type", None),
        dict(meta.flags),
    )
    rows = [row]
    if isinstance(node, DictConfig) and not node._is_none() and not node._is_missing():
        for key in node.keys():  # noqa: SIM118 - a DictConfig's keys, missing ones too
            rows += _shape(node._get_node(key), f"{path}.{key}")
    elif isinstance(node, ListConfig) and not node._is_none() and not node._is_missing():
        for index in range(len(node)):
            rows += _shape(node._get_node(index), f"{path}[{index}]")
    return rows


def _record(cfg: Any) -> dict[str, Any]:
    root = HydraConfig.instance().cfg
    return {
        "config": OmegaConf.to_container(cfg, resolve=False),
        "resolved": OmegaConf.to_container(cfg, resolve=True),
        "hydra": OmegaConf.to_container(root, resolve=False),
        "hydra_resolved": {
            key: OmegaConf.to_container(root.hydra[key], resolve=True)
            for key in ("job", "sweep", "overrides", "runtime")
        },
        "shape": _shape(cfg),
        "hydra_shape": _shape(root),
        "cwd": os.getcwd(),
        "env": os.environ.get("NAGA_TEST_VAR"),
    }


def _overrides(tmp_path: Path, sweep: list[str]) -> list[str]:
    # Quoted: the tmp dir's name is hostile (spaces, quotes, ';', '$', a newline).
    return [*DEFAULTS, f"hydra.sweep.dir={override_value(str(tmp_path / 'multirun'))}", *sweep]


def hydra_multirun(tmp_path: Path, sweep: list[str]) -> list[dict[str, Any]] | str:
    """What each job of Hydra's own multirun sees (or 'rejected')."""
    from hydra import version
    from hydra._internal.hydra import Hydra
    from hydra._internal.utils import create_config_search_path

    version.setbase("1.3")  # as @hydra.main(version_base="1.3") does
    name = primary_config_name(to_structured(Config))
    records: list[dict[str, Any]] = []
    GlobalHydra.instance().clear()
    hydra = Hydra.create_main_hydra2(
        task_name="app", config_search_path=create_config_search_path(None)
    )
    try:
        hydra.multirun(
            config_name=name,
            task_function=lambda cfg: records.append(_record(cfg)),
            overrides=_overrides(tmp_path, sweep),
            with_log_configuration=False,
        )
    except Exception:
        return "rejected"
    finally:
        GlobalHydra.instance().clear()
    return records


def naga_session(tmp_path: Path, sweep: list[str]) -> tuple[Any, list[list[str]], JobConfigs]:
    session = hydra_session.open_session(to_structured(Config), "app", _overrides(tmp_path, sweep))
    jobs = hydra_session.expand(session)
    configs = JobConfigs(session)
    for num, job in enumerate(jobs):
        configs.add(job, what=f"job {num}")
    return session, jobs, configs


def naga_in_process(tmp_path: Path, sweep: list[str]) -> list[dict[str, Any]] | str:
    """What each job of naga's in-process launcher sees (or 'rejected')."""
    records: list[dict[str, Any]] = []
    try:
        session, jobs, configs = naga_session(tmp_path, sweep)
        inprocess.launch(
            session,
            configs,
            lambda cfg: records.append(_record(cfg)),
            range(len(jobs)),
            on_end=lambda num, ret: _raise_failure(ret),
        )
    except ConfigError:
        return "rejected"
    finally:
        hydra_session.close()
    return records


def naga_carried(tmp_path: Path, sweep: list[str]) -> list[dict[str, Any]]:
    """What each job sees when Hydra's BasicLauncher runs it from a config naga carried.

    Each job's overrides are pickled and unpickled, as joblib and submitit send them, so
    the launcher's ``load_sweep_config`` gets the config the JobOverride carried. (Classes
    go by reference: cloudpickle's by-value classes, unpickled in the process that pickled
    them, would be rewritten in place; the real transports run in tests of the CLI.)
    """
    records: list[dict[str, Any]] = []
    try:
        session, jobs, configs = naga_session(tmp_path, sweep)
        shipped = [
            Template([*job, JobOverride("hydra.job.id=0", configs=configs, index=num)]).copy()
            for num, job in enumerate(jobs)
        ]
        assert all(isinstance(job[-1], JobOverride) and job[-1]._configs is None for job in shipped)
        loader = PrecomposedLoader(session.hydra.config_loader)
        results = hydra_session.launch(
            session, lambda cfg: records.append(_record(cfg)), shipped, loader=loader
        )
        for ret in results:
            _raise_failure(ret)
    finally:
        hydra_session.close()
    return records


def _raise_failure(ret: Any) -> None:
    failure = job_failed(ret)
    if failure is not None:
        raise failure


@pytest.mark.parametrize("sweep", SWEEPS, ids=lambda sweep: " ".join(sweep) or "no-overrides")
def test_every_job_sees_what_hydras_multirun_gives_it(tmp_path: Path, sweep: list[str]) -> None:
    expected = hydra_multirun(tmp_path, sweep)
    assert isinstance(expected, list), f"Hydra rejects {sweep}"
    assert expected, "the sweep has jobs"
    actual = naga_in_process(tmp_path, sweep)
    assert isinstance(actual, list), f"naga rejects {sweep}"
    assert len(actual) == len(expected)
    for num, (mine, hydras) in enumerate(zip(actual, expected, strict=True)):
        for key in hydras:
            assert mine[key] == hydras[key], f"job {num}: {key} differs"
    assert naga_carried(tmp_path, sweep) == expected


@pytest.mark.parametrize("sweep", REJECTED, ids=" ".join)
def test_a_sweep_hydra_rejects_naga_rejects(tmp_path: Path, sweep: list[str]) -> None:
    assert hydra_multirun(tmp_path, sweep) == "rejected"
    assert naga_in_process(tmp_path, sweep) == "rejected"


def test_enough_of_the_grammar_is_covered() -> None:
    text = " ".join(item for sweep in SWEEPS for item in sweep)
    for form in (
        "range(",
        "choice(",
        "glob(",
        "sort(",
        "int(",
        "'",
        "+",
        "++",
        "~",
        "hydra.",
        "${",
    ):
        assert form in text, form
    assert any("interval(" in item for sweep in REJECTED for item in sweep)


def test_only_group_overrides_are_composed_by_hydra(tmp_path: Path) -> None:
    _, _, configs = naga_session(tmp_path, ["+extra=a,b", "param=1,2"])
    try:
        assert [job.parsed is None for job in configs._jobs] == [True] * 4
    finally:
        hydra_session.close()
    _, _, configs = naga_session(tmp_path, ["param=1,2", "+new=3"])
    try:
        assert [job.parsed is None for job in configs._jobs] == [False] * 2
    finally:
        hydra_session.close()


def test_a_bad_job_is_named_before_anything_runs(tmp_path: Path) -> None:
    session = hydra_session.open_session(
        to_structured(Config), "app", _overrides(tmp_path, ["param=1,x"])
    )
    try:
        configs = JobConfigs(session)
        configs.add(["param=1"], what="job 0 (param=1)")
        with pytest.raises(ConfigError, match=r"^job 1 \(param=x\): .*param=x"):
            configs.add(["param=x"], what="job 1 (param=x)")
    finally:
        hydra_session.close()


def test_each_config_is_a_new_object(tmp_path: Path) -> None:
    _, _, configs = naga_session(tmp_path, ["param=1,2"])
    try:
        first, again = configs.config(0), configs.config(0)
        assert first == again and first is not again
        first.param = 5
        assert configs.config(0).param == 1
    finally:
        hydra_session.close()


def test_template_copies_are_independent_and_keep_generated_classes() -> None:
    cfg = to_structured(Config)  # a generated dataclass pickle cannot find by name
    template = Template(cfg)
    copies = [template.copy() for _ in range(2)]
    assert copies[0] == cfg and copies[0] is not copies[1]
    assert OmegaConf.get_type(copies[0]) is OmegaConf.get_type(cfg)
    copies[0].model.depth = 9
    assert copies[1].model.depth == 2 and cfg.model.depth == 2


@given(st.text(alphabet=string.ascii_letters + string.digits + "._=,+-", min_size=1, max_size=20))
def test_the_subdir_override_is_what_hydras_parser_makes(name: str) -> None:
    text = f"hydra.sweep.subdir={override_value(name)}"
    assert subdir_override(text) == OverridesParser.create().parse_overrides([text])[0]


def test_a_job_override_is_the_override_string() -> None:
    carried = JobOverride("hydra.sweep.subdir='p=1'", config=OmegaConf.create({"a": 1}))
    assert carried == "hydra.sweep.subdir='p=1'" and carried.startswith("hydra.")
    back = pickle.loads(pickle.dumps(carried))
    assert isinstance(back, JobOverride) and back == carried
    assert back.config() == {"a": 1}


class _NoCompose:
    """A config loader that must not be asked to compose."""

    def load_sweep_config(self, master: Any, overrides: list[str]) -> Any:
        raise AssertionError(f"composed {overrides}")


def test_a_carried_job_is_not_composed_again(tmp_path: Path) -> None:
    _, jobs, configs = naga_session(tmp_path, ["param=1,2"])
    try:
        loader = PrecomposedLoader(_NoCompose())  # type: ignore[arg-type]
        carried = Template([*jobs[1], JobOverride("x=1", configs=configs, index=1)]).copy()
        assert loader.load_sweep_config(None, carried).param == 2
        with pytest.raises(AssertionError, match="composed"):
            loader.load_sweep_config(None, list(jobs[1]))  # nothing carried: Hydra composes
    finally:
        hydra_session.close()
