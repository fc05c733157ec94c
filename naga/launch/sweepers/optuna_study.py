"""An Optuna study kept beside a sweep's receipts, and the rules of continuing it.

The study lives in Optuna's journal ``<sweep>/.naga-sweep/optuna.journal`` (append-only, locked
for NFS) unless ``storage`` names another, so ``naga resume`` reopens the same study after any
crash. A trial left ``RUNNING`` is lost and does not count against ``n_trials``; a resume that
changes the question (space, objectives, directions) is refused unless forced.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from naga.errors import ConfigError

if TYPE_CHECKING:
    import optuna

    from naga.launch.sweepers.optuna_space import SearchSpace

JOURNAL = Path(".naga-sweep") / "optuna.journal"
SIGNATURE_ATTR = "naga.signature"
FAILURE_ATTR = "naga.failure"
# Why a trial failed: its own doing (counts against n_trials) or its controller's loss.
FAILED_BY_TRIAL = "trial"
FAILED_BY_LOSS = "lost"

SAMPLERS = {
    "tpe": "TPESampler",
    "random": "RandomSampler",
    "cmaes": "CmaEsSampler",
    "gp": "GPSampler",
    "nsga2": "NSGAIISampler",
    "nsga3": "NSGAIIISampler",
    "qmc": "QMCSampler",
}
DIRECTIONS = ("minimize", "maximize")
#: The sweeper's name in sweep.lock (``hydra/sweeper=naga_optuna``).
SWEEPER_NAME = "naga_optuna"


@dataclass(frozen=True)
class StudySettings:
    """What the user set under ``hydra.sweeper`` that defines the study."""

    objectives: tuple[str, ...]
    directions: tuple[str, ...]
    sampler: str = "tpe"
    seed: int | None = None
    storage: str | None = None
    study_name: str | None = None

    @classmethod
    def from_options(
        cls,
        *,
        objective: str | Sequence[str],
        direction: str | Sequence[str] = "minimize",
        sampler: str = "tpe",
        seed: int | None = None,
        storage: str | None = None,
        study_name: str | None = None,
    ) -> StudySettings:
        """Check and normalise the sweeper's options (one objective or several).

        Raises:
            ConfigError: an empty objective, an unknown direction or sampler, or a different
                number of directions and objectives.
        """
        objectives = (objective,) if isinstance(objective, str) else tuple(objective)
        directions = (
            (direction,) * len(objectives) if isinstance(direction, str) else tuple(direction)
        )
        if not objectives or not all(objectives):
            raise ConfigError(
                "hydra.sweeper.objective: no metric named; set it to the metric your function "
                "returns, e.g. hydra.sweeper.objective=loss"
            )
        if len(directions) != len(objectives):
            raise ConfigError(
                f"hydra.sweeper.direction: {len(directions)} directions for {len(objectives)} "
                "objectives; give one direction per objective"
            )
        for value in directions:
            if value not in DIRECTIONS:
                raise ConfigError(
                    f"hydra.sweeper.direction={value}: not a direction; use minimize or maximize"
                )
        if sampler not in SAMPLERS:
            raise ConfigError(
                f"hydra.sweeper.sampler={sampler}: unknown sampler"
                f"{_did_you_mean(sampler, SAMPLERS)}; choose one of {', '.join(SAMPLERS)}"
            )
        return cls(objectives, directions, sampler, seed, storage, study_name)


@dataclass(frozen=True)
class StudyPlan:
    """The sweeper's settings, checked: the study's question and its budget."""

    settings: StudySettings
    space: SearchSpace
    n_trials: int
    n_jobs: int
    force: bool
    expressions: tuple[tuple[str, str], ...] = ()  # each searched key as the user wrote it

    def describe(self, study_name: str) -> dict[str, object]:
        """sweep.lock's ``sweeper`` record."""
        return {
            "name": SWEEPER_NAME,
            "study": study_name,
            "n_trials": self.n_trials,
            "n_jobs": self.n_jobs,
            "objective": list(self.settings.objectives),
            "direction": list(self.settings.directions),
            "sampler": self.settings.sampler,
            "seed": self.settings.seed,
            "storage": self.settings.storage or ".naga-sweep/optuna.journal",
            "space": dict(self.expressions),
            "fixed": list(self.space.fixed),
        }


def open_study(
    sweep_dir: Path,
    settings: StudySettings,
    space: SearchSpace,
    *,
    force: bool = False,
    still_running: Callable[[int], bool] = lambda number: False,
) -> optuna.Study:
    """The sweep's study: created on the first run, reopened on a resume.

    Trials a lost controller left ``RUNNING`` are told as failed (``naga.failure: lost``),
    except those ``still_running`` says are alive (a Slurm job that outlived its
    controller): the resumed controller waits for them instead.

    Raises:
        ConfigError: the existing study searched another space or objective (unless
            ``force``).
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = _storage(sweep_dir, settings)
    name = settings.study_name or sweep_dir.resolve().name
    question = {"objectives": settings.objectives, "directions": settings.directions}
    signature = json.dumps({"space": space.describe(), **question}, sort_keys=True)
    study = optuna.create_study(
        storage=storage,
        study_name=name,
        directions=list(settings.directions),  # type: ignore[arg-type]  # checked in from_options
        load_if_exists=True,
    )
    recorded = study.user_attrs.get(SIGNATURE_ATTR)
    if recorded is None:
        study.set_user_attr(SIGNATURE_ATTR, signature)
    elif recorded != signature:
        if not force:
            raise ConfigError(
                f"{sweep_dir}: its study {name!r} was started with another question "
                f"({_difference(recorded, signature)}); resume with the same search space and "
                "objective, pass "
                "hydra.sweeper.force=true to continue anyway, or use another save_dir"
            )
        study.set_user_attr(SIGNATURE_ATTR, signature)
    fail_lost_trials(study, still_running)
    study.sampler = _sampler(settings, already=len(study.trials))
    return study


def fail_lost_trials(
    study: optuna.Study, still_running: Callable[[int], bool] = lambda number: False
) -> list[int]:
    """Tell every trial left ``RUNNING`` and not ``still_running`` as failed by loss.

    Returns:
        The numbers of the trials told as lost.
    """
    import optuna

    running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    lost = [frozen for frozen in running if not still_running(frozen.number)]
    for frozen in lost:
        trial = optuna.trial.Trial(study, frozen._trial_id)
        trial.set_user_attr(FAILURE_ATTR, FAILED_BY_LOSS)
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
    return [frozen.number for frozen in lost]


def trials_counted(study: optuna.Study) -> int:
    """How many trials count against ``n_trials``: all finished ones except the lost."""
    import optuna

    states = optuna.trial.TrialState
    return sum(
        1
        for trial in study.get_trials(deepcopy=False)
        if trial.state in (states.COMPLETE, states.PRUNED)
        or (trial.state == states.FAIL and trial.user_attrs.get(FAILURE_ATTR) != FAILED_BY_LOSS)
    )


def objective_values(metrics: Mapping[str, object], objectives: Sequence[str]) -> list[float] | str:
    """The trial's objective values from its run.lock metrics, or why there are none.

    A missing metric, or one that is not a finite number, is the reason (one line, naming
    the metrics the trial did return) for the trial to be told as failed.
    """
    values = []
    for name in objectives:
        if name not in metrics:
            returned = ", ".join(sorted(metrics)) or "none"
            return (
                f"the trial recorded no metric {name!r}{_did_you_mean(name, metrics)} "
                f"(its metrics: {returned})"
            )
        value = metrics[name]
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            return f"metric {name!r} is {value!r}, not a finite number"
        values.append(float(value))
    return values


def _storage(sweep_dir: Path, settings: StudySettings) -> optuna.storages.BaseStorage | str:
    if settings.storage:
        return settings.storage  # an Optuna storage URL (RDB) the user manages
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

    path = sweep_dir / JOURNAL
    path.parent.mkdir(parents=True, exist_ok=True)
    # The open lock (O_EXCL on a lock file) holds on NFSv3+, where cluster sweeps live.
    return JournalStorage(JournalFileBackend(str(path), lock_obj=JournalFileOpenLock(str(path))))


def _sampler(settings: StudySettings, *, already: int) -> optuna.samplers.BaseSampler:
    import optuna

    cls = getattr(optuna.samplers, SAMPLERS[settings.sampler])
    # A resumed study must not replay the first run's random sequence: its seed moves on by
    # the number of trials already made, so the whole study stays reproducible.
    seed = None if settings.seed is None else settings.seed + already
    if settings.sampler == "qmc":
        return cls(seed=seed, warn_independent_sampling=False)
    return cls(seed=seed)


def _difference(recorded: str, asked: str) -> str:
    """What changed between two study signatures, for the refusal's one line."""
    old, new = json.loads(recorded), json.loads(asked)
    changes = [f"{key} added" for key in new["space"] if key not in old["space"]]
    changes += [f"{key} removed" for key in old["space"] if key not in new["space"]]
    changes += [
        f"{key}'s range changed"
        for key in new["space"]
        if key in old["space"] and old["space"][key] != new["space"][key]
    ]
    for part in ("objectives", "directions"):
        if old[part] != new[part]:
            changes.append(f"{part} {', '.join(old[part])} -> {', '.join(new[part])}")
    return "; ".join(changes)


def _did_you_mean(name: str, known: Mapping[str, object] | Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
