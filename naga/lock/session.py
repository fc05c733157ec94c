"""The current run: opened by clicfg/launchers around the user's function, closed with its record.

A run's life on disk is in docs/run-lock.md ("Statuses"): :func:`start_run` makes a
:class:`RunContext` current (a ``ContextVar``, so threads and asyncio tasks see their own
run) and writes ``running``; ``runlock()`` calls merge into it; :func:`finish_run` writes
the final record.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
import uuid
import warnings
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

from naga.errors import LockError, RepoError
from naga.lock.interrupt import SignalGuard, signal_name
from naga.lock.origin import Origin, origin_of, repo_root_of, user_command
from naga.lock.record import abspath, lock_path_for, to_plain, utc_now
from naga.lock.status import COMPLETED, ENDED, INTERRUPTED, REQUEUED, RUNNING

__all__ = ["RunContext", "current_run", "finish_run", "lock_path_for", "start_run", "to_plain"]

_NO_CONFIG: Any = object()


@dataclass
class RunContext:
    """One run of the user's function, as recorded in its run.lock.

    Attributes:
        lock_path: Where the run.lock goes; ``None`` when the config has no save_dir.
        run_id: uuid4 hex shared by every write of this run.
        started_at: Aware UTC start time.
        command: The command line as the user typed it (naga.lock.origin.user_command).
        origin: The user's code (file, function), decided where the run was launched.
        launcher: ``None`` | basic | joblib | submitit_local | submitit_slurm.
        extra: Extra top-level facts, e.g. ``{"sweep": {...}}``.
        config: The run's config as given at start (written with every record).
        code: ``(key, repos entry)`` of the script's repository, read once at start.
        interrupted: The name of the signal that stopped the run, once one did.
        metrics: Results recorded with the next write (e.g. the function's return value).
        attempts: The attempt of a Slurm job requeued while this run was open (1 at first).
    """

    lock_path: Path | None
    run_id: str
    started_at: datetime
    command: list[str]
    origin: Origin
    launcher: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    config: Any = field(default=_NO_CONFIG, repr=False)
    code: tuple[str, dict[str, Any]] | None = field(default=None, repr=False)
    interrupted: str | None = None
    metrics: dict[str, int | float] = field(default_factory=dict)
    attempts: int = 1
    #: Every run.lock written during the run (explicit runlock_path= included), so the
    #: final record lands in each of them.
    written: list[Path] = field(default_factory=list, repr=False)
    _token: Token[RunContext | None] | None = field(default=None, repr=False, compare=False)
    _signals: SignalGuard = field(default_factory=SignalGuard, repr=False, compare=False)

    @property
    def script(self) -> Path | None:
        """The user's script file."""
        return self.origin.script

    @property
    def function(self) -> str | None:
        """Qualified name of the user's function."""
        return self.origin.function


_CURRENT: ContextVar[RunContext | None] = ContextVar("naga_current_run", default=None)


def start_run(
    *,
    lock_path: Path | str | None,
    function: Callable[..., Any] | None = None,
    origin: Origin | None = None,
    config: Any = _NO_CONFIG,
    launcher: str | None = None,
    extra: Mapping[str, Any] | None = None,
    track_code: bool = False,
    code: tuple[str, dict[str, Any]] | None = None,
    command: Sequence[str] | None = None,
) -> RunContext:
    """Open a run, make it the current one and write its ``running`` receipt.

    Args:
        lock_path: Where its run.lock goes (see :func:`lock_path_for`), or ``None``.
        function: The user's function (its qualified name and file are recorded).
        origin: The user's code as seen where the run was launched; overrides
            ``function``'s (a launcher's worker cannot see it, see :mod:`naga.lock.origin`).
        config: The run's config, recorded from the first write on.
        launcher: The launcher running it, ``None`` for a plain single run.
        extra: Extra facts to record, e.g. ``{"sweep": {...}}``.
        track_code: Read the git state of the script's repository now, at start.
        code: The script repository's ``(key, repos entry)`` already read where the run
            was launched (a sweep that isolates the submitted code); recorded instead of
            reading the work tree now.
        command: The command line as typed where the run was launched (a launcher's
            worker sees its bootstrap in ``sys.argv``); default: this process's.

    Returns:
        The new current :class:`RunContext`.

    Raises:
        BusyError: The run.lock at ``lock_path`` belongs to a run that is still running.
        LockError: The receipt cannot be written (nothing ran yet).
    """
    ctx = RunContext(
        lock_path=None if lock_path is None else abspath(lock_path),
        run_id=uuid.uuid4().hex,
        started_at=utc_now(),
        command=list(command) if command is not None else user_command(),
        origin=origin if origin is not None else origin_of(function),
        launcher=launcher,
        extra=dict(extra or {}),
        config=config,
    )
    if ctx.lock_path is not None:
        from naga.lock.attempts import continued_attempt

        # A requeued Slurm job's next attempt continues the run its last attempt started.
        continued = continued_attempt(ctx.lock_path)
        if continued is not None:
            ctx.run_id, ctx.attempts = continued
    ctx._token = _CURRENT.set(ctx)
    ctx._signals.install(_record_interrupt)
    try:
        if code is not None:
            ctx.code = code
        elif track_code:
            ctx.code = _script_repo(ctx)
        if ctx.lock_path is not None:
            _write(ctx, ctx.lock_path, status=RUNNING, finished=None)
    except BaseException:
        _close(ctx)
        raise
    return ctx


def current_run() -> RunContext | None:
    """Return the run opened by :func:`start_run` in this context, or ``None``."""
    return _CURRENT.get()


def finish_run(
    ctx: RunContext,
    *,
    config: Any = _NO_CONFIG,
    status: str,
    error: BaseException | None = None,
    track_code: bool = True,
) -> Path | None:
    """Write the final record of a run and close it.

    Records status, end time and duration, the error (type, message, traceback; the
    signal's name for an interrupted run), the resolved config and, with ``track_code``,
    the git state of the script's repository as read at start (read now if it was not).
    The record is merged into the run's run.lock and into every other run.lock it wrote.

    Args:
        config: The run's config (resolved when written); default: the one given at start.
        status: ``completed``, ``failed`` or ``interrupted``.
        error: The exception that ended the run, if any.
        track_code: Record the git state of the script's repository.

    Returns:
        The run.lock path, or ``None`` when the run has no run.lock.

    Raises:
        LockError: Writing failed and the run itself succeeded. After a user exception
            nothing is raised: a warning is issued so the user's exception propagates.
    """
    if status not in ENDED:
        _close(ctx)
        raise LockError(
            f"finish_run(status={status!r}) is not a valid status; use one of {', '.join(ENDED)}"
        )
    try:
        if config is not _NO_CONFIG:
            ctx.config = config
        if not track_code:
            ctx.code = None
        elif ctx.code is None:
            ctx.code = _script_repo(ctx)
        targets = _targets(ctx)
        finished = utc_now()
        for target in targets:
            _write(ctx, target, status=status, finished=finished, error=error)
        if status == COMPLETED:
            from naga.lock.writer import drop_previous

            for target in targets:
                drop_previous(target)
        return targets[0] if targets else None
    except Exception as exc:
        if error is None:
            raise
        _warn(f"naga could not write run.lock after the run failed: {exc}")
        return None
    finally:
        _close(ctx)


def _targets(ctx: RunContext) -> list[Path]:
    return list(dict.fromkeys([*([ctx.lock_path] if ctx.lock_path else []), *ctx.written]))


def _write(
    ctx: RunContext,
    target: Path,
    *,
    status: str,
    finished: datetime | None,
    error: BaseException | None = None,
    signal: dict[str, str] | None = None,
) -> None:
    from naga.lock.assemble import UNSET, Request, build_and_write

    build_and_write(
        Request(
            lock_path=target,
            run_id=ctx.run_id,
            config=UNSET if ctx.config is _NO_CONFIG else ctx.config,
            status=status,
            started_at=ctx.started_at,
            finished_at=finished,
            command=ctx.command,
            origin=ctx.origin,
            launcher=ctx.launcher,
            extra=ctx.extra,
            error=error,
            signal=signal,
            auto_repo=ctx.code,
            metrics=ctx.metrics,
            # The start's `running` record is atomic but not waited for on disk: the
            # rename reaches it with the next commit, or with the final write's fsync.
            durable=not (status == RUNNING and finished is None),
            attempts=ctx.attempts if ctx.attempts > 1 else None,
        )
    )


def _record_interrupt(signum: int, frame: FrameType | None, stop: BaseException) -> None:
    """Signal handler's first step: the current run's receipt says ``interrupted``.

    Or ``requeued``, when ``stop`` is naga.lock.interrupt's ``Requeued`` (Slurm will run
    the job again, and its next attempt continues this run).
    """
    from naga.lock.interrupt import Requeued

    ctx = current_run()
    if ctx is None or ctx.interrupted:
        return
    ctx.interrupted = signal_name(signum)
    where = "".join(traceback.format_stack(frame)) if frame is not None else ""
    caught = {"name": ctx.interrupted, "stack": where, "message": str(stop)}
    status = REQUEUED if isinstance(stop, Requeued) else INTERRUPTED
    finished = utc_now()
    for target in _targets(ctx):
        try:
            _write(ctx, target, status=status, finished=finished, signal=caught)
        except Exception as exc:  # the run stops anyway; say why its receipt could not
            _warn(f"naga could not record the interruption in {target}: {exc}")


def _close(ctx: RunContext) -> None:
    ctx._signals.restore()
    token, ctx._token = ctx._token, None
    if token is not None:
        try:
            _CURRENT.reset(token)
            return
        except ValueError:  # finished from another context than it started in
            pass
    if _CURRENT.get() is ctx:
        _CURRENT.set(None)


def _script_repo(ctx: RunContext) -> tuple[str, dict[str, Any]] | None:
    """The git state of the user's repository: the script's, or the notebook's folder's."""
    script = ctx.origin.script
    if script is None and not ctx.origin.notebook:
        return None
    try:
        root = repo_root_of(script) if script is not None else _cwd_repo()
    except RepoError:
        root = None
    if root is None:
        return None  # code outside any repository: nothing to track
    from naga.lock.git import repo_state

    # The key is the root relative to the cwd ("." in the common case), as a user would write it.
    key = Path(os.path.relpath(root, Path.cwd())).as_posix()
    return key, {"path": key, **repo_state(root)}


def _cwd_repo() -> Path | None:
    # A notebook whose front end does not name it runs in the notebook's folder.
    from naga.lock.git import find_repo_root

    return find_repo_root(Path.cwd(), resolve=False)


def _warn(message: str) -> None:
    # Running under -W error must not turn this into a new exception that hides the
    # user's own: fall back to stderr.
    try:
        warnings.warn(message, RuntimeWarning, stacklevel=3)
    except Warning:
        with contextlib.suppress(Exception):
            print(f"warning: {message}", file=sys.stderr)
