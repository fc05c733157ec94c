"""The ask-and-tell loop, over slots that run each trial in a thread.

These are unit tests of the loop's rules (asynchrony, the budget, failures, the best so
far); the trials are functions run in threads here, not jobs: the launchers' own tests run
real jobs through the same loop.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna")

from naga.errors import ConfigError  # noqa: E402
from naga.launch.sweepers.optuna_loop import (  # noqa: E402
    Best,
    TrialJob,
    TrialOutcome,
    optimize,
)
from naga.launch.sweepers.optuna_space import parse_space  # noqa: E402
from naga.launch.sweepers.optuna_study import StudySettings, open_study  # noqa: E402

Trial = Callable[[TrialJob], Mapping[str, object]]


class ThreadSlots:
    """Runs each trial's function in a thread; records when each started and ended."""

    def __init__(self, fn: Trial) -> None:
        self.fn = fn
        self.ended: queue.Queue[TrialOutcome] = queue.Queue()
        self.times: dict[int, list[float]] = {}

    def start(self, job: TrialJob) -> None:
        self.times[job.number] = [time.monotonic()]

        def run() -> None:
            try:
                outcome = TrialOutcome(job.number, "completed", self.fn(job))
            except Exception as exc:
                outcome = TrialOutcome(job.number, "failed", error=repr(exc))
            self.times[job.number].append(time.monotonic())
            self.ended.put(outcome)

        threading.Thread(target=run, daemon=True).start()

    def wait_any(self) -> list[TrialOutcome]:
        outcomes = [self.ended.get()]
        while not self.ended.empty():
            outcomes.append(self.ended.get_nowait())
        return outcomes


class Record:
    def __init__(self) -> None:
        self.started: list[int] = []
        self.told: list[tuple[int, str, str | None]] = []
        self.bests: list[Best] = []

    def trial_started(self, job: TrialJob) -> None:
        self.started.append(job.number)

    def trial_told(self, outcome: TrialOutcome, state: str, reason: str | None) -> None:
        self.told.append((outcome.number, state, reason))

    def best_changed(self, best: Best) -> None:
        self.bests.append(best)


SPACE = parse_space(["x=interval(-5.0, 5.0)", "epochs=3"])


def _run(tmp_path: Path, fn: Trial, *, n_trials: int, n_jobs: int, objective: str = "loss"):
    settings = StudySettings.from_options(objective=objective, seed=0)
    study = open_study(tmp_path, settings, SPACE)
    slots, record = ThreadSlots(fn), Record()
    best = optimize(study, SPACE, settings, slots, record, n_trials=n_trials, n_jobs=n_jobs)
    return study, slots, record, best


def test_a_trial_starts_while_a_longer_one_still_runs(tmp_path: Path) -> None:
    def trial(job: TrialJob) -> dict[str, object]:
        time.sleep(0.6 if job.number % 2 == 0 else 0.05)  # long, short, long, short...
        return {"loss": float(job.params["x"]) ** 2}

    started = time.monotonic()
    study, slots, _, _ = _run(tmp_path, trial, n_trials=6, n_jobs=2)
    wall = time.monotonic() - started
    first_long_end = slots.times[0][1]
    overlapped = [n for n in slots.times if n > 1 and slots.times[n][0] < first_long_end]
    assert overlapped, "no trial started while trial 0 (long) was still running"
    assert len(study.trials) == 6
    # Lock-step batches of 2 would take 3 x 0.6 s; the loop overlaps the short trials.
    assert wall < 3 * 0.6


def test_the_budget_counts_failures_and_the_best_is_kept(tmp_path: Path) -> None:
    def trial(job: TrialJob) -> dict[str, object]:
        if job.number == 2:
            raise RuntimeError("diverged")
        if job.number == 3:
            return {"acc": 1.0}  # no objective: told as failed, the study goes on
        return {"loss": abs(float(job.params["x"]))}

    study, _, record, best = _run(tmp_path, trial, n_trials=8, n_jobs=2)
    states = {t.number: t.state.name for t in study.trials}
    assert len(states) == 8 and states[2] == states[3] == "FAIL"
    reasons = {n: reason for n, _, reason in record.told}
    assert "diverged" in str(reasons[2])
    assert "no metric 'loss'" in str(reasons[3])
    assert best is not None and best.numbers == (study.best_trial.number,)
    losses = [t.value for t in study.trials if t.state.name == "COMPLETE"]
    assert best.values == ((min(losses),),)
    # The best reported along the way only improves.
    assert [b.values[0][0] for b in record.bests] == sorted(
        (b.values[0][0] for b in record.bests), reverse=True
    )


def test_a_resumed_study_reports_the_best_its_journal_holds(tmp_path: Path) -> None:
    # The earlier controller told a trial, then was cancelled before recording the best.
    settings = StudySettings.from_options(objective="loss", seed=0)
    study = open_study(tmp_path, settings, SPACE)
    told = study.ask(dict(SPACE.distributions))
    study.tell(told, 0.25)
    record = Record()
    optimize(study, SPACE, settings, ThreadSlots(lambda job: {}), record, n_trials=1, n_jobs=1)
    assert [(b.numbers, b.values) for b in record.bests] == [((told.number,), ((0.25,),))]


def test_a_typo_in_the_objective_stops_the_study(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"objective=los: .*did you mean 'loss'"):
        _run(tmp_path, lambda job: {"loss": 1.0}, n_trials=4, n_jobs=1, objective="los")
