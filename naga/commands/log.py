"""``naga log DIR...``: log run directories to MLflow as logical runs, in one process.

Each run is logged by its status (naga.tracking.lifecycle); a DIR without a run.lock of its
own stands for the runs below it. A run.lock already logged (same ``run_id`` and bytes, via
the ``naga.lock_hash`` tag, and the same outcome) is skipped unless ``--force``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
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
            "an artifact, git/data as tags. A completed run becomes the active one of its "
            "directory (the previous one is deprecated); a failed, interrupted or lost run is "
            "logged FAILED or KILLED and never active; a running one is skipped. A DIR "
            "without run.lock stands for the runs below it. Exit 1 if any run failed to log."
        ),
    )
    parser.add_argument(
        "dirs",
        nargs="+",
        metavar="DIR",
        help="run directories (save_dir), or folders holding runs (a sweep, results/)",
    )
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

    from naga.tracking.store import (
        experiment_id,
        open_client,
        retry_transient,
        tracking_uri_scope,
    )

    runs = _runs_of(dirs)
    total = len(runs)
    failed = logged = skipped = 0
    width = len(str(total))
    with _mlflow_messages(verbose=args.verbose), tracking_uri_scope(args.tracking_uri) as uri:
        client = open_client(uri)
        exp_id = retry_transient(
            lambda: experiment_id(client, args.experiment, parent_experiment=None),
            what=f"find MLflow experiment {args.experiment or '(default)'} at {uri}",
        )
        experiment = args.experiment or client.get_experiment(exp_id).name
        for index, target in enumerate(runs, 1):
            if target.note:
                print(target.note)
            counter = f"[{index:>{width}}/{total}]"
            if target.run is None:
                skipped += 1
                print(f"{counter} skipped {target.shown}: no run.lock here or below; not a run")
                continue
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                outcome, text = _log_one(
                    target.run,
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
                print(f"{counter} FAILED {target.shown}: {text}", file=sys.stderr)
            else:
                logged += outcome == "logged"
                skipped += outcome == "skipped"
                print(f"{counter} {outcome} {target.shown}{text}")
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
    where the store is opened (naga.tracking.store.schema_logs_quiet), for mlflow_lock too.
    """
    import logging

    from naga.tracking.store import SCHEMA_LOGGER

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


@dataclass(frozen=True)
class _Target:
    """One numbered line of ``naga log``: a run directory, or a folder with no run below."""

    shown: str  # as printed: as given, or relative to the working directory
    run: Path | None  # None: no run.lock here or anywhere below
    note: str | None = None  # printed before it (a folder standing for its runs)


def _runs_of(dirs: list[Path]) -> list[_Target]:
    """The runs to log, in the order given.

    A directory holding a run.lock is a run. One without is not (logging it would make an
    empty MLflow run, and an active one): the runs below it stand for it, after a note
    saying so; with none below, it is one line reported skipped.
    """
    from naga.lock.format import LOCK_NAME
    from naga.results.locks import display_path, find_lock_files

    out: list[_Target] = []
    for directory in dirs:
        if (directory / LOCK_NAME).is_file():
            out.append(_Target(str(directory), directory))
            continue
        below = [Path(path).parent for path, _, _ in find_lock_files([directory])[0]]
        shown = display_path(directory) if directory.is_absolute() else str(directory)
        if not below:
            out.append(_Target(shown, None))
            continue
        runs = f"{len(below)} run{'s' if len(below) != 1 else ''}"
        note = f"naga log: {shown} holds no run.lock of its own; logging the {runs} below it"
        base = Path.cwd()
        for number, run in enumerate(below):
            given = _as_given(run, base)
            out.append(_Target(str(given), given, note if number == 0 else None))
    return out


def _as_given(path: Path, base: Path) -> Path:
    """``path`` relative to the working directory when below it (as the user would type it)."""
    try:
        return path.relative_to(base)
    except ValueError:
        return path


def _log_one(
    directory: Path,
    *,
    client: Any,
    exp_id: str,
    experiment: str,
    tags: dict[str, str],
    args: argparse.Namespace,
) -> tuple[str, str]:
    """Log one run directory; return (outcome, detail) with outcome logged/skipped/failed."""
    from naga.lock.status import UNDER_WAY
    from naga.tracking.lifecycle import outcome_of, run_status
    from naga.tracking.mlflow_lock import mlflow_lock
    from naga.tracking.receipt import read_receipt

    try:
        receipt = read_receipt(directory)
        status = run_status(receipt)
        if status in UNDER_WAY:
            return "skipped", f": the run is still {status}; a run is logged once it has ended"
        outcome = outcome_of(receipt)
        current = _already_logged(client, exp_id, receipt, outcome.naga_status)
        if current is not None and not args.force:
            state = "active" if outcome.can_be_active else f"{outcome.naga_status}"
            return "skipped", f": already logged as run {current} ({state})"
        with mlflow_lock(
            directory, experiment=experiment, tags=tags, log_params=not args.no_params
        ) as active:
            run_id = active.info.run_id
        if outcome.can_be_active:
            return "logged", f" -> run {run_id}"
        return "logged", (
            f" -> run {run_id} ({status}: MLflow {outcome.mlflow_status}, never active)"
        )
    except NagaError as exc:
        return "failed", str(exc)
    except Exception as exc:  # one bad directory must not stop the batch
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return "failed", f"{type(exc).__name__}: {first}"


def _already_logged(client: Any, exp_id: str, receipt: Any, naga_status: str) -> str | None:
    """The run id of a logging of exactly this run.lock that still stands, if any.

    For a completed run: the directory's active run, when it logged this run.lock. For
    the others: a logging of this run.lock that ended as the run did (not one whose own
    block failed, ``naga.log_error``).
    """
    from mlflow.entities import ViewType

    from naga.tracking.active import LOGICAL, STATUS, active_runs
    from naga.tracking.mlflow_lock import LOG_ERROR

    if receipt.lock_hash is None:
        return None
    if naga_status == "active":
        found = active_runs(client, [exp_id], receipt.logical_run_id)
    else:
        found = [
            run
            for run in client.search_runs(
                [exp_id],
                filter_string=f"tags.`{STATUS}` = '{naga_status}'",
                run_view_type=ViewType.ACTIVE_ONLY,
                max_results=1000,
            )
            if run.data.tags.get(LOGICAL) == receipt.logical_run_id
            and LOG_ERROR not in run.data.tags
        ]
    for run in found:
        tags = run.data.tags
        if (
            tags.get("naga.lock_hash") == receipt.lock_hash
            and tags.get("naga.lock_run_id") == receipt.lock_run_id
        ):
            return str(run.info.run_id)
    return None
