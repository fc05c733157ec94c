"""Where the run.lock is assembled: every field of one write, then the merge into the file.

A :class:`Request` says what to record; :func:`assemble` computes the record and
:func:`build_and_write` merges it through :mod:`naga.lock.writer`. Everything that can fail
because of the user's inputs is computed *before* the file is touched, so an error writes
nothing.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from naga.errors import LockError
from naga.lock import record as rec
from naga.lock.format import SCHEMA_VERSION, VERSION_KEY
from naga.lock.liveness import pid_start, slurm_ids
from naga.lock.origin import Origin, script_section, user_command
from naga.lock.redact import SecretMatcher, redact_command, redact_config, strip_urls_everywhere
from naga.lock.status import COMPLETED, RUNNING
from naga.lock.writer import update_lock

UNSET: Any = object()

PathArg = str | os.PathLike[str]


def keyed(value: Any, what: str) -> dict[str, PathArg]:
    """Normalise ``repos``/``data``/``prevs``: list → keyed by the path as given, dict → by name.

    Accepts ListConfig/DictConfig too (any Sequence/Mapping), so ``runlock(**cfg.runlock)`` works.

    Raises:
        LockError: The value is neither a sequence of paths nor a mapping of names to paths.
    """
    if value is None:
        return {}
    if isinstance(value, (str, os.PathLike)):
        return {_text(value): value}
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items() if v is not None}
    if isinstance(value, Sequence):  # a ListConfig too
        return {_text(v): v for v in value if v is not None}
    raise LockError(
        f"runlock({what}=...): got a {type(value).__name__}; "
        "pass a list of paths or a dict of name: path"
    )


def _text(path: Any) -> str:
    return os.fspath(path) if isinstance(path, os.PathLike) else str(path)


@dataclass(frozen=True)
class Request:
    """What one write of a run.lock should record (never changed once made)."""

    lock_path: Path
    run_id: str
    config: Any = UNSET
    repos: dict[str, PathArg] = field(default_factory=dict)
    data: dict[str, PathArg] = field(default_factory=dict)
    prevs: dict[str, PathArg] = field(default_factory=dict)
    redact: Sequence[str] = ()
    #: Flat ``name: number`` results (already checked by naga.lock.metrics), merged by key.
    metrics: Mapping[str, int | float] = field(default_factory=dict)
    status: str = COMPLETED
    started_at: datetime | None = None
    finished_at: datetime | None = None
    command: Sequence[str] | None = None
    origin: Origin | None = None
    launcher: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    error: BaseException | None = None
    #: The signal that stopped the run, when naga's handler writes the record.
    signal: Mapping[str, str] | None = None
    #: (key, entry) of the script's repository (read at start), recorded only if the run
    #: has no entry with its root yet.
    auto_repo: tuple[str, dict[str, Any]] | None = None
    #: The same, for an explicit runlock() call inside a run: reused, never added.
    code_at_start: tuple[str, dict[str, Any]] | None = None
    #: Wait for the directory's fsync (False for the `running` record of a run's start,
    #: which the run's final write makes durable with it).
    durable: bool = True
    #: The attempt of a requeued Slurm job (2, 3, ...); ``None`` for a first attempt.
    attempts: int | None = None


def _repo_entries(
    repos: Mapping[str, PathArg], known: tuple[str, dict[str, Any]] | None = None
) -> dict[str, dict[str, Any]]:
    """Git state of each repository; ``known`` is the run's code state read at its start.

    Inside a run, the script's repository was read when the run started, and that is the
    code that ran: an explicit ``repos=['.']`` naming it again reuses that state.
    """
    if not repos:
        return {}
    from naga.lock.git import find_repo_root, repo_state

    known_root = Path(str(known[1].get("root"))) if known is not None else None
    entries = {}
    for key, given in repos.items():
        if known is not None and known_root is not None:
            root = find_repo_root(given)
            if root is not None and _same_dir(str(root), known_root):
                entries[key] = {**known[1], "path": _text(given)}
                continue
        entries[key] = {"path": _text(given), **repo_state(given)}
    return entries


def _data_entries(data: Mapping[str, PathArg]) -> dict[str, dict[str, Any]]:
    if not data:
        return {}
    from naga.lock.hashing import hash_path

    return {key: {"path": _text(given), **hash_path(given)} for key, given in data.items()}


def _same_dir(a: Any, b: Path) -> bool:
    return isinstance(a, str) and os.path.realpath(a) == os.path.realpath(b)


def build_and_write(req: Request) -> Path:
    """Compute the record described by ``req`` and merge it into ``req.lock_path``.

    Returns:
        The path of the written run.lock.

    Raises:
        LockError: (or a subclass) on any problem; nothing is written then.
    """
    update_lock(
        req.lock_path,
        assemble(req),
        prepare=functools.partial(_reapply, req=req),
        durable=req.durable,
    )
    return req.lock_path


def assemble(req: Request) -> dict[str, Any]:
    """The record of one write: run facts, config, repos, data, lineage; URLs stripped.

    Raises:
        LockError: (or a subclass) a data path, repository or upstream stage is unusable.
    """
    from naga.lock.lineage import resolve_prevs
    from naga.lock.resolvers import declared

    # Resolving the config runs the ${runlock_data:...}/${runlock_prev:...} resolvers, so it
    # comes first; explicitly passed entries win over declared ones with the same key.
    plain_config = UNSET if req.config is UNSET else rec.to_plain(req.config)
    decl = declared()
    # Order matters for the user: cheap checks (lineage, data paths) fail before git work.
    prevs, upstream = resolve_prevs({**decl["prevs"], **req.prevs}, req.lock_path, req.run_id)
    data = _data_entries({**decl["data"], **req.data})
    repos = _repos_with_script_repo(req)
    record = _run_fields(req)
    if plain_config is not UNSET:
        record["config"], record["redacted"] = redact_config(
            plain_config, SecretMatcher(req.redact)
        )
    record["metrics"] = dict(req.metrics)
    record.update(repos=repos, data=data, prevs=prevs, upstream=upstream)
    return strip_urls_everywhere(record)


def _run_fields(req: Request) -> dict[str, Any]:
    """The facts of the run itself: ids, status, times, command, host, script, environment."""
    started, finished = req.started_at, req.finished_at
    record: dict[str, Any] = {
        VERSION_KEY: SCHEMA_VERSION,
        "run_id": req.run_id,
        "status": req.status,
        "started_at": rec.iso(started),
        "finished_at": rec.iso(finished),
        "duration_s": (
            round((finished - started).total_seconds(), 6) if finished and started else None
        ),
        "written_at": rec.iso(rec.utc_now()),
        "command": redact_command(
            list(req.command if req.command is not None else user_command()),
            SecretMatcher(req.redact),
        ),
        "cwd": str(Path.cwd()),
        "host": rec.host(),
        "pid": os.getpid(),
        "pid_start": pid_start(),
        "script": script_section(req.origin),
        "launcher": req.launcher,
        **_slurm_fields(req.extra),
        **({"attempts": req.attempts} if req.attempts is not None else {}),
        "extra": rec.to_plain({k: v for k, v in req.extra.items() if k != "slurm_job_id"}),
        "error": rec.error_info(req.error, req.signal),
        "environment": rec.environment(),
    }
    if req.status == RUNNING and finished is None and req.attempts is None:
        # A mid-run call must not erase the end time a later finish writes (or vice versa).
        # (A new attempt of a requeued run does erase the end of the attempt before it.)
        del record["finished_at"], record["duration_s"]
    return record


def _repos_with_script_repo(req: Request) -> dict[str, dict[str, Any]]:
    """The ``repos`` entries asked for, plus the script's repository when not among them."""
    repos = _repo_entries(req.repos, req.code_at_start or req.auto_repo)
    if req.auto_repo is not None:
        # `_reapply` drops it again when an earlier write of this run recorded that root
        # under another key.
        key, entry = req.auto_repo
        if not any(_same_dir(e.get("root"), Path(str(entry.get("root")))) for e in repos.values()):
            repos[key] = entry
    return repos


def _reapply(old: dict[str, Any] | None, new: dict[str, Any], *, req: Request) -> dict[str, Any]:
    """Under the file lock: what this run's earlier writes decided still holds.

    Redactions of earlier calls of this run stay in force (a key named only through
    ``runlock(redact=...)`` must not reappear in clicfg's final record), and the script's
    repository is not recorded again under another key.
    """
    if old is None:
        return new
    out = dict(new)
    sticky = list(old.get("redacted") or ())
    if sticky:
        matcher = SecretMatcher(req.redact)
        if "config" in out:
            out["config"], more = redact_config(out["config"], matcher, sticky)
            out["redacted"] = sorted(set(out.get("redacted") or ()) | set(more))
        out["command"] = redact_command(out["command"], matcher, sticky)
    if req.auto_repo is not None:
        roots = [e.get("root") for e in (old.get("repos") or {}).values() if isinstance(e, dict)]
        out["repos"] = {
            k: v
            for k, v in out["repos"].items()
            if k in req.repos or not any(_same_dir(r, Path(v.get("root", ""))) for r in roots)
        }
    return out


def _slurm_fields(extra: Mapping[str, Any]) -> dict[str, str | None]:
    fields = slurm_ids()
    if extra.get("slurm_job_id") is not None:
        fields["slurm_job_id"] = str(extra["slurm_job_id"])
        if not fields["slurm_array_job_id"]:  # a plain job: its id is the one scancel takes
            fields["slurm_id"] = fields["slurm_job_id"]
    return fields
