"""How a run's life (its run.lock's status) ends the MLflow run that logs it.

Only a completed run can become its directory's ``active`` logging (``FINISHED``); a failed,
interrupted or lost run is logged ``FAILED``/``KILLED`` for the record and replaces
nothing; a run still running (or requeued) is not logged yet, as its receipt will change.
Pure functions over the receipt: no MLflow import.
"""

from __future__ import annotations

from dataclasses import dataclass

from naga.errors import TrackingError
from naga.lock.status import COMPLETED, FAILED, INTERRUPTED, LOST, UNDER_WAY
from naga.tracking.receipt import Receipt

__all__ = ["LIFECYCLE", "Outcome", "outcome_of", "run_status"]


@dataclass(frozen=True)
class Outcome:
    """Where a logging run ends, for one run status.

    Attributes:
        mlflow_status: MLflow's run status at the end (``FINISHED``, ``FAILED``, ``KILLED``).
        naga_status: The ``naga.status`` tag (``active`` once it wins the directory).
    """

    mlflow_status: str
    naga_status: str

    @property
    def can_be_active(self) -> bool:
        """True for a completed run: the only kind that becomes the directory's active run."""
        return self.naga_status == "active"


#: run.lock's status (``lost`` as readers derive it) -> how its logging run ends.
LIFECYCLE: dict[str, Outcome] = {
    COMPLETED: Outcome("FINISHED", "active"),
    FAILED: Outcome("FAILED", FAILED),
    INTERRUPTED: Outcome("KILLED", INTERRUPTED),
    LOST: Outcome("KILLED", LOST),
}
#: A directory without run.lock (mlflow_lock logs it with a warning): nothing says it failed.
NO_RECEIPT = LIFECYCLE[COMPLETED]


def run_status(receipt: Receipt) -> str | None:
    """The run's status as readers show it (``lost`` for a receipt whose process is gone).

    ``None`` when the directory has no run.lock.
    """
    if receipt.lock is None:
        return None
    from naga.lock.liveness import effective_status

    return effective_status(receipt.lock)


def outcome_of(receipt: Receipt) -> Outcome:
    """How the logging of ``receipt`` ends.

    Raises:
        TrackingError: The run is still running (or requeued), or its run.lock records a
            status naga does not know: nothing is logged.
    """
    status = run_status(receipt)
    if status is None:
        return NO_RECEIPT
    outcome = LIFECYCLE.get(status)
    if outcome is not None:
        return outcome
    where = receipt.save_dir / "run.lock"
    if status in UNDER_WAY:
        raise TrackingError(
            f"'{receipt.save_dir}': its run is still {status} ({where} says so and its "
            "process or Slurm job is alive); log it once it has ended"
        )
    raise TrackingError(
        f"{where} records status {status!r}, which is not how a run ends "
        f"({', '.join(LIFECYCLE)}); log a directory whose run has ended, or re-run it"
    )
