"""The study beside the receipts: reopened on resume, lost trials re-asked, changes refused."""

from __future__ import annotations

from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna")

from naga.errors import ConfigError  # noqa: E402
from naga.launch.sweepers.optuna_space import parse_space  # noqa: E402
from naga.launch.sweepers.optuna_study import (  # noqa: E402
    FAILED_BY_TRIAL,
    FAILURE_ATTR,
    JOURNAL,
    StudySettings,
    objective_values,
    open_study,
    trials_counted,
)

SPACE = ["lr=tag(log, interval(1e-4, 0.1))", "layers=range(1, 5)"]
SETTINGS = StudySettings.from_options(objective="loss", seed=3)


def _run_trials(study: optuna.Study, count: int) -> list[int]:
    space = parse_space(SPACE)
    numbers = []
    for _ in range(count):
        trial = study.ask(dict(space.distributions))
        study.tell(trial, trial.params["lr"] * trial.params["layers"])
        numbers.append(trial.number)
    return numbers


def test_a_resume_keeps_finished_trials_and_re_asks_the_lost(tmp_path: Path) -> None:
    space = parse_space(SPACE)
    study = open_study(tmp_path, SETTINGS, space)
    assert (tmp_path / JOURNAL).is_file()
    assert _run_trials(study, 3) == [0, 1, 2]
    study.ask(dict(space.distributions))  # trial 3 runs when the controller dies
    failed = study.ask(dict(space.distributions))
    failed.set_user_attr(FAILURE_ATTR, FAILED_BY_TRIAL)
    study.tell(failed, state=optuna.trial.TrialState.FAIL)  # trial 4 failed by itself

    resumed = open_study(tmp_path, SETTINGS, space)
    states = {t.number: (t.state.name, t.user_attrs.get(FAILURE_ATTR)) for t in resumed.trials}
    assert states[3] == ("FAIL", "lost")
    assert states[4] == ("FAIL", "trial")
    assert trials_counted(resumed) == 4  # 3 complete + 1 failed by itself; the lost one is not
    assert _run_trials(resumed, 1) == [5]  # numbering continues


def test_a_resumed_seed_moves_on(tmp_path: Path) -> None:
    space = parse_space(SPACE)
    first = open_study(tmp_path / "a", SETTINGS, space)
    _run_trials(first, 2)
    resumed = open_study(tmp_path / "a", SETTINGS, space)
    again = resumed.ask(dict(space.distributions)).params
    assert again not in [t.params for t in resumed.trials[:2]]


@pytest.mark.parametrize(
    ("space", "settings", "message"),
    [
        ([*SPACE, "act=choice(relu, tanh)"], SETTINGS, "act added"),
        (
            ["lr=tag(log, interval(1e-4, 0.1))", "layers=range(1, 9)"],
            SETTINGS,
            "layers's range changed",
        ),
        (
            SPACE,
            StudySettings.from_options(objective="acc", direction="maximize"),
            "objectives loss -> acc",
        ),
    ],
)
def test_a_changed_question_is_refused_unless_forced(
    tmp_path: Path, space: list[str], settings: StudySettings, message: str
) -> None:
    _run_trials(open_study(tmp_path, SETTINGS, parse_space(SPACE)), 1)
    with pytest.raises(ConfigError, match=message) as info:
        open_study(tmp_path, settings, parse_space(space))
    assert "hydra.sweeper.force=true" in str(info.value)
    forced = open_study(tmp_path, settings, parse_space(space), force=True)
    assert len(forced.trials) == 1


def test_objective_values_name_what_is_missing() -> None:
    assert objective_values({"loss": 0.5, "acc": 1}, ["loss", "acc"]) == [0.5, 1.0]
    missing = objective_values({"loss": 0.5}, ["los"])
    assert (
        missing == "the trial recorded no metric 'los' (did you mean 'loss'?) (its metrics: loss)"
    )
    assert "not a finite number" in str(objective_values({"loss": float("nan")}, ["loss"]))
    assert "not a finite number" in str(objective_values({"loss": "high"}, ["loss"]))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"objective": ""}, "no metric named"),
        ({"objective": ["a", "b"], "direction": ["minimize"]}, "1 directions for 2 objectives"),
        ({"objective": "loss", "direction": "min"}, "use minimize or maximize"),
        ({"objective": "loss", "sampler": "tpee"}, "did you mean 'tpe'"),
    ],
)
def test_bad_settings_are_one_line(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        StudySettings.from_options(**options)  # type: ignore[arg-type]
