"""``naga log DIR...``: log run directories to MLflow as logical runs, in one process.

A directory whose current run.lock is already what its active MLflow run recorded (same
run.lock ``run_id`` and same bytes, via the ``naga.lock_hash`` tag) is skipped unless
``--force``: re-running ``naga log results/*`` after adding one stage logs only that stage.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from naga.errors import NagaError, UsageError

_NO_URL_ENV = "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"
HELP = "log run directories (their run.lock) to MLflow as logical runs"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Declare ``naga log`` and its flags (cheap: no MLflow import)."""
    parser = subparsers.add_parser(
        "log",
        help=HELP,
        description=(
            "Log each run directory to MLflow with mlflow_lock: config as params, run.lock as "
            "an artifact, git/data as tags; the new run becomes the active one of the "
            "directory and the previous one is deprecated. Exit 1 if any directory failed."
        ),
    )
    parser.add_argument("dirs", nargs="+", metavar="DIR", help="run directories (save_dir)")
    parser.add_argument(
        "--experiment",
        "-e",
        help="MLflow experiment name (default: MLFLOW_EXPERIMENT_NAME, else 'Default')",
    )
    parser.add_argument(
        "--tracking-uri",
        help="MLflow tracking URI (default: MLFLOW_TRACKING_URI, else sqlite:///mlflow.db)",
    )
    parser.add_argument(
        "--force",
        "-f",
        action="store_true",
        help="log even directories whose run.lock is already the active logged one",
    )
    parser.add_argument(
        "--tag",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra tag for every logged run (repeatable)",
    )
    parser.add_argument("--no-params", action="store_true", help="do not log the config as params")
    parser.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="also show MLflow's own messages (store creation, migrations, run links)",
    )
    return parser


def _parse_tags(items: list[str]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--tag {item!r} is not KEY=VALUE; write e.g. --tag owner=alice")
        tags[key] = value
    return tags


def run(args: argparse.Namespace) -> int:
    """Log every directory; return 0, or 1 if any directory failed to log."""
    tags = _parse_tags(args.tag)
    dirs = [Path(d) for d in args.dirs]
    # Check every argument before logging anything: a typo should not leave half a batch.
    for directory in dirs:
        if not directory.is_dir():
            what = "is not a directory" if directory.exists() else "does not exist"
            raise UsageError(f"run directory '{directory}' {what}; pass existing save_dirs")

    from naga.tracking._store import (
        experiment_id,
        open_client,
        retry_transient,
        tracking_uri_scope,
    )

    total = len(dirs)
    failed = logged = skipped = 0
    width = len(str(total))
    with _mlflow_messages(verbose=args.verbose), tracking_uri_scope(args.tracking_uri) as uri:
        client = open_client(uri)
        exp_id = retry_transient(
            lambda: experiment_id(client, args.experiment, parent_experiment=None),
            what=f"find MLflow experiment {args.experiment or '(default)'} at {uri}",
        )
        experiment = args.experiment or client.get_experiment(exp_id).name
        for index, directory in enumerate(dirs, 1):
            counter = f"[{index:>{width}}/{total}]"
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                outcome, text = _log_one(
                    directory,
                    client=client,
                    exp_id=exp_id,
                    experiment=experiment,
                    tags=tags,
                    args=args,
                )
            for warning in caught:
                print(f"naga log: warning: {warning.message}", file=sys.stderr)
            if outcome == "failed":
                failed += 1
                print(f"{counter} FAILED {directory}: {text}", file=sys.stderr)
            else:
                logged += outcome == "logged"
                skipped += outcome == "skipped"
                print(f"{counter} {outcome} {directory}{text}")
            sys.stdout.flush()
    print(
        f"naga log: {logged} logged, {skipped} skipped, {failed} failed "
        f"(experiment '{experiment}', {uri})"
    )
    return 1 if failed else 0


@contextlib.contextmanager
def _mlflow_messages(*, verbose: bool) -> Iterator[None]:
    """Only naga's lines by default; MLflow's INFO messages and run links with ``-v``.

    Quiet mode leaves MLflow's warnings and errors alone; schema creation is quietened
    where the store is opened (naga.tracking._store.schema_logs_quiet), for mlflow_lock too.
    """
    import logging

    from naga.tracking._store import SCHEMA_LOGGER

    saved_env = os.environ.get(_NO_URL_ENV)
    loggers = [logging.getLogger(name) for name in ("mlflow", SCHEMA_LOGGER)]
    saved_levels = [logger.level for logger in loggers]
    if verbose:
        import mlflow  # noqa: F401  # sets up MLflow's loggers, which the levels below adjust

        for logger in loggers:
            logger.setLevel(logging.INFO)
    else:
        # MLflow prints "View run ... at: http://..." straight to stdout for tracking servers.
        os.environ[_NO_URL_ENV] = "true"
    try:
        yield
    finally:
        for logger, level in zip(loggers, saved_levels, strict=True):
            logger.setLevel(level)
        if saved_env is None:
            os.environ.pop(_NO_URL_ENV, None)
        else:
            os.environ[_NO_URL_ENV] = saved_env


def _log_one(
    directory: Path,
    *,
    client: Any,
    exp_id: str,
    experiment: str,
    tags: dict[str, str],
    args: argparse.Namespace,
) -> tuple[str, str]:
    """Log one directory; return (outcome, detail) with outcome logged/skipped/failed."""
    from naga.tracking._receipt import read_receipt
    from naga.tracking.mlflow_lock import mlflow_lock

    try:
        receipt = read_receipt(directory)
        unfinished = _unfinished(receipt)
        if unfinished:
            return "skipped", f": {unfinished}; a run is logged once it has ended"
        current = _already_active(client, exp_id, receipt)
        if current is not None and not args.force:
            return "skipped", f": already active as run {current}"
        with mlflow_lock(
            directory, experiment=experiment, tags=tags, log_params=not args.no_params
        ) as active:
            return "logged", f" -> run {active.info.run_id}"
    except NagaError as exc:
        return "failed", str(exc)
    except Exception as exc:  # one bad directory must not stop the batch
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return "failed", f"{type(exc).__name__}: {first}"


def _unfinished(receipt: Any) -> str | None:
    """Why a run.lock must not become the active MLflow run yet (running or lost), or None."""
    from naga.lock.liveness import effective_status

    lock = receipt.lock if isinstance(receipt.lock, dict) else None
    if lock is None:
        return None
    status = effective_status(lock)
    if status == "running":
        return "the run is still running"
    if status == "lost":
        return "the run was lost (its receipt says running but the process is gone)"
    return None


def _already_active(client: Any, exp_id: str, receipt: Any) -> str | None:
    """The run id of the active run that logged exactly this run.lock, if there is one."""
    from naga.tracking.mlflow_lock import active_runs

    if receipt.lock_hash is None:
        return None  # nothing to compare: a directory without run.lock is always logged
    for run in active_runs(client, [exp_id], receipt.logical_run_id):
        tags = run.data.tags
        if (
            tags.get("naga.lock_hash") == receipt.lock_hash
            and tags.get("naga.lock_run_id") == receipt.lock_run_id
        ):
            return str(run.info.run_id)
    return None
