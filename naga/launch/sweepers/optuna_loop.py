"""The ask-and-tell loop: a new trial starts as soon as any running trial ends.

Hydra's sweepers (hydra-optuna-sweeper among them) launch a batch of ``n_jobs`` trials and
wait for the slowest before asking for the next batch. Here the loop keeps ``n_jobs`` trials
running: whenever one ends, its objective is told to the study and the next trial is asked
for at once. Where the trials run is a :class:`TrialSlots` (in this process, joblib
workers, submitit/Slurm jobs); what is recorded about them (sweep.lock, progress) is an
:class:`Observer`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from naga.errors import ConfigError
from naga.launch.sweepers.optuna_study import (
    FAILED_BY_LOSS,
    FAILED_BY_TRIAL,
    FAILURE_ATTR,
    StudySettings,
    objective_values,
    trials_counted,
)
from naga.lock.status import COMPLETED, INTERRUPTED, LOST

if TYPE_CHECKING:
    import optuna

    from naga.launch.sweepers.optuna_space import Primitive, SearchSpace


@dataclass(frozen=True)
class TrialJob:
    """One trial to run: its number, Optuna's parameters and the job's overrides."""

    number: int
    params: Mapping[str, Primitive]
    overrides: Sequence[str]


@dataclass(frozen=True)
class TrialOutcome:
    """How a trial's job ended, from its run.lock.

    ``status`` is the run.lock's (completed, failed, interrupted, lost); ``metrics`` what
    the run recorded; ``error`` its one-line error.
    """

    number: int
    status: str
    metrics: Mapping[str, object] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class Best:
    """The best trial so far (one objective), or the best trade-offs (several)."""

    numbers: tuple[int, ...]
    values: tuple[tuple[float, ...], ...]
    params: tuple[Mapping[str, object], ...]


class TrialSlots(Protocol):
    """Where trials run, at most ``n_jobs`` at once."""

    def start(self, job: TrialJob) -> None:
        """Start the trial's job; return at once."""

    def wait_any(self) -> list[TrialOutcome]:
        """Block until at least one started trial ended; every trial that ended since."""


class Observer(Protocol):
    """What the loop reports (sweep.lock, progress)."""

    def trial_started(self, job: TrialJob) -> None:
        """A trial's job was started."""

    def trial_told(self, outcome: TrialOutcome, state: str, reason: str | None) -> None:
        """A trial's result was told to the study (``state``: complete or fail)."""

    def best_changed(self, best: Best) -> None:
        """The best trial (or the Pareto front) changed."""


def optimize(
    study: optuna.Study,
    space: SearchSpace,
    settings: StudySettings,
    slots: TrialSlots,
    observer: Observer,
    *,
    n_trials: int,
    n_jobs: int,
    adopted: Mapping[int, optuna.trial.Trial] | None = None,
) -> Best | None:
    """Run the study until ``n_trials`` trials count, ``n_jobs`` at a time.

    Args:
        study: The opened study (naga.launch.sweepers.optuna_study.open_study).
        space: The search space and the overrides every trial gets.
        settings: The objectives and directions.
        slots: Where the trials run.
        observer: Told of every start, result and new best.
        n_trials: The study's total budget (finished trials already in it count).
        n_jobs: How many trials run at once.
        adopted: Trials of an earlier controller still running (a resume): waited for.

    Returns:
        The best trial(s) at the end, or None when no trial completed.

    Raises:
        ConfigError: The first completed trial recorded no metric of that name but one
            close to it (a typo in ``hydra.sweeper.objective``).
    """
    running = dict(adopted or {})
    best: Best | None = _best(study)
    seen_objective = best is not None
    if best is not None:  # a resumed study: its controller may have stopped before recording it
        observer.best_changed(best)
    while True:
        budget = n_trials - trials_counted(study) - len(running)
        while len(running) < n_jobs and budget > 0:
            trial = study.ask(dict(space.distributions))
            job = TrialJob(trial.number, dict(trial.params), space.overrides(trial.params))
            running[trial.number] = trial
            # Recorded first: the trial's entry exists before its job can update it.
            observer.trial_started(job)
            slots.start(job)
            budget -= 1
        if not running:
            return best
        for outcome in slots.wait_any():
            trial = running.pop(outcome.number)
            state, reason = _tell(study, trial, outcome, settings)
            if state == "complete":
                seen_objective = True
            elif not seen_objective and outcome.status == COMPLETED:
                _check_objective_name(outcome, settings)
            new_best = _best(study)
            if new_best is not None and new_best != best:
                best = new_best
                observer.best_changed(best)
            observer.trial_told(outcome, state, reason)


def _tell(
    study: optuna.Study, trial: optuna.trial.Trial, outcome: TrialOutcome, settings: StudySettings
) -> tuple[str, str | None]:
    import optuna

    if outcome.status == COMPLETED:
        values = objective_values(outcome.metrics, settings.objectives)
        if not isinstance(values, str):
            study.tell(trial, values)
            return "complete", None
        reason = values
    else:
        reason = f"the trial's run {outcome.status}" + (
            f": {outcome.error}" if outcome.error else ""
        )
    # A trial stopped from outside (its controller's Ctrl-C, a preemption, a lost node) is
    # not its own failure: it does not count against n_trials and its place is asked again.
    lost = outcome.status in (INTERRUPTED, LOST)
    trial.set_user_attr(FAILURE_ATTR, FAILED_BY_LOSS if lost else FAILED_BY_TRIAL)
    trial.set_user_attr("naga.reason", reason)
    study.tell(trial, state=optuna.trial.TrialState.FAIL)
    return "fail", reason


def _check_objective_name(outcome: TrialOutcome, settings: StudySettings) -> None:
    """A first completed trial that names a metric close to the objective: a typo, stop."""
    import difflib

    from naga.lock.metrics import RETURN_KEY

    for name in settings.objectives:
        if name in outcome.metrics:
            continue
        if name == RETURN_KEY and outcome.metrics:
            # The default objective is a bare number returned; this function returns a mapping.
            raise ConfigError(
                f"hydra.sweeper.objective={name}: trial {outcome.number} returned no bare number "
                f"but metrics {', '.join(sorted(map(str, outcome.metrics)))}; set "
                "hydra.sweeper.objective to the one to optimize, e.g. "
                f"hydra.sweeper.objective={sorted(map(str, outcome.metrics))[0]}"
            )
        close = difflib.get_close_matches(name, [str(key) for key in outcome.metrics], n=1)
        if close:
            raise ConfigError(
                f"hydra.sweeper.objective={name}: trial {outcome.number} recorded no metric "
                f"{name!r}; did you mean {close[0]!r}? (its metrics: "
                f"{', '.join(sorted(map(str, outcome.metrics)))})"
            )


def _best(study: optuna.Study) -> Best | None:
    import optuna

    completed = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if not completed:
        return None
    front = study.best_trials if len(study.directions) > 1 else [study.best_trial]
    return Best(
        numbers=tuple(t.number for t in front),
        values=tuple(tuple(t.values) for t in front),
        params=tuple(dict(t.params) for t in front),
    )
