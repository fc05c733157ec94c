"""In-process tests of the sweep pieces: tasks, job names, sweep.lock, Slurm config files."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from naga.errors import UsageError
from naga.launch.launchers.submitit.settings import slurm_overrides
from naga.launch.plan.naming import job_names, safe_name
from naga.launch.plan.tasks import (
    check_task_lines,
    override_value,
    tasks_from_file,
    tasks_from_items,
)
from naga.launch.record.files import error_line
from naga.launch.record.sweeplock import JobRecord, SweepState
from naga.lock.format import try_read


def _parse_value(text: str):
    from hydra.core.override_parser.overrides_parser import OverridesParser

    return OverridesParser.create().parse_override(f"k={text}").value()


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    # `${` would be an interpolation, as it is in a config file; exclude it here.
    st.text(max_size=20).filter(lambda s: "${" not in s and "\x00" not in s),
)


@settings(max_examples=150, deadline=None)
@given(st.one_of(scalars, st.lists(scalars, max_size=4)))
def test_override_value_round_trips_through_hydras_parser(value):
    parsed = _parse_value(override_value(value))
    assert parsed == value or (isinstance(value, str) and parsed == value)
    assert type(parsed) is type(value) or isinstance(value, list)


def test_txt_tasks(tmp_path: Path):
    path = tmp_path / "t.txt"
    path.write_text("1\n\n# comment\n'a b'\n[1,2]\n")
    assert tasks_from_file(path, task_to="p") == [["p=1"], ["p='a b'"], ["p=[1,2]"]]


def test_txt_task_that_is_a_sweep_is_rejected(tmp_path: Path):
    path = tmp_path / "t.txt"
    path.write_text("1,2\n")
    jobs = tasks_from_file(path, task_to="p")
    with pytest.raises(UsageError, match=r"task 0 \('p=1,2'\) is a sweep.*quote it"):
        check_task_lines(jobs, where="--tasks t.txt")


def test_mappings_merge_into_task_to_key(tmp_path: Path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps([{"lr": 0.1, "opt": {"name": "adam"}}, {"layers": [1, 2]}]))
    assert tasks_from_file(path, task_to="model") == [
        ["model.lr=0.1", "model.opt.name='adam'"],
        ["model.layers=[1,2]"],
    ]


@pytest.mark.parametrize(
    ("text", "suffix", "match"),
    [
        ("a: 1\n", ".yaml", "expected a list of tasks, got dict"),
        ("[]\n", ".yaml", "the task list is empty"),
        ("[1, 2]\n", ".yml", r"task 0 is a value \(1\), not a mapping.*--task_to KEY"),
        ("[{}]\n", ".yaml", "task 0 is an empty mapping"),
        ("[1,\n", ".json", "cannot parse the file"),
        ("x\n", ".csv", "unknown file kind '.csv'"),
        ("\n\n", ".txt", "the file has no values"),
    ],
)
def test_bad_tasks_files(tmp_path: Path, text, suffix, match):
    path = tmp_path / f"tasks{suffix}"
    path.write_text(text)
    with pytest.raises(UsageError, match=match):
        tasks_from_file(path, task_to=None if suffix != ".txt" else "p")


def test_object_task_value_is_rejected():
    with pytest.raises(UsageError, match="is not a config value"):
        tasks_from_items([object()], task_to="p", where="x")


def test_names_use_varying_keys_and_fall_back_to_numbers():
    assert job_names([["a=1", "b=2"], ["a=2", "b=2"]]) == ["a=1", "a=2"]
    assert job_names([["p=a/b"], ["p=a_b"]]) == ["job-000", "job-001"]  # collide once made safe
    assert job_names([["p=" + "x" * 100], ["p=1"]]) == ["job-000", "p=1"]
    assert job_names([[]]) == ["job-000"]
    assert job_names([["lr=0.5", "save_dir=results/one"]]) == ["job-000"]  # nothing varies
    assert job_names([["p=1", "save_dir=a"], ["p=2", "save_dir=b"]]) == ["p=1", "p=2"]
    assert job_names([["p=1", "hydra.launcher.n_jobs=2"], ["p=2", "hydra.launcher.n_jobs=2"]]) == [
        "p=1",
        "p=2",
    ]
    assert safe_name("..x") == "_.x"
    assert safe_name("p='a b'") == "p=_a_b_"


@given(
    st.lists(
        st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=3), min_size=1, max_size=12
    )
)
def test_names_are_unique_and_path_safe(jobs):
    names = job_names([[f"k{i}={v}" for i, v in enumerate(job)] for job in jobs])
    assert len(set(names)) == len(names)
    for name in names:
        assert name and "/" not in name and not name.startswith(".") and len(name) <= 80


def test_sweep_lock_is_written_atomically_and_reads_back(tmp_path: Path):
    jobs = [
        JobRecord(num=i, name=f"p={i}", overrides=[f"p={i}"], save_dir=tmp_path / f"p={i}")
        for i in range(3)
    ]
    state = SweepState(
        root=tmp_path, jobs=jobs, launcher="basic", app="app", command=["x"], overrides=["p=0,1,2"]
    )
    jobs[1].status, jobs[1].error = "failed", error_line(ValueError("bad\nsecond line"))
    threads = [threading.Thread(target=state.write) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    data = try_read(tmp_path / "sweep.lock")
    assert data["counts"]["failed"] == 1 and data["counts"]["queued"] == 2
    assert data["jobs"][1] | {"run_id": None} == {
        "num": 1,
        "name": "p=1",
        "overrides": ["p=1"],
        "save_dir": "p=1",
        "status": "failed",
        "started_at": None,
        "duration_s": None,
        "error": "ValueError: bad",
        "slurm_job_id": None,
        "run_id": None,
    }
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_slurm_config_file(tmp_path: Path):
    path = tmp_path / "s.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "partition": "gpu",
                "mem_gb": 8,
                "setup": "module load x",
                "additional_parameters": {"mail-type": "END"},
            }
        )
    )
    assert sorted(slurm_overrides(path)) == [
        "++hydra.launcher.additional_parameters.mail-type='END'",
        "hydra.launcher.mem_gb=8",
        "hydra.launcher.partition='gpu'",
        "hydra.launcher.setup=['module load x']",
    ]
    path.write_text("timout_min: 5\n")
    with pytest.raises(
        UsageError, match=r"unknown parameter 'timout_min'\. Did you mean 'timeout_min'\?"
    ):
        slurm_overrides(path)
    with pytest.raises(UsageError, match="no such file"):
        slurm_overrides(tmp_path / "nope.yaml")


def test_importing_naga_launch_is_cheap():
    import subprocess
    import sys

    code = (
        "import sys, naga.launch, naga.launch.sweep, naga.launch.plan.tasks\n"
        "import naga.launch.plan.naming, naga.launch.record.progress\n"
        "heavy = ('hydra', 'omegaconf', 'pygit2', 'mlflow', 'submitit', 'joblib')\n"
        "print([m for m in heavy if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_the_readme_slurm_config_file_is_valid():
    from naga.launch.launchers.submitit.settings import slurm_overrides

    path = Path(__file__).resolve().parents[2] / "conf" / "slurm.yml"
    assert slurm_overrides(path) == [
        "hydra.launcher.partition='debug'",
        "hydra.launcher.timeout_min=10",
        "hydra.launcher.cpus_per_task=1",
        "hydra.launcher.mem_gb=1",
        "hydra.launcher.array_parallelism=4",
    ]
