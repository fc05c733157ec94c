"""Requeue on preemption and time limits, through submitit's checkpoint mechanism.

submitit submits every Slurm job with ``--signal=USR2@<signal_delay_s>`` and, in the job,
handles SIGUSR2 with ``checkpoint_and_try_requeue``: it asks the submitted callable for a
checkpoint (naga's array element, :class:`naga.launch.launchers.submitit.arrays.Element`, resubmits
itself),
counts a time limit against ``max_num_timeout`` (a preemption is free), and then either
requeues the job (``scontrol requeue``) and exits, or raises ``UncompletedJobError`` when
the budget is spent. While a run is open naga's own signal handler is in place (so that
the receipt says what happened); for SIGUSR2 it first calls :func:`_chain`, which

1. hands the signal to submitit's handler, holding off other signals meanwhile (Slurm's
   requeue itself sends SIGTERM to the job);
2. if the job was requeued, raises :class:`~naga.lock.interrupt.Requeued`: the run.lock
   says ``requeued`` and the process stops; the next attempt continues the same run
   (naga.lock.attempts: same ``run_id``, ``attempts`` + 1);
3. otherwise returns, and the run is recorded ``interrupted`` as for any other signal.

Slurm's own requeue (preemption with ``PreemptMode=REQUEUE``, which sends SIGTERM) is told
apart in naga.lock.interrupt; :func:`requeued` reports either kind, so an array element stops
after the job that was requeued.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from types import FrameType

from naga.lock.status import COMPLETED, FAILED

__all__ = ["finished_earlier", "install", "requeued"]

_SUBMITIT_HANDLER = "checkpoint_and_try_requeue"


def install() -> None:
    """Let naga's signal handler chain to submitit's requeue in this (job) process."""
    from naga.lock import interrupt

    interrupt.requeue_hook = _chain


def requeued() -> BaseException | None:
    """The :class:`Requeued` exception once this job was requeued, else ``None``.

    Requeued through submitit's checkpoint (below), or by Slurm itself (a preemption's
    SIGTERM, naga.lock.interrupt).
    """
    from naga.lock.interrupt import requeued as stopped_by

    return stopped_by()


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
