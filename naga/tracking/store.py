"""Which MLflow store to talk to, and how to talk to it safely from many processes.

Only imported by code that is about to use MLflow, so importing MLflow here is fine, but
each function still imports it lazily to keep ``naga.tracking`` importable without it.
"""

from __future__ import annotations

import contextlib
import os
import random
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from naga.errors import TrackingError, first_line

if TYPE_CHECKING:
    from mlflow import MlflowClient

T = TypeVar("T")

# Tracking URIs whose store this process has already opened (MLflow caches the store).
_OPENED: set[str] = set()

#: The MLflow logger that reports creating and migrating a SQLite store's schema.
SCHEMA_LOGGER = "mlflow.store.db.utils"

# A brand-new SQLite store runs MLflow's alembic migrations on first use; with several
# processes on one file these race ("table ... already exists", "database is locked").
_TRANSIENT = ("database is locked", "already exists", "unique constraint", "no such table")


def resolve_tracking_uri(tracking_uri: str | None = None) -> str:
    """Return the tracking URI naga will use, making it MLflow's current one.

    An explicit ``tracking_uri`` wins; otherwise MLflow's own resolution applies
    (``mlflow.set_tracking_uri``, ``MLFLOW_TRACKING_URI``, else ``./mlflow.db``). The default
    is spelled so that the installed SQLAlchemy opens ``./mlflow.db`` whatever characters
    the path holds. When MLflow would fall back to the deprecated ``./mlruns`` file store
    (it does so when ``./mlruns`` already holds experiments), naga uses ``./mlflow.db``
    instead and warns, rather than silently writing to a deprecated store.

    Returns:
        The URI, also installed with ``mlflow.set_tracking_uri`` so that ``mlflow.log_*`` calls
        in the ``with`` body go to the same store.
    """
    import mlflow
    from mlflow.tracking._tracking_service import utils as tracking_utils

    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
        return mlflow.get_tracking_uri()
    if tracking_utils.is_tracking_uri_set():
        return mlflow.get_tracking_uri()
    uri = mlflow.get_tracking_uri()
    if not uri.startswith(("file:", "sqlite:")):
        return uri
    # MLflow's default is ./mlflow.db, but it writes the path percent-encoded, which only
    # SQLAlchemy 2.1+ decodes: SQLAlchemy 2.0 (the newest for Python 3.10) would open a
    # second database under a directory literally named "my%20exp". Spell it as the
    # installed SQLAlchemy reads it.
    sqlite_uri = path_to_sqlite_uri(Path("mlflow.db").resolve())
    if uri.startswith("file:"):
        warnings.warn(
            f"MLflow would default to the deprecated file store ({uri}) because ./mlruns holds "
            f"experiments; naga logs to {sqlite_uri} instead. Set MLFLOW_TRACKING_URI="
            f"{uri} to keep using the file store, or migrate it.",
            UserWarning,
            stacklevel=3,
        )
    mlflow.set_tracking_uri(sqlite_uri)
    return sqlite_uri


def path_to_sqlite_uri(path: Path) -> str:
    """The ``sqlite:///`` URI that the installed SQLAlchemy opens as exactly ``path``.

    SQLAlchemy 2.0 takes a URI's path literally, 2.1 percent-decodes it. The plain path
    is preferred whenever SQLAlchemy reads it back unchanged, because MLflow also reads it
    literally (it creates the database's parent directory from the text); otherwise (a
    ``%`` in the path under SQLAlchemy 2.1) SQLAlchemy renders it.
    """
    from sqlalchemy.engine import URL, make_url

    plain = "sqlite:///" + path.as_posix()
    if make_url(plain).database == str(path):
        return plain
    return URL.create("sqlite", database=str(path)).render_as_string(hide_password=False)


def sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite://`` URI, or None for other stores (and in-memory).

    The URI is read by the installed SQLAlchemy, as MLflow's store reads it, so that the
    lock file naga puts beside the database is beside the file MLflow opens.
    """
    if not uri.startswith("sqlite:///"):
        return None
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        path = make_url(uri).database
    except ArgumentError:
        return None
    if not path or path == ":memory:":
        return None
    return Path(path).resolve()


@contextlib.contextmanager
def store_lock(uri: str) -> Iterator[None]:
    """Serialise naga's writers on a SQLite store with a lock file next to the database.

    SQLite has a single writer anyway; the lock only adds ordering, so that schema creation
    and the "who is active" decision never interleave between processes. Other stores are
    not locked here: naga reconciles them after the fact (see mlflow_lock).
    """
    db = sqlite_path(uri)
    if db is None:
        yield
        return
    from filelock import FileLock

    db.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(db) + ".naga-lock"):
        yield


def retry_transient(action: Callable[[], T], *, what: str, attempts: int = 8) -> T:
    """Run ``action``, retrying errors that racing SQLite writers produce.

    Args:
        what: Words for the error message ("open the MLflow store at ...").
        attempts: How many tries before giving up.

    Returns:
        What ``action`` returns.

    Raises:
        TrackingError: The error persisted after all attempts (or was not transient).
    """
    for attempt in range(attempts):
        try:
            return action()
        except Exception as exc:
            text = str(exc).lower()
            transient = any(marker in text for marker in _TRANSIENT)
            if not transient or attempt == attempts - 1:
                raise TrackingError(
                    f"could not {what}: {first_line(exc)}; check the tracking URI "
                    "(--tracking-uri / MLFLOW_TRACKING_URI) and that the store is reachable"
                ) from exc
            time.sleep(0.05 * 2**attempt * (0.5 + random.random()))
    raise AssertionError("unreachable")  # pragma: no cover


def open_client(uri: str) -> MlflowClient:
    """An MlflowClient on ``uri`` whose store exists (schema created) when this returns."""
    from mlflow import MlflowClient

    if uri in _OPENED:  # store already built by this process: no migration can be pending
        return MlflowClient(tracking_uri=uri)
    # Building the client builds the store, which for a new SQLite file runs MLflow's schema
    # migrations: do that under the lock so concurrent first users do not interleave them.
    with store_lock(uri), schema_logs_quiet():
        client = retry_transient(
            lambda: MlflowClient(tracking_uri=uri), what=f"open the MLflow store at {uri}"
        )
    _OPENED.add(uri)
    return client


@contextlib.contextmanager
def schema_logs_quiet() -> Iterator[None]:
    """Keep MLflow's schema-creation INFO lines out of the output, unless asked for.

    On a new SQLite store MLflow logs "Creating initial MLflow database tables..." and
    "Updating database tables" at INFO, and MLflow's own logging setup prints INFO to
    stderr: naga's output would carry them on every first use. Here that one logger is held
    at WARNING while the store is built (its warnings and errors still show). Users who
    asked for MLflow's messages get them: ``MLFLOW_LOGGING_LEVEL`` set, or a level set on
    ``mlflow.store.db.utils`` itself (``naga log -v`` does that).
    """
    import logging

    logger = logging.getLogger(SCHEMA_LOGGER)
    if os.environ.get("MLFLOW_LOGGING_LEVEL") or logger.level != logging.NOTSET:
        yield
        return
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(logging.NOTSET)


def experiment_id(client: MlflowClient, name: str | None, *, parent_experiment: str | None) -> str:
    """Resolve the experiment to log into, creating it by name if needed.

    Order: ``name``; else the experiment of the enclosing MLflow run (nested logging); else
    MLflow's own choice (``mlflow.set_experiment``, ``MLFLOW_EXPERIMENT_NAME``,
    ``MLFLOW_EXPERIMENT_ID``), which ends at the "Default" experiment.
    """
    if name is None and parent_experiment is not None:
        return parent_experiment
    if name is None:
        name = os.environ.get("MLFLOW_EXPERIMENT_NAME") or None
        if name is None:
            from mlflow.tracking import fluent

            chosen = fluent._get_experiment_id()  # MLflow's own default resolution
            return str(chosen) if chosen is not None else "0"
    return get_or_create_experiment(client, name)


def get_or_create_experiment(client: MlflowClient, name: str) -> str:
    """The id of experiment ``name``, created when missing (tolerating a concurrent creator)."""
    from mlflow.exceptions import MlflowException

    for _ in range(3):
        found = client.get_experiment_by_name(name)
        if found is not None:
            if found.lifecycle_stage == "deleted":
                raise TrackingError(
                    f"MLflow experiment '{name}' is deleted; restore it "
                    f"(mlflow experiments restore --experiment-id {found.experiment_id}) "
                    "or choose another experiment name"
                )
            return str(found.experiment_id)
        try:
            with store_lock(client.tracking_uri):
                if client.get_experiment_by_name(name) is None:
                    return str(client.create_experiment(name))
        except MlflowException as exc:
            if "already exists" not in str(exc).lower():
                raise
            # another process created it between our lookup and create: look it up again
    raise TrackingError(
        f"could not create or find MLflow experiment '{name}': neither worked in 3 attempts "
        "(another process may be creating and deleting it); try again or choose another name"
    )


def write_tags(client: MlflowClient, tags_by_run: dict[str, dict[str, str]]) -> None:
    """Set tags on several runs; in one database transaction when the store allows it.

    Marking the new run active and the old one deprecated are two writes, and on a SQLite
    store each write is a commit with its fsyncs: most of what mlflow_lock costs over a
    plain MLflow block. For SQLAlchemy stores (SQLite, PostgreSQL, MySQL) both go in one
    transaction, which also means no reader ever sees two active runs. This uses MLflow's
    store internals (stable since MLflow 1.x); with any other store, or if those internals
    change, it falls back to one public ``log_batch`` per run.
    """
    from mlflow.entities import RunTag

    if not tags_by_run:
        return
    if _write_tags_in_one_transaction(client, tags_by_run):
        return
    for run_id, tags in tags_by_run.items():
        client.log_batch(run_id, tags=[RunTag(k, v) for k, v in tags.items()], synchronous=True)


def _write_tags_in_one_transaction(
    client: MlflowClient, tags_by_run: dict[str, dict[str, str]]
) -> bool:
    from naga.tracking.sql import internals

    parts = internals(client)
    if parts is None:
        return False
    make_session, _sql_run, sql_tag = parts
    with make_session(read_only=False) as session:
        for run_id, tags in tags_by_run.items():
            for key, value in tags.items():
                session.merge(sql_tag(run_uuid=run_id, key=key, value=value))
    return True


@contextlib.contextmanager
def tracking_uri_scope(explicit: str | None) -> Iterator[str]:
    """Resolve the URI; an explicit one applies to this block only and is undone after."""
    if not explicit:
        yield resolve_tracking_uri(None)
        return
    from mlflow.tracking._tracking_service import utils as tracking_utils

    # set_tracking_uri also writes MLFLOW_TRACKING_URI; put both back as they were.
    previous = getattr(tracking_utils, "_tracking_uri", None)
    previous_env = os.environ.get("MLFLOW_TRACKING_URI")
    try:
        yield resolve_tracking_uri(explicit)
    finally:
        import mlflow

        mlflow.set_tracking_uri(previous)  # type: ignore[arg-type]  # None = unset, as MLflow does
        if previous_env is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = previous_env
