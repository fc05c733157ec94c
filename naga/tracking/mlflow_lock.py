"""``mlflow_lock``: log a finished run directory to MLflow as one *logical run*.

Every logging is a new MLflow run tagged with the directory's logical id; the newest
successful logging of a completed run carries ``naga.status=active`` and the ones it
replaced become ``deprecated`` (docs/mlflow.md; the rules are in naga.tracking.lifecycle
and naga.tracking.active). Filtering on ``tags."naga.status" = "active"`` therefore shows
one row per directory, and only runs that completed.
"""

from __future__ import annotations

import contextlib
import math
import os
import warnings
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from naga.errors import ConfigError, TrackingError, first_line
from naga.lock.status import FAILED, RUNNING
from naga.tracking.active import (
    STATUS,
    active_runs,
    promote,
)
from naga.tracking.lifecycle import outcome_of
from naga.tracking.receipt import (
    MAX_PARAMS_TAGS_PER_BATCH,
    MAX_TAG_VAL_LENGTH,
    Receipt,
    clip,
    flatten_params,
    lock_tags,
    read_receipt,
    safe_key,
    upstream_dirs,
)
from naga.tracking.store import (
    experiment_id,
    open_client,
    retry_transient,
    sqlite_path,
    store_lock,
    tracking_uri_scope,
)

if TYPE_CHECKING:
    from mlflow import ActiveRun, MlflowClient
    from mlflow.entities import Metric

__all__ = ["active_runs", "mlflow_lock"]

#: Why a logging failed (the first line of the exception its block raised).
LOG_ERROR = "naga.log_error"


@contextlib.contextmanager
def mlflow_lock(
    save_dir: str | os.PathLike[str],
    *,
    experiment: str | None = None,
    run_name: str | None = None,
    tags: Mapping[str, Any] | None = None,
    log_params: bool = True,
    log_artifacts: bool = True,
    tracking_uri: str | None = None,
) -> Iterator[ActiveRun]:
    """Log ``save_dir`` to MLflow as a new run of its logical run; yield the MLflow run.

    On entry a run is started with the directory's tags (``naga.logical_run_id``, git commits
    and dirty flags, data hashes, links to the active runs of upstream stages), its resolved
    config as params and its run.lock as an artifact. Inside the block, ``mlflow.log_*`` calls
    go to that run. On a normal exit, for a run that completed, it becomes the active run of
    the logical run and the previous active one(s) are marked deprecated; for a run that
    failed, was interrupted or was lost it ends FAILED or KILLED with ``naga.status``
    ``failed``/``interrupted``/``lost`` and the previous active run stays active. If the
    block raises, the run ends FAILED with ``naga.status=failed`` and ``naga.log_error``,
    the previous active run stays active and the exception propagates. If an MLflow run is
    already active, the new run is nested under it.

    Args:
        save_dir: The run directory (normally holding a ``run.lock``; without one it is
            still logged, with a warning).
        experiment: MLflow experiment name, created if missing. Default: the enclosing run's
            experiment when nested, else MLflow's choice (``MLFLOW_EXPERIMENT_NAME``,
            ``mlflow.set_experiment``), else "Default".
        run_name: MLflow run name. Default: the directory's name.
        tags: Extra tags for the run (keys must not start with ``naga.``).
        log_params: Log the run.lock's resolved config as params.
        log_artifacts: Log the run.lock file as an artifact.
        tracking_uri: Tracking URI for this block only. Default: MLflow's own resolution
            (``MLFLOW_TRACKING_URI``, else ``sqlite:///mlflow.db``; never the file store).

    Yields:
        The ``mlflow.ActiveRun`` (``run.info.run_id`` is the MLflow run id).

    Raises:
        TrackingError: ``save_dir`` is missing, its run.lock unreadable, its run still
            running (nothing is logged), or MLflow failed.
        ConfigError: ``tags`` uses the reserved ``naga.`` prefix.
    """
    extra = _user_tags(tags)
    receipt = read_receipt(save_dir)
    outcome = outcome_of(receipt)
    for message in receipt.warnings:
        warnings.warn(message, UserWarning, stacklevel=3)

    with tracking_uri_scope(tracking_uri) as uri:
        client = open_client(uri)
        active, later_tags = _start_run(
            client, uri, receipt, extra, experiment=experiment, run_name=run_name
        )
        run_id = active.info.run_id
        try:
            _log_receipt(
                client,
                run_id,
                receipt,
                later_tags,
                log_params=log_params,
                log_artifacts=log_artifacts,
            )
        except BaseException as exc:
            _fail(client, run_id, exc)
            if isinstance(exc, Exception) and not isinstance(exc, TrackingError):
                raise TrackingError(
                    f"could not log '{receipt.save_dir}' to MLflow run {run_id} at {uri}: "
                    f"{first_line(exc)}"
                ) from exc
            raise
        try:
            yield active
        except BaseException as exc:
            _fail(client, run_id, exc)
            raise
        if outcome.can_be_active:
            _make_active(client, uri, active, receipt)
        else:  # logged for the record; the directory's active run stays as it is
            client.set_tag(run_id, STATUS, outcome.naga_status, synchronous=True)
        _end(client, run_id, outcome.mlflow_status)


def _start_run(
    client: MlflowClient,
    uri: str,
    receipt: Receipt,
    extra: dict[str, str],
    *,
    experiment: str | None,
    run_name: str | None,
) -> tuple[ActiveRun, dict[str, str]]:
    """Start the MLflow run of ``receipt`` (nested under an active run, if any).

    Returns:
        The active run and the tags that did not fit into its creation.
    """
    import mlflow

    parent = mlflow.active_run()
    parent_run_id = None
    if parent is None and os.environ.get("MLFLOW_RUN_ID"):
        # Launched by `mlflow run`: nest under that run instead of resuming it.
        parent_run_id = os.environ.pop("MLFLOW_RUN_ID")
    exp_id = retry_transient(
        lambda: experiment_id(
            client,
            experiment,
            parent_experiment=parent.info.experiment_id if parent else None,
        ),
        what=f"find MLflow experiment {experiment or '(default)'} at {uri}",
    )
    # Every tag goes into create_run (one transaction) rather than later writes: on a
    # SQLite store each commit is an fsync, and commits are what this block costs.
    tags_now = {
        STATUS: RUNNING,
        **lock_tags(receipt),
        **_upstream_links(client, receipt),
        **extra,
    }
    start_tags, later_tags = _split_tags(tags_now)
    try:
        active = mlflow.start_run(
            experiment_id=exp_id,
            run_name=run_name or receipt.save_dir.name,
            tags=start_tags,
            nested=parent is not None or parent_run_id is not None,
            parent_run_id=parent_run_id,
        )
    except Exception as exc:
        raise TrackingError(
            f"could not start an MLflow run for '{receipt.save_dir}' at {uri}: "
            f"{first_line(exc)}; check the tracking URI and experiment"
        ) from exc
    return active, later_tags


def _make_active(client: MlflowClient, uri: str, active: ActiveRun, receipt: Receipt) -> None:
    """After the block: this run becomes the logical run's active one (or ends FAILED)."""
    run_id = active.info.run_id
    try:
        with store_lock(uri):
            retry_transient(
                lambda: promote(
                    client,
                    active.info,
                    receipt.logical_run_id,
                    serialized=sqlite_path(uri) is not None,
                ),
                what=f"mark MLflow run {run_id} active at {uri}",
            )
    except BaseException as exc:
        # On SQLite the decision is one transaction, so the previous active run is intact.
        _fail(client, run_id, exc)
        raise


def _split_tags(tags: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Tags for create_run (bounded, as servers validate batch sizes) and the overflow."""
    items = list(tags.items())
    limit = MAX_PARAMS_TAGS_PER_BATCH - 10  # room for MLflow's own context tags
    return dict(items[:limit]), dict(items[limit:])


def _user_tags(tags: Mapping[str, Any] | None) -> dict[str, str]:
    extra = {str(k): clip(str(v), MAX_TAG_VAL_LENGTH) for k, v in (tags or {}).items()}
    reserved = sorted(k for k in extra if k.startswith("naga."))
    if reserved:
        raise ConfigError(
            f"tags {reserved} use the 'naga.' prefix, which mlflow_lock reserves for its own "
            "tags; rename them (e.g. 'user.' or no prefix)"
        )
    return extra


def _upstream_links(client: MlflowClient, receipt: Receipt) -> dict[str, str]:
    """``naga.upstream.<n>`` tags pointing at the active runs of the upstream stages."""
    pairs = upstream_dirs(receipt)
    if not pairs:
        return {}
    from mlflow.entities import ViewType

    # Upstream stages are often logged to other experiments (prepare vs train): search all.
    experiments = [
        e.experiment_id for e in client.search_experiments(view_type=ViewType.ACTIVE_ONLY)
    ]
    links: dict[str, str] = {}
    for _lock_run_id, logical in pairs:
        found = active_runs(client, experiments, logical)
        if found:
            links[f"naga.upstream.{len(links)}"] = found[0].info.run_id
    return links


def _log_receipt(
    client: MlflowClient,
    run_id: str,
    receipt: Receipt,
    tags: dict[str, str],
    *,
    log_params: bool,
    log_artifacts: bool,
) -> None:
    from mlflow.entities import Param, RunTag

    params = flatten_params(receipt.lock.get("config")) if log_params and receipt.lock else {}
    param_items = [Param(k, v) for k, v in params.items()]
    tag_items = [RunTag(k, v) for k, v in tags.items()]
    metric_items = _metrics(receipt)
    # One log_batch carries up to 100 params, 100 tags and (within MLflow's 1,000 entities)
    # 800 metrics: the usual receipt is one call.
    step, metric_step = MAX_PARAMS_TAGS_PER_BATCH, _METRICS_PER_BATCH
    batches = max(
        math.ceil(len(param_items) / step),
        math.ceil(len(tag_items) / step),
        math.ceil(len(metric_items) / metric_step),
    )
    for n in range(batches):
        client.log_batch(
            run_id,
            params=param_items[n * step : (n + 1) * step],
            tags=tag_items[n * step : (n + 1) * step],
            metrics=metric_items[n * metric_step : (n + 1) * metric_step],
            synchronous=True,
        )
    if log_artifacts and receipt.lock is not None:
        client.log_artifact(run_id, str(receipt.save_dir / "run.lock"))


_METRICS_PER_BATCH = 800  # MLflow's log_batch takes 1,000 entities, 200 of them params/tags


def _metrics(receipt: Receipt) -> list[Metric]:
    """The receipt's ``metrics`` section as MLflow metrics (step 0, at the run's end time).

    nan and inf are logged as they are (MLflow stores them). A value that is not a number
    can only come from a hand-edited run.lock; it is named in a warning, not logged.
    """
    from datetime import datetime, timezone

    from mlflow.entities import Metric

    from naga.lock.metrics import number_or_none

    section = (receipt.lock or {}).get("metrics")
    if not isinstance(section, Mapping) or not section:
        return []
    when = (receipt.lock or {}).get("finished_at") or (receipt.lock or {}).get("written_at")
    try:
        moment = datetime.fromisoformat(str(when))
    except ValueError:
        moment = datetime.now(timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    stamp = int(moment.timestamp() * 1000)
    items, refused = [], []
    for key, value in section.items():
        number = number_or_none(value)
        if number is None:
            refused.append(str(key))
        else:
            items.append(Metric(safe_key(str(key)), float(number), stamp, 0))
    if refused:
        warnings.warn(
            f"{receipt.save_dir / 'run.lock'}: metrics {', '.join(refused)} are not numbers "
            "and were not logged to MLflow; run.lock records numbers only (was it edited?)",
            UserWarning,
            stacklevel=4,
        )
    return items


def _fail(client: MlflowClient, run_id: str, exc: BaseException) -> None:
    """End the run as FAILED (KILLED on Ctrl-C) without masking the original exception."""
    from mlflow.entities import RunTag

    status = "KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED"
    kind = type(exc).__name__
    why = clip(f"{kind}: {first_line(exc)}" if str(exc).strip() else kind, MAX_TAG_VAL_LENGTH)
    try:
        tags = [RunTag(STATUS, FAILED), RunTag(LOG_ERROR, why)]
        client.log_batch(run_id, tags=tags, synchronous=True)
    except Exception as tag_exc:  # the store itself may be what failed; keep the real error
        warnings.warn(
            f"could not tag MLflow run {run_id} as failed: {first_line(tag_exc)}",
            UserWarning,
            stacklevel=4,
        )
    _end(client, run_id, status)


def _end(client: MlflowClient, run_id: str, status: str) -> None:
    import mlflow

    current = mlflow.active_run()
    if current is not None and current.info.run_id == run_id:
        mlflow.end_run(status)
    else:
        # The block ended our run itself (or left another run on top): terminate by id so
        # the enclosing runs on MLflow's stack are left alone.
        with contextlib.suppress(Exception):
            client.set_terminated(run_id, status)
