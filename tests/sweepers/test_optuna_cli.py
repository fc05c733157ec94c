"""``hydra/sweeper=naga_optuna`` as users run it: real processes, real receipts.

A study on the basic launcher, asynchrony on joblib, SIGKILL of the controller then
``naga resume``, the results commands on a study, and the one-line errors (exit 2).
The Slurm study (detached controller, ``scancel``) is in test_optuna_slurm.py.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from helpers import one_line_error

pytest.importorskip("optuna")

Run = Callable[..., subprocess.CompletedProcess[str]]
STUDY = ["-m", "hydra/sweeper=naga_optuna", "hydra.sweeper.objective=loss"]
SPACE = ["lr=tag(log, interval(1e-4, 1))", "layers=range(1, 5)", "act=choice(relu, tanh)"]


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def receipts(root: Path) -> dict[int, dict]:
    """Every trial's run.lock below the study folder, by trial number."""
    found = {}
    for lock in sorted(root.glob("trial_*/run.lock")):
        data = load(lock)
        number = data["extra"]["sweep"]["trial"]
        assert number not in found, f"trial {number} has two receipts"
        found[number] = data
    return found


def test_a_study_leaves_a_receipt_per_trial_and_the_best_in_sweep_lock(
    search_project: Path, run_py: Run
) -> None:
    done = run_py(
        "train.py", *STUDY, "hydra.sweeper.n_trials=12", "hydra.sweeper.seed=3", *SPACE,
        cwd=search_project,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    root = search_project / "results" / "study"
    trials = receipts(root)
    assert sorted(trials) == list(range(12))
    assert all(lock["status"] == "completed" for lock in trials.values())
    assert all(lock["extra"]["sweep"]["study"] == "study" for lock in trials.values())
    losses = {number: lock["metrics"]["loss"] for number, lock in trials.items()}
    assert len(set(losses.values())) == 12  # twelve distinct points were asked
    summary = load(root / "sweep.lock")
    best = min(losses, key=losses.__getitem__)
    assert summary["best"]["trial"] == best
    assert summary["best"]["values"] == {"loss": losses[best]}
    assert summary["best"]["save_dir"] == f"trial_{best:04d}"
    assert summary["best"]["params"]["lr"] == trials[best]["config"]["lr"]
    assert summary["sweeper"]["name"] == "naga_optuna"
    assert summary["sweeper"]["space"]["lr"] == "tag(log, interval(1e-4, 1))"
    entries = {entry["num"]: entry for entry in summary["jobs"]}
    assert entries[best]["trial"]["state"] == "complete"
    assert entries[best]["run_id"] == trials[best]["run_id"]
    assert f"best trial {best}: loss=" in done.stderr.splitlines()[-1]


def _times(lock: dict) -> tuple[datetime, datetime]:
    return datetime.fromisoformat(lock["started_at"]), datetime.fromisoformat(lock["finished_at"])


@pytest.mark.slow
def test_joblib_trials_start_as_soon_as_a_slot_frees(search_project: Path, run_py: Run) -> None:
    # Even trials sleep 2 s, odd ones 0.2 s: in lock-step batches of two, trial 2 would
    # wait for trial 0; asynchronous, it starts as soon as trial 1 ends.
    done = run_py(
        "train.py", *STUDY, "hydra.sweeper.n_trials=5", "hydra.sweeper.n_jobs=2", *SPACE,
        "long=2.0", "short=0.2", "--n_jobs", "2", cwd=search_project,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    trials = receipts(search_project / "results" / "study")
    assert sorted(trials) == list(range(5))
    start = {number: _times(lock)[0] for number, lock in trials.items()}
    end = {number: _times(lock)[1] for number, lock in trials.items()}
    # Trial 2 (asked when trial 1 ended) ran while trial 0 of the first "batch" still ran.
    assert start[2] < end[0], (start, end)
    assert start[3] < end[0] or start[3] < end[2], (start, end)


def _digests(root: Path) -> dict[str, str]:
    return {
        lock.parent.name: hashlib.sha256(lock.read_bytes()).hexdigest()
        for lock in root.glob("trial_*/run.lock")
        if load(lock)["status"] == "completed"
    }


@pytest.mark.slow
@pytest.mark.parametrize("launcher", [[], ["--n_jobs", "2"]], ids=["basic", "joblib"])
def test_sigkill_then_resume_finishes_the_same_study(
    search_project: Path, run_naga: Run, launcher: list[str]
) -> None:
    root = search_project / "results" / "study"
    n_jobs = ["hydra.sweeper.n_jobs=2"] if launcher else []
    command = [
        sys.executable, "train.py", *STUDY, "hydra.sweeper.n_trials=7", *n_jobs, *SPACE,
        "long=0.6", "short=0.6", *launcher,
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=search_project, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while len(_digests(root)) < 3:
        assert time.monotonic() < deadline, "the study did not complete 3 trials"
        assert process.poll() is None, "the study ended before it was killed"
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    time.sleep(1.5)  # a loky worker of the killed controller may still finish its trial
    before = _digests(root)

    shown = run_naga("status", "results/study", cwd=search_project)
    assert "controller: process" in shown.stdout and "stopped" in shown.stdout, shown.stdout

    resumed = run_naga("resume", "results/study", cwd=search_project)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert resumed.stdout.startswith("resuming study study in results/study:"), resumed.stdout
    trials = receipts(root)
    completed = [n for n, lock in trials.items() if lock["status"] == "completed"]
    assert len(completed) == 7  # exactly n_trials, in all
    after = _digests(root)
    for name, digest in before.items():
        assert after[name] == digest, f"{name}/run.lock was rewritten"
    summary = load(root / "sweep.lock")
    assert summary["status"] == "completed"
    assert summary["best"]["values"]["loss"] == min(trials[n]["metrics"]["loss"] for n in completed)
    lost = [e["num"] for e in summary["jobs"] if e["status"] == "lost"]
    assert all(trials.get(n, {}).get("status") != "completed" for n in lost)
    again = run_naga("resume", "results/study", cwd=search_project)
    assert again.returncode == 0 and again.stdout.startswith("nothing to resume"), again.stdout
    final = run_naga("status", "results/study", cwd=search_project)
    assert final.returncode == 0, final.stdout  # lost-and-asked-again trials are history
    assert "study study (tpe sampler): 7 of 7 trials completed" in final.stdout


def test_a_trial_without_the_objective_fails_and_the_study_goes_on(
    search_project: Path, run_py: Run
) -> None:
    done = run_py(
        # seeded: unseeded, all six trials draw layers=2 once in 64 runs and none fails
        "train.py", *STUDY, "hydra.sweeper.n_trials=6", "hydra.sweeper.seed=1",
        "layers=range(1, 3)", "no_loss_layers=1",
        cwd=search_project,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr  # some trials failed
    summary = load(search_project / "results" / "study" / "sweep.lock")
    states = {entry["num"]: entry for entry in summary["jobs"]}
    assert len(states) == 6  # failed trials count: the study stopped at n_trials
    failed = [e for e in states.values() if e["trial"]["state"] == "fail"]
    complete = [e for e in states.values() if e["trial"]["state"] == "complete"]
    assert failed and complete
    for entry in failed:
        assert entry["status"] == "failed"
        assert entry["error"].startswith("the trial recorded no metric 'loss'")
    assert "failed" in done.stderr and "no metric 'loss'" in done.stderr
    import optuna

    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(
            str(search_project / "results" / "study" / ".naga-sweep" / "optuna.journal")
        )
    )
    study = optuna.load_study(study_name="study", storage=storage)
    told = {trial.number: trial.state.name for trial in study.trials}
    assert {told[e["num"]] for e in failed} == {"FAIL"}
    assert {told[e["num"]] for e in complete} == {"COMPLETE"}


def test_results_commands_read_a_study(search_project: Path, run_py: Run, run_naga: Run) -> None:
    done = run_py(
        "train.py", *STUDY, "hydra.sweeper.n_trials=4", "lr=tag(log, interval(1e-4, 1))",
        cwd=search_project,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    listed = run_naga(
        "ls", "results/study", "--columns", "trial,lr,loss", "--sort", "trial", "--format", "csv",
        cwd=search_project,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0] == "run,trial,config.lr,metrics.loss"
    assert [line.split(",")[1] for line in lines[1:]] == ["0", "1", "2", "3"]
    table = run_naga("ls", "results/study", cwd=search_project)
    assert "trial" in table.stdout.splitlines()[1].split()
    plotted = run_naga(
        "plot", "results/study", "--x", "lr", "--y", "loss", "--out", "p.png", cwd=search_project
    )
    assert plotted.returncode == 0, plotted.stderr
    assert "4 points from 4 runs" in plotted.stdout
    import naga

    frame = naga.runs(search_project / "results" / "study")
    assert sorted(frame["trial"].tolist()) == [0, 1, 2, 3]
    status = run_naga("status", "results/study", cwd=search_project)
    assert status.returncode == 0, status.stdout
    assert "study study (tpe sampler): 4 of 4 trials completed" in status.stdout
    best = load(search_project / "results" / "study" / "sweep.lock")["best"]
    assert f"best: trial {best['trial']}: loss=" in status.stdout


@pytest.mark.parametrize("launcher", [[], ["--n_jobs", "2"]], ids=["basic", "joblib"])
def test_the_custom_sweeper_of_the_users_repository_writes_a_receipt_per_job(
    search_project: Path, run_py: Run, run_naga: Run, launcher: list[str]
) -> None:
    # tests/apps/search/hydra_plugins/halving_sweeper: every layers value, then the best again.
    done = run_py(
        "train.py", "-m", "hydra/sweeper=halving", "layers=1,2,3", *launcher, cwd=search_project
    )
    assert done.returncode == 0, done.stderr
    root = search_project / "results" / "study"
    locks = {p.parent.name: load(p) for p in root.glob("*/run.lock")}
    assert sorted(locks) == ["0", "1", "2", "3"]  # 3 in the first round, 1 in the second
    assert all(lock["status"] == "completed" for lock in locks.values())
    assert locks["3"]["config"]["layers"] == 1  # the best of the first round, again
    summary = load(root / "sweep.lock")
    assert summary["launcher"] == ("joblib" if launcher else "basic")
    assert summary["sweeper"]["name"] == "halving"
    assert summary["sweeper"]["settings"]["keep"] == 1
    assert summary["status"] == "completed"
    assert sorted(entry["name"] for entry in summary["jobs"]) == ["0", "1", "2", "3"]
    shown = run_naga("status", "results/study", cwd=search_project)
    assert shown.returncode == 0, shown.stdout
    assert shown.stdout.splitlines()[-2:] == [
        "4 jobs: 0 queued, 0 running, 4 completed, 0 failed, 0 interrupted, 0 lost",
        "sweeper: halving",
    ]
    ids = {entry["name"]: entry["run_id"] for entry in summary["jobs"]}
    assert all(ids[name] == lock["run_id"] for name, lock in locks.items())
    assert {lock["extra"]["sweep"]["sweep_id"] for lock in locks.values()} == {summary["sweep_id"]}


def test_an_objective_typo_stops_the_study_with_a_did_you_mean(
    search_project: Path, run_py: Run
) -> None:
    done = run_py(
        "train.py", "-m", "hydra/sweeper=naga_optuna", "hydra.sweeper.objective=los",
        "hydra.sweeper.n_trials=5", "layers=range(1, 3)", cwd=search_project,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    line = one_line_error(done.stderr)
    assert line == (
        "train.py: error: hydra.sweeper.objective=los: trial 0 recorded no metric 'los'; "
        "did you mean 'loss'? (its metrics: accuracy, loss)"
    )
    summary = load(search_project / "results" / "study" / "sweep.lock")
    assert summary["status"] == "failed"
    assert len(summary["jobs"]) == 1  # the study stopped at its first trial


def test_the_default_objective_needs_a_bare_number(search_project: Path, run_py: Run) -> None:
    # train.py returns {loss, accuracy}; without hydra.sweeper.objective the study would
    # fail every trial looking for a bare number: it stops at the first, with the choices.
    done = run_py(
        "train.py", "-m", "hydra/sweeper=naga_optuna", "layers=range(1, 3)", cwd=search_project
    )
    assert done.returncode == 2, done.stderr
    assert one_line_error(done.stderr) == (
        "train.py: error: hydra.sweeper.objective=value: trial 0 returned no bare number but "
        "metrics accuracy, loss; set hydra.sweeper.objective to the one to optimize, e.g. "
        "hydra.sweeper.objective=accuracy"
    )


def test_a_resume_that_changes_the_question_is_refused_unless_forced(
    search_project: Path, run_py: Run, run_naga: Run
) -> None:
    first = run_py(
        "train.py", *STUDY, "hydra.sweeper.n_trials=2", "lr=tag(log, interval(1e-4, 1))",
        cwd=search_project,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    root = search_project / "results" / "study"
    before = _digests(root)
    done = run_naga("resume", "results/study", cwd=search_project)
    assert done.stdout.startswith("nothing to resume: study study has its 2 trials")
    # More trials, over another range: refused, nothing runs.
    changed = ["hydra.sweeper.n_trials=3", "lr=tag(log, interval(1e-3, 1))"]
    refused = run_naga("resume", "results/study", *changed, cwd=search_project)
    assert refused.returncode == 2, refused.stderr
    line = one_line_error(refused.stderr)
    assert "its study 'study' was started with another question (lr's range changed)" in line
    assert "hydra.sweeper.force=true" in line
    assert _digests(root) == before and len(receipts(root)) == 2
    again = run_py(
        "train.py", "-m", "hydra/sweeper=naga_optuna", "hydra.sweeper.objective=loss",
        "lr=tag(log, interval(1e-4, 1))", cwd=search_project,
    )  # fmt: skip
    assert again.returncode == 2
    assert "already holds a study" in one_line_error(again.stderr)
    forced = run_naga(
        "resume", "results/study", *changed, "hydra.sweeper.force=true", cwd=search_project
    )
    assert forced.returncode == 0, forced.stderr
    assert sorted(receipts(root)) == [0, 1, 2]  # numbering goes on, to the new budget
    assert load(root / "sweep.lock")["sweeper"]["n_trials"] == 3
    assert _digests(root).items() >= before.items()


@pytest.mark.slow
def test_a_detached_study_on_submitit_local_runs_without_the_command(
    search_project: Path, run_py: Run, run_naga: Run
) -> None:
    # Without Slurm the controller is a background process of this machine; each trial is
    # its own submitit_local job.
    started = time.monotonic()
    submitted = run_py(
        "train.py", *STUDY, "hydra.sweeper.n_trials=3", "hydra.sweeper.n_jobs=2",
        "lr=tag(log, interval(1e-4, 1))", "long=1.0", "short=0.2",
        "hydra/launcher=submitit_local", "--detach", cwd=search_project,
    )  # fmt: skip
    assert submitted.returncode == 0, submitted.stderr
    assert time.monotonic() - started < 20
    assert submitted.stdout.startswith("submitted the study controller (process ")
    root = search_project / "results" / "study"
    deadline = time.monotonic() + 90
    while load(root / "sweep.lock").get("status") not in ("completed", "failed"):
        assert time.monotonic() < deadline, "the detached study did not end"
        time.sleep(0.3)
    trials = receipts(root)
    assert sorted(trials) == [0, 1, 2]
    assert {lock["launcher"] for lock in trials.values()} == {"submitit_local"}
    shown = run_naga("status", "results/study", cwd=search_project)
    assert shown.returncode == 0, shown.stdout
    assert "study study (tpe sampler): 3 of 3 trials completed" in shown.stdout
    assert "controller: process" in shown.stdout and "finished" in shown.stdout
    log = (root / ".naga-sweep" / "controller.log").read_text()
    assert "[naga] study completed" in log
