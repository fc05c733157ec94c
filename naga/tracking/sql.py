"""The "who is active" decision in one SQL transaction, for MLflow's SQLAlchemy stores.

On a SQLite store each MLflow write is a commit with its fsyncs, and ``search_runs`` loads
whole runs (params, tags, metrics) through the ORM: doing the lookup and both tag writes
(new run active, old run deprecated) as one small transaction is what keeps a
``mlflow_lock`` block near the cost of a plain MLflow block (see bench/bench_mlflow.py). It
is also atomic: no reader ever sees two active runs, or none.

This reaches into MLflow's store internals (``SqlAlchemyStore.ManagedSessionMaker`` and the
``SqlRun``/``SqlTag`` models, unchanged since MLflow 1.x). Anything unexpected makes
:func:`promote_in_transaction` return False *before* writing, and the caller takes the
public-API path instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlflow import MlflowClient

# (start_time, run_id, existing supersedes tag) of each active candidate
Candidate = tuple[int, str, str]
Decide = Callable[[list[Candidate]], dict[str, dict[str, str]]]


def internals(client: MlflowClient) -> tuple[Any, Any, Any] | None:
    """``(ManagedSessionMaker, SqlRun, SqlTag)`` of a SQLAlchemy store, else None."""
    try:
        from mlflow.store.tracking.dbmodels.models import SqlRun, SqlTag
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

        store = client._tracking_client.store
        if not isinstance(store, SqlAlchemyStore):
            return None
        return store.ManagedSessionMaker, SqlRun, SqlTag
    except (ImportError, AttributeError):  # MLflow moved its internals: use the public API
        return None


def promote_in_transaction(
    client: MlflowClient,
    *,
    experiment_id: str,
    logical_id: str,
    me: Candidate,
    tag_keys: tuple[str, str, str],
    decide: Decide,
) -> bool:
    """Find the active runs of ``logical_id``, let ``decide`` rank them, write its tags.

    Args:
        client: A client whose store may be an MLflow SQLAlchemy store.
        experiment_id: Experiment of the logical run.
        logical_id: The ``naga.logical_run_id`` value.
        me: The candidate for the run being promoted (not yet tagged active).
        tag_keys: The keys of the logical id, status and supersedes tags.
        decide: Maps all candidates (``me`` included) to ``{run_id: {tag: value}}``.

    Returns:
        False when the store is not a SQLAlchemy store (nothing was done).
    """
    parts = internals(client)
    if parts is None:
        return False
    make_session, SqlRun, SqlTag = parts
    from sqlalchemy import and_, select
    from sqlalchemy.orm import aliased

    logical_key, status_key, supersedes_key = tag_keys
    by_id, by_status, prior = aliased(SqlTag), aliased(SqlTag), aliased(SqlTag)
    query = (
        select(SqlRun.run_uuid, SqlRun.start_time, prior.value)
        .join(
            by_id,
            and_(
                by_id.run_uuid == SqlRun.run_uuid,
                by_id.key == logical_key,
                by_id.value == logical_id,
            ),
        )
        .join(
            by_status,
            and_(
                by_status.run_uuid == SqlRun.run_uuid,
                by_status.key == status_key,
                by_status.value == "active",
            ),
        )
        .outerjoin(prior, and_(prior.run_uuid == SqlRun.run_uuid, prior.key == supersedes_key))
        .where(SqlRun.experiment_id == int(experiment_id), SqlRun.lifecycle_stage == "active")
    )
    with make_session(read_only=False) as session:
        rows = session.execute(query).all()
        candidates = [(int(start or 0), str(run), str(sup or "")) for run, start, sup in rows]
        candidates = [c for c in candidates if c[1] != me[1]] + [me]
        for run_id, tags in decide(candidates).items():
            for key, value in tags.items():
                session.merge(SqlTag(run_uuid=run_id, key=key, value=value))
    return True
