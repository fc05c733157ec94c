"""Requeue on preemption and time limits, through submitit's checkpoint mechanism.

submitit handles SIGUSR2 with ``checkpoint_and_try_requeue`` (the array element resubmits
itself, a time limit counts against ``max_num_timeout``). naga's signal handler first calls
:func:`_chain`, which hands the signal to submitit's handler with SIGTERM held off (Slurm's
requeue sends one); if the job was requeued it raises ``Requeued`` (the run.lock says
``requeued``; the next attempt continues the run), else the run is recorded ``interrupted``.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from types import FrameType

from naga.lock.status import COMPLETED, FAILED

__all__ = ["finished_earlier", "install"]

_SUBMITIT_HANDLER = "checkpoint_and_try_requeue"


def install() -> None:
    """Let naga's signal handler chain to submitit's requeue in this (job) process."""
    from naga.lock import interrupt

    interrupt.requeue_hook = _chain


def finished_earlier(save_dir: Path) -> bool:
    """True when an earlier attempt of this Slurm job already ran the job in ``save_dir``.

    An array element runs several jobs; when it is requeued, those that completed or
    failed in an earlier attempt are not run again.
    """
    job = os.environ.get("SLURM_JOB_ID")
    if not job or not os.environ.get("SLURM_RESTART_COUNT"):
        return False
    from naga.lock.format import LOCK_NAME, try_read

    old = try_read(save_dir / LOCK_NAME, head=True)
    return bool(
        old and str(old.get("slurm_job_id")) == job and old.get("status") in (COMPLETED, FAILED)
    )


def _chain(signum: int, frame: FrameType | None, previous: object) -> None:
    if getattr(previous, "__name__", "") != _SUBMITIT_HANDLER or not callable(previous):
        return
    from naga.lock.interrupt import Requeued, note_requeued, signal_name
    from naga.lock.session import current_run

    ctx = current_run()
    if ctx is None or ctx.interrupted:
        return
    # While submitit checkpoints and requeues, a second signal (the SIGTERM of Slurm's own
    # requeue) must not stop the run as interrupted: naga's recorder skips a run that
    # already has a signal, and SIGTERM is ignored until the process ends.
    ctx.interrupted = signal_name(signum)
    held = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        previous(signum, frame)
    except SystemExit:  # submitit requeued the job and exits
        exc = Requeued(signum)
        note_requeued(exc)
        raise exc from None
    except Exception:  # not requeued (budget spent, no checkpoint): recorded interrupted
        pass
    ctx.interrupted = None
    signal.signal(signal.SIGTERM, held)
