"""Sweeps whose ``hydra/sweeper`` is not the grid: naga's Optuna study or any Hydra sweeper."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from naga.launch.job import App
    from naga.launch.options import SweepOptions
    from naga.launch.plan.hydra_session import Session

__all__ = ["run_search"]


def run_search(
    session: Session,
    app: App,
    overrides: Sequence[str],
    options: SweepOptions,
    session_overrides: Sequence[str],
    *,
    given_root: Path,
) -> int:
    """Run the sweep with its sweeper; the process exit code.

    Raises:
        UsageError: Flags that do not apply to a search (``--tasks``, ``--skip-completed``,
            ``--cfg``: its jobs are not known up front).
        ConfigError: The sweeper's settings or search space are wrong.
    """
    from naga.errors import UsageError
    from naga.launch.plan import hydra_session
    from naga.launch.sweepers.controller import OPTUNA_TARGET, run_study

    target = hydra_session.sweeper_target(session)
    name = str(session.cfg.hydra.runtime.choices.get("hydra/sweeper") or target.rsplit(".", 1)[-1])
    for flag, given in (
        ("--tasks", options.tasks is not None or options.tasks_key is not None),
        ("--skip-completed", options.skip_completed),
        ("--cfg", getattr(options, "print_configs", False)),
    ):
        if given:
            raise UsageError(
                f"{flag}: the {name} sweeper decides the jobs itself; drop {flag} "
                "(or the hydra/sweeper override)"
            )
    if options.resume is not None:
        given_root = _recorded_root(Path(options.resume))
    if target == OPTUNA_TARGET:
        return run_study(session, app, overrides, options, session_overrides, given_root=given_root)
    if options.detach:
        raise UsageError(
            f"--detach: the {name} sweeper needs its process for the whole sweep; run it "
            "without --detach (naga's own hydra/sweeper=naga_optuna can detach)"
        )
    from naga.launch.sweepers.thirdparty import run_hydra_sweeper

    return run_hydra_sweeper(session, app, overrides, session_overrides, given_root=given_root)


def _recorded_root(root: Path) -> Path:
    """The save_dir the resumed study was started with (as given: relative to its cwd)."""
    from naga.launch.record.files import SWEEP_LOCK
    from naga.lock.format import try_read

    launch = (try_read(root / SWEEP_LOCK) or {}).get("launch") or {}
    return Path(str(launch.get("given_root") or root))
