"""Termination signals during a run: record the run as ``interrupted``, then stop.

docs/run-lock.md ("Signals") has the behaviour. Inside a Slurm job a SIGTERM may mean a
requeue: one ``scontrol`` call of 1 s at most (:func:`naga.lock.slurm.requeued_now`; KillWait
is 30 s by default, 2 s on naga's test cluster) decides between ``requeued``
(:class:`Requeued`) and ``interrupted`` (:class:`Interrupted`, a ``SystemExit`` of
``128 + signum``). Only default (or submitit's) handlers are replaced; a signal arriving
during a run.lock write waits for it (:func:`critical`), so the handler never meets a
half-held file lock.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

__all__ = [
    "HANDLED",
    "Interrupted",
    "Requeued",
    "SignalGuard",
    "critical",
    "requeued",
    "signal_name",
]

#: The signals a run is recorded as interrupted by.
HANDLED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2)

#: Called from the handler (main thread) before the run is stopped, with the signal number,
#: the frame it arrived in and the exception about to stop the run (:class:`Requeued` when
#: Slurm will run the job again); set by naga.lock.session.
Recorder = Callable[[int, FrameType | None, "Interrupted"], None]


class Interrupted(SystemExit):
    """The run received a termination signal; exits with ``128 + signum``."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signum = signum

    def __str__(self) -> str:
        return f"the run received {signal_name(self.signum)} and stopped"


class Requeued(Interrupted):
    """The batch system put the run back in its queue; its next attempt continues the run.

    Raised by the requeue hook (:data:`requeue_hook`) once submitit's checkpoint handler
    has requeued the Slurm job (no ``reason``), or by the handler when Slurm itself
    requeued it (``reason``: ``preempted``, ``scontrol requeue``, ``node failure``, see
    :func:`naga.lock.slurm.requeued_now`); the run is recorded ``requeued`` and the
    process stops.
    """

    def __init__(self, signum: int, *, reason: str | None = None) -> None:
        super().__init__(signum)
        self.reason = reason

    def __str__(self) -> str:
        said = f"the run received {signal_name(self.signum)} and was requeued"
        return f"{said} by Slurm ({self.reason})" if self.reason else said


def signal_name(signum: int) -> str:
    """``SIGTERM`` for 15, and so on."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


_state = threading.local()
_pending: list[int] = []
#: The :class:`Requeued` that stopped a run in this process, once one did.
_requeued: list[Requeued] = []


def requeued() -> Requeued | None:
    """The :class:`Requeued` that stopped a run of this process, or ``None``."""
    return _requeued[-1] if _requeued else None


def note_requeued(exc: Requeued) -> None:
    """Remember that ``exc`` stopped a run of this process (see :func:`requeued`)."""
    _requeued.append(exc)


@contextlib.contextmanager
def critical() -> Iterator[None]:
    """Hold back naga's signal handler while a run.lock is being written."""
    depth = getattr(_state, "depth", 0)
    _state.depth = depth + 1
    try:
        yield
    finally:
        _state.depth = depth
        if depth == 0 and _pending and threading.current_thread() is threading.main_thread():
            signum = _pending.pop()
            _pending.clear()
            _GUARD_HANDLER(signum, None)


def _is_ours_to_replace(handler: Any) -> bool:
    if handler in (signal.SIG_DFL, signal.default_int_handler) or handler is _GUARD_HANDLER:
        return True
    # submitit's job environment ignores SIGTERM ("bypassing"), which under Slurm means a
    # SIGKILL a few seconds later and no receipt: take it over while a run is open.
    owner = getattr(handler, "__module__", "") or ""
    return owner.startswith("submitit")


_recorder: Recorder | None = None
#: The handler naga's replaced, per signal, while a run is open.
_replaced: dict[int, Any] = {}
#: Asked first, with the handler naga replaced, when a signal arrives during a run; set by
#: naga.launch.launchers.submitit.requeue in a submitit job. It requeues the job and raises
#: :class:`Requeued`
#: when the replaced handler is submitit's checkpoint-and-requeue and the job may be
#: requeued; otherwise it returns and the run is recorded interrupted as usual.
requeue_hook: Callable[[int, FrameType | None, Any], None] | None = None


def _handle(signum: int, frame: FrameType | None) -> None:
    if getattr(_state, "depth", 0):
        _pending.append(signum)
        return
    if requeue_hook is not None and signum in _replaced:
        requeue_hook(signum, frame, _replaced[signum])
    stop = _stop_for(signum)
    if _recorder is not None:
        _recorder(signum, frame, stop)
    if isinstance(stop, Requeued):
        note_requeued(stop)
    elif signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise stop


def _stop_for(signum: int) -> Interrupted:
    """What stops the run: :class:`Requeued` when Slurm will run the job again."""
    if signum == signal.SIGTERM:
        from naga.lock.slurm import requeued_now

        reason = requeued_now()
        if reason is not None:
            return Requeued(signum, reason=reason)
    return Interrupted(signum)


_GUARD_HANDLER = _handle


class SignalGuard:
    """Puts naga's handler in place of the default ones, and puts theirs back."""

    def __init__(self) -> None:
        self._saved: dict[int, Any] = {}

    def install(self, recorder: Recorder) -> None:
        """Handle :data:`HANDLED` (main thread only; elsewhere Python forbids it)."""
        global _recorder
        if threading.current_thread() is not threading.main_thread():
            return
        _recorder = recorder
        for signum in HANDLED:
            try:
                current = signal.getsignal(signum)
            except (OSError, ValueError):  # pragma: no cover - platform without it
                continue
            if _is_ours_to_replace(current):
                self._saved[signum] = current
                if current is not _handle:
                    _replaced[signum] = current
                signal.signal(signum, _handle)

    def restore(self) -> None:
        """Put back the handlers :meth:`install` replaced."""
        if threading.current_thread() is not threading.main_thread():
            return
        for signum, handler in self._saved.items():
            with contextlib.suppress(OSError, ValueError, TypeError):
                signal.signal(signum, handler)
            if handler is not _handle:
                _replaced.pop(signum, None)
        self._saved.clear()
