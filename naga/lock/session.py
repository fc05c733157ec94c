"""The current run: opened by clicfg/launchers around the user's function, closed with its record.

``start_run`` makes a :class:`RunContext` current (a ``ContextVar``, so threads and
asyncio tasks see their own run); every ``runlock()`` call inside merges into the same
run.lock (same ``run_id``); ``finish_run`` writes the final record (status, times,
error, resolved config, environment and the script's git state) and closes the run.
"""

from __future__ import annotations

import contextlib
import os
import sys
import uuid
import warnings
from collections.abc import Callable, Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from naga.errors import LockError, RepoError
from naga.lock.record import abspath, lock_path_for, main_script, to_plain, utc_now

__all__ = ["RunContext", "current_run", "finish_run", "lock_path_for", "start_run", "to_plain"]

STATUSES = ("completed", "failed", "interrupted")


@dataclass
class RunContext:
    """One run of the user's function, as recorded in its run.lock.

    Attributes:
        lock_path: Where the run.lock goes; ``None`` when the config has no save_dir.
        run_id: uuid4 hex shared by every write of this run.
        started_at: Aware UTC start time.
        command: ``sys.argv`` as the run saw it.
        function: Qualified name of the user's function.
        script: The user's script file.
        launcher: ``None`` | basic | joblib | submitit_local | submitit_slurm.
        extra: Extra top-level facts, e.g. ``{"slurm_job_id": "123"}``.
    """

    lock_path: Path | None
    run_id: str
    started_at: datetime
    command: list[str]
    function: str | None
    script: Path | None
    launcher: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: Every run.lock written during the run (explicit runlock_path= included), so the
    #: final record lands in each of them.
    written: list[Path] = field(default_factory=list, repr=False)
    _token: Token[RunContext | None] | None = field(default=None, repr=False, compare=False)


_CURRENT: ContextVar[RunContext | None] = ContextVar("naga_current_run", default=None)


def _script_of(function: Callable[..., Any] | None) -> Path | None:
    code = getattr(function, "__code__", None)
    filename = getattr(code, "co_filename", None)
    if filename and not filename.startswith("<"):
        path = abspath(filename)
        if path.is_file():
            return path
    return main_script()


def start_run(
    *,
    lock_path: Path | None,
    function: Callable[..., Any] | None = None,
    launcher: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> RunContext:
    """Open a run and make it the current one.

    Args:
        lock_path: Where its run.lock goes (see :func:`lock_path_for`), or ``None``.
        function: The user's function (its qualified name and file are recorded).
        launcher: The launcher running it, ``None`` for a plain single run.
        extra: Extra facts to record, e.g. ``{"slurm_job_id": "123"}``.

    Returns:
        The new current :class:`RunContext`.
    """
    func = getattr(function, "__wrapped__", function)
    ctx = RunContext(
        lock_path=None if lock_path is None else abspath(lock_path),
        run_id=uuid.uuid4().hex,
        started_at=utc_now(),
        command=list(sys.argv),
        function=getattr(func, "__qualname__", None) if func is not None else None,
        script=_script_of(func) if func is not None else main_script(),
        launcher=launcher,
        extra=dict(extra or {}),
    )
    ctx._token = _CURRENT.set(ctx)
    return ctx


def current_run() -> RunContext | None:
    """Return the run opened by :func:`start_run` in this context, or ``None``."""
    return _CURRENT.get()


def _close(ctx: RunContext) -> None:
    token, ctx._token = ctx._token, None
    if token is not None:
        try:
            _CURRENT.reset(token)
            return
        except ValueError:  # finished from another context than it started in
            pass
    if _CURRENT.get() is ctx:
        _CURRENT.set(None)


def _script_repo(ctx: RunContext) -> tuple[str, Path] | None:
    if ctx.script is None:
        return None
    from naga.lock.git import find_repo_root

    try:
        found = find_repo_root(ctx.script)
    except RepoError:
        found = None
    if found is None:
        return None  # a script outside any repository: nothing to track
    root = Path(found)
    key = Path(os.path.relpath(root, Path.cwd())).as_posix()
    return key, root


def finish_run(
    ctx: RunContext,
    *,
    config: Any,
    status: str,
    error: BaseException | None = None,
    track_code: bool = True,
) -> Path | None:
    """Write the final record of a run and close it.

    Records status, end time and duration, the error (type, message, traceback), the
    resolved config, the environment, the script and, with ``track_code``, the git state
    of the script's repository (unless the run already recorded a repository with the
    same root). Declared data/prevs (resolvers) are included. The record is merged into
    the run's run.lock and into every other run.lock the run wrote.

    Args:
        ctx: The run from :func:`start_run`.
        config: The run's config (resolved when written).
        status: ``completed``, ``failed`` or ``interrupted``.
        error: The exception that ended the run, if any.
        track_code: Record the git state of the script's repository.

    Returns:
        The run.lock path, or ``None`` when the run has no run.lock.

    Raises:
        LockError: Writing failed and the run itself succeeded. After a user exception
            nothing is raised: a warning is issued so the user's exception propagates.
    """
    if status not in STATUSES:
        _close(ctx)
        raise LockError(
            f"finish_run(status={status!r}) is not a valid status; "
            f"use one of {', '.join(STATUSES)}."
        )
    try:
        targets = list(dict.fromkeys([*([ctx.lock_path] if ctx.lock_path else []), *ctx.written]))
        if not targets:
            return None
        from naga.lock._build import Request, build_and_write

        auto = _script_repo(ctx) if track_code else None
        finished = utc_now()
        for target in targets:
            build_and_write(
                Request(
                    lock_path=target,
                    run_id=ctx.run_id,
                    config=config,
                    status=status,
                    started_at=ctx.started_at,
                    finished_at=finished,
                    command=ctx.command,
                    script=ctx.script,
                    function=ctx.function,
                    launcher=ctx.launcher,
                    extra=ctx.extra,
                    error=error,
                    auto_repo=auto,
                )
            )
        return targets[0]
    except Exception as exc:
        if error is None:
            raise
        _warn(f"naga could not write run.lock after the run failed: {exc}")
        return None
    finally:
        _close(ctx)


def _warn(message: str) -> None:
    # Running under -W error must not turn this into a new exception that hides the
    # user's own: fall back to stderr.
    try:
        warnings.warn(message, RuntimeWarning, stacklevel=3)
    except Warning:
        with contextlib.suppress(Exception):
            print(f"warning: {message}", file=sys.stderr)
