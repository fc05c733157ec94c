"""``runlock()``: write (or merge into) the run.lock, the receipt of a run."""

from __future__ import annotations

import sys
import threading
import uuid
from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

from naga.errors import LockError
from naga.lock.record import lock_path_for
from naga.lock.session import RunContext, current_run
from naga.lock.status import RUNNING

__all__ = ["runlock"]

PathArg = str | PathLike[str]
PathsArg = Sequence[PathArg] | Mapping[str, PathArg] | None
MetricsArg = Mapping[str, Any] | str | PathLike[str] | None

# Outside a clicfg run, every runlock() call of this process for one path belongs to the
# same run (so repeated calls merge), while a later process replaces the file whole.
_PROCESS_RUN_IDS: dict[Path, str] = {}
_PROCESS_LOCK = threading.Lock()


def _process_run_id(path: Path) -> str:
    with _PROCESS_LOCK:
        return _PROCESS_RUN_IDS.setdefault(path, uuid.uuid4().hex)


def _run_facts(ctx: RunContext | None, path: Path) -> dict[str, Any]:
    """How the run this call belongs to started: the open run's facts, else this process's."""
    if ctx is not None:
        return {
            "run_id": ctx.run_id,
            "status": RUNNING,
            "started_at": ctx.started_at,
            "command": ctx.command,
            "origin": ctx.origin,
            "code_at_start": ctx.code,
            "launcher": ctx.launcher,
            "extra": ctx.extra,
        }
    from naga.lock.origin import Origin, main_script

    return {
        "run_id": _process_run_id(path),
        "origin": Origin(script=main_script(), function=_caller()),
    }


def _caller() -> str | None:
    frame = sys._getframe(3)  # runlock's caller (from runlock -> _run_facts -> _caller)
    code = frame.f_code
    name = getattr(code, "co_qualname", code.co_name)
    return None if name == "<module>" else name


def runlock(
    config: Any = None,
    repos: PathsArg = None,
    data: PathsArg = None,
    prevs: PathsArg = None,
    runlock_path: str | PathLike[str] | None = None,
    *,
    metrics: MetricsArg = None,
    redact: Sequence[str] = (),
) -> Path:
    """Write the run.lock of this run, or merge into it, and return its path.

    Records the resolved config (secrets redacted), status, times, command line, script,
    environment and installed packages; with ``repos`` the git state of each repository
    (a snapshot commit when dirty); with ``data`` the blake3 hash of each file/directory;
    with ``prevs`` the run.locks of upstream stages, transitively; with ``metrics`` the
    run's results. Paths declared in the config with ``${runlock_data:...}`` /
    ``${runlock_prev:...}`` are included too.

    Every call of one run merges into the same file (sections, ``metrics`` included, united
    by key; other fields take the newest value); a run.lock left by an earlier run is
    replaced whole.

    Args:
        config: The run's config: DictConfig, dataclass, attrs, config class instance or dict.
        repos: Repositories to record: ``['.']`` (keyed by the path as given) or
            ``{'main_project': '.', 'shared_library': '../libs/my_lib'}``.
        data: Files or directories to hash, as a list or ``{name: path}``.
        prevs: Upstream stages (directories holding a run.lock, or run.lock files).
        runlock_path: Where to write; default ``<config.save_dir>/run.lock``.
        metrics: Results of the run: ``{'loss': 0.25, 'val': {'acc': 0.9}}`` (nested names
            are flattened with dots: ``val.acc``) or the path of a JSON/YAML file holding
            such a mapping. Values must be real numbers; nan and inf are kept as they are.
        redact: Extra secret key patterns (words such as ``"dsn"`` or globs such as
            ``"db.*"``), on top of the defaults and ``NAGA_REDACT_KEYS``.

    Returns:
        The absolute path of the written run.lock.

    Raises:
        LockError: No place to write (no ``runlock_path`` and no ``save_dir``), the target
            exists and is not a naga run.lock, or writing failed.
        RepoError: A ``repos`` path is not a git repository.
        DataError: A ``data`` path is missing or unreadable.
        LineageError: An upstream run.lock is missing, or the lineage loops back.
        MetricsError: A metric is not a real number, or the metrics file is unusable.
    """
    from naga.lock.assemble import UNSET, Request, build_and_write, keyed
    from naga.lock.metrics import normalize

    if "omegaconf" in sys.modules:
        # A DictConfig built before naga was imported may use ${runlock_data:...}.
        from naga.lock.resolvers import register_resolvers

        register_resolvers()
    ctx = current_run()
    if runlock_path is None and config is None and (ctx is None or ctx.lock_path is None):
        raise LockError(
            "runlock() needs a config or a runlock_path: pass config=cfg (with a save_dir key) "
            "or runlock_path='path/to/run.lock'"
        )
    if runlock_path is None and ctx is not None and ctx.lock_path is not None:
        try:
            path = lock_path_for(config, None)
        except LockError:
            path = ctx.lock_path  # a config without save_dir inside a run: the run's lock
    else:
        path = lock_path_for(config, runlock_path)

    request = Request(
        lock_path=path,
        config=UNSET if config is None else config,
        repos=keyed(repos, "repos"),
        data=keyed(data, "data"),
        prevs=keyed(prevs, "prevs"),
        redact=tuple(redact),
        metrics=normalize(metrics),
        **_run_facts(ctx, path),
    )
    build_and_write(request)
    if ctx is not None and path not in ctx.written:
        ctx.written.append(path)
    return path


def _reset_process_runs() -> None:
    """Forget the per-process run ids (tests simulate a new process with it)."""
    with _PROCESS_LOCK:
        _PROCESS_RUN_IDS.clear()
