"""Run one job of a decorated function and leave its run.lock, in the job's own process.

Single runs, local sweeps and Slurm jobs all go through ``start_job(...).call()``, so every
job gets the same receipt whichever launcher ran it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from naga._hydra_compat import job_failed, returned_value
from naga._omegaconf_compat import node_at
from naga.errors import ConfigError, first_line
from naga.lock.format import LOCK_NAME
from naga.lock.origin import Origin
from naga.lock.status import COMPLETED, FAILED, INTERRUPTED, REQUEUED

if TYPE_CHECKING:
    from omegaconf import Container, DictConfig, DictKeyType

    from naga.lock.session import RunContext

SAVE_DIR_KEY = "save_dir"
R = TypeVar("R")  # what the user's function returns
__all__ = [
    "SAVE_DIR_KEY",
    "App",
    "Job",
    "checked_save_dir",
    "job_failed",
    "job_save_dir",
    "resolve_once",
    "returned_value",
    "start_job",
    "status_of",
]


@dataclass
class App(Generic[R]):
    """A decorated function and its base config; pickled to launcher workers.

    ``origin``, ``code`` and ``command`` are taken in the launching process: a worker sees a
    launcher's bootstrap as ``__main__`` and its command line, and isolated jobs record the
    submitted commit/snapshot they import, not the work tree as it is when they start.
    """

    function: Callable[[DictConfig], R]
    base: DictConfig  # struct: class defaults + --config files + --experiment, unresolved
    origin: Origin
    name: str
    track_code: bool = True
    code: tuple[str, dict[str, object]] | None = None  # (key, repos entry) taken at submission
    command: list[str] | None = None  # None: the job's own process's command line

    def command_line(self) -> list[str]:
        """What the user typed: ``command``, else this process's ``sys.argv``."""
        return list(self.command) if self.command is not None else list(sys.argv)


def resolve_once(cfg: DictConfig) -> DictConfig:
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


def _first_unresolvable(cfg: Container, prefix: str = "") -> str | None:
    """The dotted key of the first value that fails to resolve (OmegaConf may not say)."""
    from omegaconf import DictConfig, ListConfig

    keys: list[DictKeyType] = list(cfg.keys()) if isinstance(cfg, DictConfig) else []
    if isinstance(cfg, ListConfig):
        keys = list(range(len(cfg)))
    for key in keys:
        path = prefix + str(key)
        child = node_at(cfg, key)
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


def job_save_dir(cfg: DictConfig, job_dir_name: str | None) -> Path | None:
    """The job's save_dir: ``<save_dir>/<job_dir_name>`` inside a sweep, else ``save_dir``."""
    if SAVE_DIR_KEY not in cfg or cfg[SAVE_DIR_KEY] is None:
        return None
    base = checked_save_dir(cfg[SAVE_DIR_KEY])
    return base / job_dir_name if job_dir_name else base


def checked_save_dir(value: str | os.PathLike[str]) -> Path:
    """``save_dir`` as a path, refusing an empty one.

    An empty ``save_dir`` (``save_dir=`` on the command line) would put run.lock, and the
    jobs of a sweep, straight into the current directory, usually the repository root.

    Raises:
        ConfigError: ``value`` is empty or blank.
    """
    text = os.fspath(value)
    if not str(text).strip():
        raise ConfigError(
            f"save_dir={text!r} is empty: run.lock would be written into the current "
            f"directory ({Path.cwd()}); give a directory (save_dir=results/run), or "
            "save_dir=. if the current directory is meant"
        )
    return Path(text)


def start_job(
    app: App[R],
    cfg: DictConfig,
    *,
    launcher: str | None = None,
    job_dir_name: str | None = None,
    extra: Mapping[str, object] | None = None,
    resolved: bool = False,
) -> Job[R]:
    """Open the job's run (its ``running`` receipt is written); ``.call()`` then runs it.

    ``start_job(app, cfg).call()`` calls ``app.function(cfg)`` and records the outcome in
    ``<save_dir>/run.lock``. The user's exception (including SystemExit and
    KeyboardInterrupt) is re-raised unchanged after the failure has been recorded. Pass
    ``resolved=True`` when ``cfg`` went through ``resolve_once`` already (the CLI does, to
    report errors before running).

    Raises:
        NagaError: The run cannot start (a busy save_dir, a run.lock that cannot be
            written, a bad ``NAGA_*`` variable): nothing of the user's code ran yet.
    """
    from omegaconf import open_dict

    from naga.lock.session import start_run

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
        command=app.command,
    )
    return Job(app=app, cfg=cfg, ctx=ctx)


@dataclass
class Job(Generic[R]):
    """A started run of the user's function: :meth:`call` runs it and closes the run."""

    app: App[R]
    cfg: DictConfig
    ctx: RunContext

    def call(self) -> R:
        """Call the function and write the final receipt; its exception is re-raised."""
        from naga.lock.session import finish_run

        track = self.app.track_code
        try:
            result = self.app.function(self.cfg)
        except BaseException as exc:
            status = status_of(exc)
            error = exc if status != COMPLETED else None
            finish_run(self.ctx, config=self.cfg, status=status, error=error, track_code=track)
            raise
        name = getattr(self.app.function, "__qualname__", self.app.name)
        self.ctx.metrics.update(returned_metrics(result, name))
        finish_run(self.ctx, config=self.cfg, status=COMPLETED, track_code=track)
        return result


def returned_metrics(result: object, name: str) -> dict[str, int | float]:
    """The metrics in a function's return value (docs/results.md), warning about non-numbers.

    A bare number is recorded as ``metrics.value``; a mapping's number values under their
    (dotted) keys. Other return values are not results and are left alone.
    """
    import warnings

    from naga.errors import MetricsError
    from naga.lock.metrics import from_return

    try:
        found, skipped = from_return(result)
    except MetricsError as exc:
        found, skipped = {}, [str(exc)]
    if skipped:
        # The run succeeded: say what was not recorded instead of failing or dropping it.
        # Under -W error the warning must not become an exception that leaves the receipt
        # 'running': fall back to stderr.
        message = (
            f"{name} returned values that are not numbers, so they are not recorded as "
            f"metrics: {', '.join(skipped)}; return only numbers, or record the rest with "
            "runlock() or in files"
        )
        try:
            warnings.warn(message, UserWarning, stacklevel=3)
        except Warning:
            print(f"warning: {message}", file=sys.stderr)
    return found


def status_of(exc: BaseException) -> str:
    """The run status an exception ends a run with.

    ``sys.exit(0)`` completes; a signal (naga's ``Interrupted``, Ctrl-C's
    ``KeyboardInterrupt``) interrupts, unless the batch system requeued the job
    (``Requeued``); anything else, ``sys.exit(1)`` included, fails.
    """
    from naga.lock.interrupt import Interrupted, Requeued

    if isinstance(exc, Requeued):
        return REQUEUED
    if isinstance(exc, (Interrupted, KeyboardInterrupt)):
        return INTERRUPTED
    if isinstance(exc, SystemExit) and exc.code in (0, None):
        return COMPLETED
    return FAILED
