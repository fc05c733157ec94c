"""Run one job of a decorated function and leave its run.lock, in the job's own process.

Single runs, local sweeps and Slurm jobs all go through ``run_job``, so every job gets
the same receipt whichever launcher ran it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from naga.errors import ConfigError, first_line
from naga.lock.origin import Origin
from naga.lock.record import LOCK_NAME

SAVE_DIR_KEY = "save_dir"


@dataclass
class App:
    """A decorated function and its base config; pickled to launcher workers.

    ``origin`` is taken in the launching process: a worker sees a launcher's bootstrap as
    ``__main__`` and a function pickled by value without its file (naga.lock.origin).
    ``code`` too, when a sweep runs the submitted code (naga.launch.isolate): the jobs
    record the commit/snapshot they import, not the work tree as it is when they start.
    """

    function: Callable[..., Any]
    base: Any  # struct DictConfig: class defaults + --config files + --experiment, unresolved
    origin: Origin
    name: str
    track_code: bool = True
    code: tuple[str, dict[str, Any]] | None = None  # (key, repos entry) taken at submission


def resolve_once(cfg: Any) -> Any:
    """Resolve every interpolation once, so the function and run.lock see the same values.

    ``${now:...}`` would otherwise be evaluated at each access; the declared-tracking
    resolvers (``${runlock_data:...}``) register their paths for this run while resolving.
    """
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from naga.lock.resolvers import register_resolvers, reset_declared

    register_resolvers()
    reset_declared()
    resolved = cfg.copy()
    try:
        OmegaConf.resolve(resolved)
    except OmegaConfBaseException as exc:
        key = getattr(exc, "full_key", None) or _first_unresolvable(cfg)
        where = f"config key '{key}': " if key else ""
        raise ConfigError(f"{where}{first_line(exc)}") from exc
    return resolved


def _first_unresolvable(cfg: Any, prefix: str = "") -> str | None:
    """The dotted key of the first value that fails to resolve (OmegaConf may not say)."""
    from omegaconf import DictConfig, ListConfig

    keys: list[Any] = list(cfg.keys()) if isinstance(cfg, DictConfig) else list(range(len(cfg)))
    for key in keys:
        path = prefix + str(key)
        child = cfg._get_node(key)
        if isinstance(child, (DictConfig, ListConfig)):
            found = _first_unresolvable(child, f"{path}.")
            if found:
                return found
            continue
        try:
            cfg[key]
        except Exception:
            return path
    return None


def job_save_dir(cfg: Any, job_dir_name: str | None) -> Path | None:
    """The job's save_dir: ``<save_dir>/<job_dir_name>`` inside a sweep, else ``save_dir``."""
    if SAVE_DIR_KEY not in cfg or cfg[SAVE_DIR_KEY] is None:
        return None
    base = Path(os.fspath(cfg[SAVE_DIR_KEY]))
    return base / job_dir_name if job_dir_name else base


def run_job(
    app: App,
    cfg: Any,
    *,
    launcher: str | None = None,
    job_dir_name: str | None = None,
    extra: Mapping[str, Any] | None = None,
    resolved: bool = False,
) -> Any:
    """Call ``app.function(cfg)`` and record the outcome in ``<save_dir>/run.lock``.

    The user's exception (including SystemExit and KeyboardInterrupt) is re-raised
    unchanged after the failure has been recorded. Pass ``resolved=True`` when ``cfg``
    went through ``resolve_once`` already (the CLI does, to report errors before running).
    """
    from omegaconf import open_dict

    from naga.lock.session import finish_run, start_run

    if not resolved:
        cfg = resolve_once(cfg)
    save_dir = job_save_dir(cfg, job_dir_name)
    if job_dir_name and save_dir is not None:
        with open_dict(cfg):
            cfg[SAVE_DIR_KEY] = str(save_dir)
    ctx = start_run(
        lock_path=save_dir / LOCK_NAME if save_dir is not None else None,
        origin=app.origin,
        config=cfg,
        launcher=launcher,
        extra=extra,
        track_code=app.track_code,
        code=app.code if app.track_code else None,
    )
    try:
        result = app.function(cfg)
    except BaseException as exc:
        status = status_of(exc)
        error = exc if status != "completed" else None
        finish_run(ctx, config=cfg, status=status, error=error, track_code=app.track_code)
        raise
    finish_run(ctx, config=cfg, status="completed", track_code=app.track_code)
    return result


def status_of(exc: BaseException) -> str:
    """The run status an exception ends a run with.

    ``sys.exit(0)`` completes; a signal (naga's ``Interrupted``, Ctrl-C's
    ``KeyboardInterrupt``) interrupts, unless the batch system requeued the job
    (``Requeued``); anything else, ``sys.exit(1)`` included, fails.
    """
    from naga.lock.interrupt import Interrupted, Requeued

    if isinstance(exc, Requeued):
        return "requeued"
    if isinstance(exc, (Interrupted, KeyboardInterrupt)):
        return "interrupted"
    if isinstance(exc, SystemExit) and exc.code in (0, None):
        return "completed"
    return "failed"
