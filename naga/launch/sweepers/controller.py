"""The study controller of ``hydra/sweeper=naga_optuna``: asks, runs and tells trials.

It reads ``hydra.sweeper``'s settings and search space, opens the study beside the receipts
and runs the ask-and-tell loop on the launcher's slots, each trial a job with its own run.lock
in ``<sweep>/trial_NNNN`` (docs/sweeps.md: resume and ``--detach``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from naga.errors import ConfigError, UsageError
from naga.launch.sweepers.optuna_study import SWEEPER_NAME, StudyPlan

if TYPE_CHECKING:
    from naga.launch.job import App
    from naga.launch.options import SweepOptions
    from naga.launch.plan.hydra_session import Session

__all__ = ["OPTUNA_TARGET", "recorded_study", "run_study"]

OPTUNA_TARGET = "hydra_plugins.naga_optuna.sweeper.NagaOptunaSweeper"


def require_optuna() -> None:
    """Raises ConfigError naming the extra when Optuna is not installed."""
    try:
        import optuna  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            "hydra/sweeper=naga_optuna: Optuna is not installed; install naga with its optuna "
            "extra (pip install 'naga[optuna]')"
        ) from exc


def plan_of(session: Session) -> StudyPlan:
    """The study's settings and search space from ``hydra.sweeper`` and the command line.

    Raises:
        ConfigError: A setting or a search-space expression that cannot be used.
    """
    from omegaconf import OmegaConf

    from naga.launch.plan import hydra_session
    from naga.launch.sweepers.optuna_space import parse_space
    from naga.launch.sweepers.optuna_study import StudySettings

    node = OmegaConf.to_container(session.cfg.hydra.sweeper, resolve=True)
    assert isinstance(node, dict)

    def whole(key: str, least: int) -> int:
        value = node.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ConfigError(
                f"hydra.sweeper.{key}={value}: give a whole number of at least {least}"
            )
        return value

    n_trials, n_jobs = whole("n_trials", 1), whole("n_jobs", 1)
    settings = StudySettings.from_options(
        objective=node.get("objective") or "",
        direction=node.get("direction") or "minimize",
        sampler=str(node.get("sampler") or "tpe"),
        seed=node.get("seed"),
        storage=node.get("storage"),
        study_name=node.get("study_name"),
    )
    params = node.get("params") or {}
    # The command line's overrides add to `params` and win over the same key.
    given = hydra_session.override_lines(session.cfg.hydra.overrides.task)
    keys = {line.split("=", 1)[0].lstrip("+~") for line in given}
    lines = [f"{key}={value}" for key, value in params.items() if key not in keys] + given
    space = parse_space(lines)
    if not space.distributions:
        raise ConfigError(
            "hydra/sweeper=naga_optuna: nothing to search; give a search space, e.g. "
            "'lr=tag(log, interval(1e-4, 0.1))' on the command line or under "
            "hydra.sweeper.params"
        )
    searched = [line.split("=", 1) for line in lines]
    expressions = tuple((key, text) for key, text in searched if key in space.distributions)
    return StudyPlan(settings, space, n_trials, n_jobs, bool(node.get("force")), expressions)


def recorded_study(root: Path) -> dict[str, object] | None:
    """The ``sweeper`` record of the study in ``root``'s sweep.lock, or None (not a study)."""
    from naga.launch.record.files import SWEEP_LOCK
    from naga.lock.format import try_read

    data = try_read(root / SWEEP_LOCK) or {}
    sweeper = data.get("sweeper")
    return sweeper if isinstance(sweeper, dict) and sweeper.get("name") == SWEEPER_NAME else None


def run_study(
    session: Session,
    app: App,
    overrides: Sequence[str],
    options: SweepOptions,
    session_overrides: Sequence[str],
    *,
    given_root: Path,
) -> int:
    """Run (or resume, or submit the controller of) the study; the process exit code.

    Raises:
        ConfigError: Optuna is missing; a bad setting, search space or objective; a
            resume that changes the question (unless ``hydra.sweeper.force``).
        UsageError: A new study into a folder that holds one (resume it instead).
    """
    from naga.launch.launchers import registry
    from naga.launch.plan import hydra_session
    from naga.launch.plan.jobs import sweep_state
    from naga.launch.record.files import as_list
    from naga.launch.record.relaunch import launch_info
    from naga.launch.sweepers.optuna_study import open_study

    require_optuna()
    plan = plan_of(session)
    resumed = options.resume is not None
    root = given_root.absolute()
    recorded = _recorded(root, resumed=resumed)
    if not resumed:
        from naga.launch.record.claim import refuse_if_live

        # A folder whose sweep still runs is not taken.
        refuse_if_live(root, shown=str(given_root), stop_hint=registry.stop_hint)
    hydra_session.set_sweep_dir(session, str(given_root))
    study_name = plan.settings.study_name or root.name
    state = sweep_state(
        app, root, str(given_root), overrides, launcher=registry.launcher_for(session).name
    )
    if recorded:
        from naga.launch.sweepers.record import records_from

        state.jobs = records_from(recorded, root)
        state.sweep_id = str(recorded.get("sweep_id") or state.sweep_id)
        state.started_at = str(recorded.get("started_at") or state.started_at)
        state.command = [str(item) for item in as_list(recorded.get("command"))] or state.command
        state.overrides = [str(item) for item in as_list(recorded.get("overrides"))] or (
            state.overrides
        )
    state.extra["sweeper"] = plan.describe(study_name)
    if recorded and recorded.get("best") is not None:
        state.extra["best"] = recorded["best"]
    state.extra["launch"] = launch_info(
        session_overrides,
        given_root=str(given_root),
        isolate=options.isolate,
        detached=options.detach,
    )
    if options.detach:
        from naga.launch.sweepers.detached import submit_controller

        # The question is checked (and the journal created) before anything is queued.
        open_study(root, plan.settings, plan.space, force=plan.force, still_running=lambda n: True)
        return submit_controller(session, state, root, resumed=resumed)
    from naga.launch.sweepers.detached import note_controller

    note_controller(state)
    from naga.launch.sweepers.run import run_trials

    return run_trials(session, app, state, plan, options)


def _recorded(root: Path, *, resumed: bool) -> dict[str, object] | None:
    """A resumed study's sweep.lock; a new study must not land in a study's folder."""
    from naga.launch.record.files import SWEEP_LOCK
    from naga.lock.format import try_read

    data = try_read(root / SWEEP_LOCK)
    if resumed:
        return data
    if data is not None and isinstance(data.get("sweeper"), dict):
        raise UsageError(
            f"save_dir={root}: this folder already holds a study ({root / SWEEP_LOCK}); "
            f"continue it with `naga resume {root}`, or give another save_dir"
        )
    return None
