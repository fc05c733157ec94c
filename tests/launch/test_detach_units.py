"""Unit tests of the pieces behind --detach, naga status/resume, requeue, isolation, arrays."""

from __future__ import annotations

import multiprocessing
import os
import shlex
import sys
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from slurm_jobs import load, slurm

from naga.errors import UsageError
from naga.launch.launchers.submitit.arrays import cut, pack, share
from naga.launch.launchers.submitit.queue import QueueView, slurm_queue
from naga.launch.launchers.submitit.settings import naga_settings, slurm_overrides
from naga.launch.record import status as status_mod
from naga.launch.record.relaunch import own_args
from naga.launch.record.sync import entry_from_run_lock, update_jobs
from naga.lock.attempts import continued_attempt
from naga.lock.writer import dumps

# -- arrays -------------------------------------------------------------------------


@given(st.lists(st.integers(), max_size=200), st.integers(1, 60))
def test_pack_keeps_order_and_sizes(nums: list[int], per: int) -> None:
    packed = pack(nums, per)
    assert [num for element in packed for num in element] == nums
    assert all(len(element) == per for element in packed[:-1])
    assert not packed or 1 <= len(packed[-1]) <= per


@given(st.integers(0, 5000), st.integers(1, 1001))
def test_cut_keeps_every_index_below_the_array_size(count: int, size: int) -> None:
    ranges = cut(count, size)
    assert [index for span in ranges for index in span] == list(range(count))
    assert all(len(span) <= size for span in ranges)


@given(st.integers(1, 1000), st.integers(1, 50))
def test_share_splits_parallelism_between_arrays(parallelism: int, arrays: int) -> None:
    parts = share(parallelism, arrays)
    assert len(parts) == arrays and min(parts) >= 1
    assert sum(parts) == max(parallelism, arrays)
    assert max(parts) - min(parts) <= 1


# -- --slurm_config naga keys -----------------------------------------------------------


def test_tasks_per_job_is_naga_s_not_the_launcher_s(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("partition: debug\ntasks_per_job: 50\narray_parallelism: 8\n")
    assert naga_settings(path) == {"tasks_per_job": 50}
    assert slurm_overrides(path) == [
        "hydra.launcher.partition='debug'",
        "hydra.launcher.array_parallelism=8",
    ]
    assert naga_settings(None) == {"tasks_per_job": 1}


@pytest.mark.parametrize("value", ["0", "-1", "true", "1.5", "'3'"])
def test_tasks_per_job_must_be_a_whole_number_from_one(tmp_path: Path, value: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(f"tasks_per_job: {value}\n")
    with pytest.raises(UsageError, match=r"tasks_per_job: .* is not a whole number >= 1; give"):
        naga_settings(path)


# -- the recorded command ---------------------------------------------------------------


def test_own_args_drops_how_the_command_ran() -> None:
    argv = ["-m", "a=1,2", "--detach", "--resume", "/x/y", "--slurm_config", "s.yaml"]
    assert own_args(argv) == ["-m", "a=1,2", "--slurm_config", "s.yaml"]
    assert own_args(["--resume=/x", "b=2"]) == ["b=2"]


# -- sweep.lock from many jobs at once ----------------------------------------------------


def _sweep_lock(root: Path, names: list[str], status: str = "queued") -> None:
    jobs = [
        {"num": num, "name": name, "overrides": [], "save_dir": name, "status": status}
        for num, name in enumerate(names)
    ]
    data = {
        "naga_sweep": 1,
        "sweep_id": "s1",
        "status": "running",
        "started_at": "2026-11-21T06:30:00+00:00",
        "launcher": "submitit_slurm",
        "counts": {},
        "jobs": jobs,
    }
    root.mkdir(parents=True, exist_ok=True)
    (root / "sweep.lock").write_text(dumps(data))


def _finish(root: str, name: str) -> None:
    assert update_jobs(Path(root), {name: {"status": "running"}}, sweep_id="s1")
    assert update_jobs(
        Path(root), {name: {"status": "completed", "duration_s": 1.0}}, sweep_id="s1"
    )


def test_concurrent_job_updates_are_never_lost(tmp_path: Path) -> None:
    names = [f"job-{num:03d}" for num in range(24)]
    _sweep_lock(tmp_path, names)
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_finish, args=(str(tmp_path), name)) for name in names]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    data = yaml.safe_load((tmp_path / "sweep.lock").read_text())
    assert {job["status"] for job in data["jobs"]} == {"completed"}
    assert data["counts"]["completed"] == 24 and data["counts"]["total"] == 24
    assert data["status"] == "completed" and data["finished_at"]
    assert not list(tmp_path.glob(".sweep.lock*"))  # no lock or temp file left behind


def test_a_searchs_last_listed_trial_does_not_end_the_search(tmp_path: Path) -> None:
    # A study's controller asks for more trials as others end (and may be stopped and
    # resumed meanwhile): its trials finishing never write the search's end for it.
    _sweep_lock(tmp_path, ["trial_0000", "trial_0001"], status="completed")
    data = yaml.safe_load((tmp_path / "sweep.lock").read_text())
    data.update(status="interrupted", sweeper={"name": "naga_optuna"})
    data["jobs"][1]["status"] = "running"
    (tmp_path / "sweep.lock").write_text(dumps(data))
    assert update_jobs(tmp_path, {"trial_0001": {"status": "completed"}}, sweep_id="s1")
    after = yaml.safe_load((tmp_path / "sweep.lock").read_text())
    assert after["counts"]["completed"] == 2
    assert after["status"] == "interrupted" and "finished_at" not in after


def test_a_requeued_run_lock_puts_its_job_back_in_the_queue_once() -> None:
    entry = entry_from_run_lock(
        {"status": "requeued", "run_id": "r", "error": {"type": "SIGUSR2", "message": "m"}}
    )
    assert entry["status"] == "queued" and entry["attempts"] == 1
    assert entry["error"] == "SIGUSR2: m"
    done = entry_from_run_lock({"status": "completed", "attempts": 2, "duration_s": 3.0})
    assert done["status"] == "completed" and done["attempts"] == 2


def test_update_without_sweep_lock_is_a_no_op(tmp_path: Path) -> None:
    assert update_jobs(tmp_path, {"a": {"status": "running"}}, sweep_id="s1") is False


# -- naga status ------------------------------------------------------------------------


def _lock(root: Path, name: str, **fields: object) -> None:
    record = {"naga_lock": 1, "run_id": f"run-{name}", "extra": {"sweep": {"sweep_id": "s1"}}}
    record.update(fields)
    (root / name).mkdir(parents=True, exist_ok=True)
    (root / name / "run.lock").write_text(dumps(record) + "environment: {packages: {}}\n")


@pytest.fixture
def queue(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """What squeue answers: job id -> state (edit it in the test)."""
    states: dict[str, str] = {}
    monkeypatch.setattr(
        status_mod, "slurm_queue", lambda ids: QueueView(answered=True, states=dict(states))
    )
    return states


def test_status_combines_sweep_lock_run_locks_and_the_queue(
    tmp_path: Path, queue: dict[str, str]
) -> None:
    names = ["done", "pending", "runs", "killed", "never", "requeued", "old", "gone-req"]
    _sweep_lock(tmp_path, names)
    data = yaml.safe_load((tmp_path / "sweep.lock").read_text())
    for num, job in enumerate(data["jobs"]):
        job["slurm_job_id"] = f"7_{num}"
    data["jobs"][0].update(status="completed", duration_s=2.0)
    data["jobs"][2]["status"] = "running"
    (tmp_path / "sweep.lock").write_text(dumps(data))
    queue.update({"7_1": "PENDING", "7_2": "RUNNING", "7_5": "PENDING"})
    _lock(tmp_path, "killed", status="running", pid=1, host="elsewhere", slurm_job_id="99")
    _lock(tmp_path, "requeued", status="requeued", attempts=1, slurm_job_id="99")
    _lock(tmp_path, "gone-req", status="requeued", slurm_job_id="98")
    old = {"sweep": {"sweep_id": "an earlier sweep"}}
    _lock(tmp_path, "old", status="completed", extra=old)
    view = status_mod.read_sweep(tmp_path)
    got = {job.name: job.status for job in view.jobs}
    assert got == {
        "done": "completed",
        "pending": "queued",
        "runs": "running",
        "killed": "lost",  # left the queue while its receipt said running
        "never": "lost",  # left the queue without any receipt
        "requeued": "queued",
        "old": "lost",  # an earlier sweep's receipt says nothing about this one
        "gone-req": "lost",
    }
    assert view.exit_code == 3
    queue.clear()
    data["jobs"][1]["status"] = data["jobs"][2]["status"] = "completed"
    data["jobs"][5]["status"] = "completed"
    (tmp_path / "sweep.lock").write_text(dumps(data))
    assert status_mod.read_sweep(tmp_path).exit_code == 1


def test_status_shows_the_id_scancel_takes_from_a_jobs_run_lock(
    tmp_path: Path, queue: dict[str, str]
) -> None:
    # sweep.lock has no id for the job (its update was lost); its run.lock has Slurm's.
    _sweep_lock(tmp_path, ["a", "b"])
    ids = {"slurm_job_id": "34", "slurm_array_job_id": "33", "slurm_array_task_id": "0"}
    _lock(tmp_path, "a", status="completed", slurm_id="33_0", **ids)
    _lock(
        tmp_path, "b", status="failed", **{**ids, "slurm_job_id": "35", "slurm_array_task_id": "1"}
    )
    view = status_mod.read_sweep(tmp_path)
    assert [(job.status, job.job_id) for job in view.jobs] == [
        ("completed", "33_0"),
        ("failed", "33_1"),  # a receipt from before slurm_id: made from the array ids
    ]


@pytest.mark.parametrize(
    ("state", "shown", "exit_code"),
    [
        ("PENDING", "queued", 3),  # requeued: waits to run again
        ("RUNNING", "queued", 3),  # its next attempt started and has not said so yet
        ("COMPLETING", "interrupted", 1),  # scancel, a time limit: the job is ending
        (None, "interrupted", 1),  # gone
    ],
)
def test_an_interrupted_job_that_slurm_holds_again_is_not_finished(
    tmp_path: Path, queue: dict[str, str], state: str | None, shown: str, exit_code: int
) -> None:
    _sweep_lock(tmp_path, ["a"], status="interrupted")
    data = yaml.safe_load((tmp_path / "sweep.lock").read_text())
    data["jobs"][0]["slurm_job_id"] = "8_0"
    (tmp_path / "sweep.lock").write_text(dumps(data))
    if state is not None:
        queue["8_0"] = state
    view = status_mod.read_sweep(tmp_path)
    assert [job.status for job in view.jobs] == [shown]
    assert view.exit_code == exit_code


@pytest.mark.slurm
def test_a_job_slurm_holds_to_run_again_is_queued_in_the_sweeps_progress(
    tmp_path: Path, slurm_cluster: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The waiting sweep's record says what sweep.lock's sync and ``naga status`` say.

    A requeued run.lock whose Slurm job is pending again reads ``requeued``; a sweep.lock job
    is then ``queued``. The progress record kept the job ``running`` (its list of statuses to
    copy missed ``requeued``) and wrote that over the job's own update of sweep.lock.
    """
    from naga.launch.record.progress import apply_run_lock
    from naga.launch.record.sweeplock import JobRecord

    monkeypatch.setenv("SLURM_CONF", slurm_cluster["SLURM_CONF"])
    held = slurm("sbatch", "--parsable", "--hold", "--wrap", "true", env=slurm_cluster)
    job_id = held.strip().split(";")[0]
    try:
        _lock(tmp_path, "a", status="requeued", attempts=1, slurm_job_id=job_id, host="node")
        job = JobRecord(num=0, name="a", overrides=[], save_dir=tmp_path / "a", status="running")
        assert apply_run_lock(job)
        assert job.status == "queued"
        assert entry_from_run_lock(load(tmp_path / "a" / "run.lock"))["status"] == job.status
    finally:
        slurm("scancel", job_id, env=slurm_cluster)


def test_status_of_a_finished_sweep_reads_no_run_lock(
    tmp_path: Path, queue: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    names = [f"job-{num:04d}" for num in range(1000)]
    _sweep_lock(tmp_path, names, status="completed")
    read: list[Path] = []
    real = status_mod._read_head
    monkeypatch.setattr(status_mod, "_read_head", lambda path: read.append(path) or real(path))
    view = status_mod.read_sweep(tmp_path)
    assert view.exit_code == 0 and view.counts()["completed"] == 1000
    assert read == []


def test_a_local_sweep_whose_process_died_leaves_its_queue_lost(tmp_path: Path) -> None:
    _sweep_lock(tmp_path, ["a", "b"])
    data = yaml.safe_load((tmp_path / "sweep.lock").read_text())
    data["launcher"] = "basic"
    data["launch"] = {"detached": False, "pid": 2**22 + 12345, "host": os.uname().nodename}
    (tmp_path / "sweep.lock").write_text(dumps(data))
    assert {job.status for job in status_mod.read_sweep(tmp_path).jobs} == {"lost"}
    data["status"] = "interrupted"  # the sweep's process recorded that it stopped
    (tmp_path / "sweep.lock").write_text(dumps(data))
    assert {job.status for job in status_mod.read_sweep(tmp_path).jobs} == {"interrupted"}


# -- squeue -----------------------------------------------------------------------------


def test_slurm_queue_asks_once_and_knows_both_spellings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = tmp_path / "calls"
    fake = tmp_path / "squeue"
    fake.write_text(
        f'#!/bin/sh\necho "$@" >> {shlex.quote(str(calls))}\n'
        "printf '12_0|13|RUNNING\\n12_1|14|PENDING\\n20|20|PENDING\\n'\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    view = slurm_queue(["12_0", "12_1", "12_5", "20", None])
    assert view.state("12_0") == view.state("13") == "RUNNING"
    assert view.state("14") == "PENDING"
    assert view.gone("12_5") and not view.gone("20")
    assert calls.read_text().split() == ["-h", "-r", "-j", "12,20", "-o", "%i|%A|%T"]


# -- requeued attempts ---------------------------------------------------------------------


def test_a_new_attempt_of_the_same_slurm_job_continues_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "run.lock"
    path.write_text(
        dumps({"naga_lock": 1, "run_id": "abc", "status": "requeued", "slurm_job_id": "42"})
    )
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    monkeypatch.delenv("SLURM_RESTART_COUNT", raising=False)
    assert continued_attempt(path) is None  # not in Slurm
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    assert continued_attempt(path) is None  # a first attempt: the same job running a script again
    monkeypatch.setenv("SLURM_RESTART_COUNT", "1")
    monkeypatch.setenv("SLURM_JOB_ID", "43")
    assert continued_attempt(path) is None  # another job
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    assert continued_attempt(path) == ("abc", 2)
    path.write_text(
        dumps(
            {
                "naga_lock": 1,
                "run_id": "abc",
                "status": "interrupted",
                "slurm_job_id": "42",
                "attempts": 2,
            }
        )
    )
    assert continued_attempt(path) == ("abc", 3)
    path.write_text(
        dumps({"naga_lock": 1, "run_id": "abc", "status": "completed", "slurm_job_id": "42"})
    )
    assert continued_attempt(path) is None  # a completed run is not continued
    assert continued_attempt(tmp_path / "none.lock") is None


# -- isolation ------------------------------------------------------------------------------


def test_jobs_import_the_submitted_tree(
    tmp_path: Path, make_git_repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from naga.launch.launchers.submitit.isolate import prepare
    from naga.lock.origin import Origin

    repo = make_git_repo(
        tmp_path / "proj ü",
        files={"src/pkg_iso/__init__.py": "VALUE = 'submitted'\n", "run.sh": "#!/bin/sh\n"},
    )
    (repo / "run.sh").chmod(0o755)
    (repo / "link").symlink_to("run.sh")
    (repo / "main.py").write_text("print('dirty, so a snapshot')\n")
    monkeypatch.chdir(repo)
    monkeypatch.setattr(sys, "path", [str(repo / "src"), *sys.path])
    prepared = prepare(Origin(script=repo / "main.py", function="main"), tmp_path / "sweep")
    assert prepared is not None
    isolation, (key, entry) = prepared
    assert key == "." and entry["dirty"] is True
    assert isolation.commit == entry["snapshot"]["commit"]
    copy = Path(isolation.checkout)
    assert (copy / "main.py").exists() and os.access(copy / "run.sh", os.X_OK)
    assert os.readlink(copy / "link") == "run.sh"
    assert isolation.paths == (str(copy / "src"),)
    # A second sweep of the same state reuses the copy.
    again = prepare(Origin(script=repo / "main.py", function="main"), tmp_path / "sweep")
    assert again is not None and again[0].checkout == isolation.checkout
    (repo / "src" / "pkg_iso" / "__init__.py").write_text("VALUE = 'edited later'\n")
    isolation.enter()
    assert sys.path[0] == str(copy / "src")
    assert not any(entry.startswith(str(repo)) for entry in sys.path)
    import importlib

    module = importlib.import_module("pkg_iso")
    try:
        assert module.VALUE == "submitted"
    finally:
        del sys.modules["pkg_iso"]


def test_code_outside_git_is_not_isolated(tmp_path: Path) -> None:
    from naga.launch.launchers.submitit.isolate import prepare
    from naga.lock.origin import Origin

    (tmp_path / "main.py").write_text("")
    assert prepare(Origin(script=tmp_path / "main.py"), tmp_path / "sweep") is None


def test_watch_on_a_terminal_draws_a_progress_bar(tmp_path: Path, queue: dict[str, str]) -> None:
    import io

    from naga.commands.status import _redraw

    _sweep_lock(tmp_path, ["a", "b", "c", "d"], status="completed")
    data = yaml.safe_load((tmp_path / "sweep.lock").read_text())
    data["jobs"][3].update(status="failed", error="ValueError: bad")
    data["jobs"][2].update(status="queued", slurm_job_id="5_2")
    (tmp_path / "sweep.lock").write_text(dumps(data))
    queue["5_2"] = "PENDING"
    stream = io.StringIO()
    _redraw(status_mod.read_sweep(tmp_path), stream)
    screen = stream.getvalue()
    assert screen.startswith("\x1b[H\x1b[2J")
    lines = screen.split("\x1b[2J", 1)[1].splitlines()
    assert "3/4 done" in lines[1] and lines[1].startswith("[")
    assert lines[2] == "4 jobs: 1 queued, 0 running, 2 completed, 1 failed, 0 interrupted, 0 lost"
    assert lines[3].split()[:2] == ["d", "failed"]  # failures first, then the queue
    assert lines[4].split()[:2] == ["c", "queued"]


def test_an_editable_install_s_import_hook_is_redirected_too(
    tmp_path: Path, make_git_repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib
    import types

    from naga.launch.launchers.submitit.isolate import prepare
    from naga.lock.origin import Origin

    repo = make_git_repo(
        tmp_path / "proj", files={"lib/pkg_hook/__init__.py": "VALUE = 'submitted'\n"}
    )
    (repo / "main.py").write_text("")
    # What setuptools writes for `pip install -e .` of a layout it cannot put on sys.path.
    hook = types.ModuleType("__editable___proj_finder")
    hook.MAPPING = {"pkg_hook": str(repo / "lib" / "pkg_hook")}  # type: ignore[attr-defined]

    class _EditableFinder:
        @classmethod
        def find_spec(cls, name, path=None, target=None):
            from importlib.util import spec_from_file_location

            if name in hook.MAPPING:
                where = Path(hook.MAPPING[name])
                return spec_from_file_location(
                    name, where / "__init__.py", submodule_search_locations=[str(where)]
                )
            return None

    _EditableFinder.__module__ = hook.__name__
    monkeypatch.setitem(sys.modules, hook.__name__, hook)
    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, _EditableFinder])
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.chdir(tmp_path)
    prepared = prepare(Origin(script=repo / "main.py", function="main"), tmp_path / "sweep")
    assert prepared is not None
    isolation = prepared[0]
    assert isolation.modules == (("pkg_hook", str(Path(isolation.checkout) / "lib" / "pkg_hook")),)
    (repo / "lib" / "pkg_hook" / "__init__.py").write_text("VALUE = 'edited later'\n")
    isolation.enter()
    try:
        assert importlib.import_module("pkg_hook").VALUE == "submitted"
    finally:
        sys.modules.pop("pkg_hook", None)
        sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "_SubmittedModules"]


# -- naga's submission carries each job's precomposed config ------------------------------


class _SubmitConfig:
    param = 1
    lr = 0.1


class _FakeJob:
    def __init__(self, num: int) -> None:
        self.job_id = str(4000 + num)


class _FakeExecutor:
    """Keeps what naga submits instead of starting it."""

    def __init__(self) -> None:
        self.elements: list[object] = []

    def batch(self) -> AbstractContextManager[None]:
        import contextlib

        return contextlib.nullcontext()

    def submit(self, element: object) -> _FakeJob:
        self.elements.append(element)
        return _FakeJob(len(self.elements) - 1)


class _NoCompose:
    """A config loader that must not be asked to compose."""

    def load_sweep_config(self, master: object, overrides: list[str]) -> object:
        raise AssertionError(f"composed {overrides}")


def test_submitted_jobs_carry_their_precomposed_configs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """naga's own submitit submission: the plugin gets naga's PrecomposedLoader and every
    array element carries its jobs' finished configs (no job composes again on the node)."""
    import pickle

    import cloudpickle

    from naga.config.structured import to_structured
    from naga.launch.launchers.submitit import submit
    from naga.launch.launchers.task import SweepTask
    from naga.launch.plan import hydra_session
    from naga.launch.plan.handoff import JobOverride, PrecomposedLoader
    from naga.launch.plan.jobs import job_configs as _job_configs
    from naga.launch.plan.tasks import override_value

    fake = _FakeExecutor()
    monkeypatch.setattr(submit, "_executor", lambda launcher: (fake, "local", 4))
    root = tmp_path / "multirun"
    session = hydra_session.open_session(
        to_structured(_SubmitConfig),
        "app",
        [
            "hydra/launcher=submitit_local",
            f"hydra.sweep.dir={override_value(str(root))}",
            "param=1,2,3",
        ],
    )
    try:
        jobs = hydra_session.expand(session)
        names = [f"param={num + 1}" for num in range(len(jobs))]
        _, launch_lists = _job_configs(session, jobs, names)
        submitter = submit.Submitter(app=None, root=root, tasks_per_job=2)
        task = SweepTask(
            app=None,  # type: ignore[arg-type]  # never called: the executor is fake
            launcher="submitit_local",
            sweep_id="s1",
            root=str(root),
            in_process=False,
        )
        submitted, _ = submitter.submit(session, task, launch_lists, [0, 1, 2], names)
    finally:
        hydra_session.close()
    assert submitted.elements == [[0, 1], [2]]
    # Each element writes into its own sweep's sweep.lock only (naga.launch.record.sync).
    assert {element.sweep_id for element in fake.elements} == {"s1"}
    launcher, _ = cloudpickle.loads(fake.elements[0].payload)
    assert isinstance(launcher.hydra_context.config_loader, PrecomposedLoader)
    loader = PrecomposedLoader(_NoCompose())  # type: ignore[arg-type]
    seen = []
    for element in fake.elements:
        for name, num, carried in element.jobs:
            overrides = pickle.loads(carried)
            assert isinstance(overrides[-1], JobOverride)
            assert overrides[-1] == f"hydra.sweep.subdir={override_value(name)}"
            seen.append((num, loader.load_sweep_config(None, overrides).param))
    assert seen == [(0, 1), (1, 2), (2, 3)]
