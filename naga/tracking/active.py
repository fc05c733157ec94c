"""Which logging of a directory is its active one: the newest logging of a completed run.

Every logging of a completed run is a candidate; candidates are ranked by start time, then
run id, so every process ranking the same runs picks the same winner; the others become
``deprecated`` (naga.tracking.mlflow_lock decides *when* a logging is a candidate, this
module who wins). On SQLite the decision is one transaction (naga.tracking.sql); on a
tracking server each finishing logger marks itself active first and then reconciles.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from naga.tracking.receipt import MAX_TAG_VAL_LENGTH, clip
from naga.tracking.sql import Candidate, promote_in_transaction
from naga.tracking.store import write_tags

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import Run, RunInfo

__all__ = ["LOGICAL", "STATUS", "SUPERSEDED_BY", "SUPERSEDES", "active_runs", "decide", "promote"]

STATUS = "naga.status"
LOGICAL = "naga.logical_run_id"
SUPERSEDES = "naga.supersedes"
SUPERSEDED_BY = "naga.superseded_by"


def active_runs(client: MlflowClient, experiment_ids: list[str], logical_id: str) -> list[Run]:
    """The runs tagged ``naga.status=active`` for one logical id, newest first.

    "Newest" is the order naga's reconciliation uses: start time, then run id, so every
    process comparing the same runs agrees on which one wins.

    Args:
        experiment_ids: Experiments to search.
        logical_id: The ``naga.logical_run_id`` value.

    Returns:
        Matching runs (excluding deleted ones), newest first.
    """
    from mlflow.entities import ViewType

    quoted = _quote(logical_id)
    parts = [f"tags.`{STATUS}` = 'active'"]
    if quoted is not None:
        parts.append(f"tags.`{LOGICAL}` = {quoted}")
    found = client.search_runs(
        experiment_ids,
        filter_string=" and ".join(parts),
        run_view_type=ViewType.ACTIVE_ONLY,
        max_results=1000,
    )
    # A logical id holding both quote kinds cannot be put in a filter: match it here instead.
    runs = [run for run in found if run.data.tags.get(LOGICAL) == logical_id]
    return sorted(runs, key=_newness, reverse=True)


def _newness(run: Run) -> tuple[int, str]:
    return (run.info.start_time or 0, run.info.run_id)


def _quote(value: str) -> str | None:
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    return None


def promote(client: MlflowClient, me: RunInfo, logical_id: str, *, serialized: bool) -> None:
    """Make the newest active run of ``logical_id`` the only active one.

    With ``serialized`` (a SQLite store, whose lock file the caller holds) nobody else
    decides meanwhile: one lookup, then the new run's and the old runs' tags in one write.
    Otherwise (a tracking server) this run is marked active *before* searching: when several
    loggers finish at once the last one to search sees every candidate, and since all rank
    candidates the same way they converge on one winner whatever the interleaving.
    """
    run_id = me.run_id
    mine: Candidate = (me.start_time or 0, run_id, "")
    if serialized and promote_in_transaction(
        client,
        experiment_id=me.experiment_id,
        logical_id=logical_id,
        me=mine,
        tag_keys=(LOGICAL, STATUS, SUPERSEDES),
        decide=lambda candidates: decide(candidates, run_id, mark_self=True),
    ):
        return
    if not serialized:
        client.set_tag(run_id, STATUS, "active", synchronous=True)
    candidates = [
        (r.info.start_time or 0, r.info.run_id, r.data.tags.get(SUPERSEDES, ""))
        for r in active_runs(client, [me.experiment_id], logical_id)
        if r.info.run_id != run_id
    ]
    write_tags(client, decide([*candidates, mine], run_id, mark_self=serialized))


def decide(
    candidates: list[Candidate], run_id: str, *, mark_self: bool
) -> dict[str, dict[str, str]]:
    """The tag writes that leave only the newest candidate active.

    Candidates are ranked by start time, then run id: deterministic, so every process
    ranking the same runs picks the same winner. ``mark_self`` adds this run's own
    ``naga.status=active`` (when it was not written before the lookup).
    """
    ranked = sorted(candidates, key=lambda c: (c[0], c[1]), reverse=True)
    _, winner_id, winner_supersedes = ranked[0]
    loser_ids = [c[1] for c in ranked[1:]]
    writes: dict[str, dict[str, str]] = {}
    if mark_self:
        writes[run_id] = {STATUS: "active"}
    for loser in loser_ids:
        writes.setdefault(loser, {}).update({STATUS: "deprecated", SUPERSEDED_BY: winner_id})
    if loser_ids:
        replaced = [r for r in winner_supersedes.split(",") if r]
        replaced += [r for r in loser_ids if r not in replaced]
        writes.setdefault(winner_id, {})[SUPERSEDES] = clip(",".join(replaced), MAX_TAG_VAL_LENGTH)
    return writes
