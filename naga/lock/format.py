"""The run.lock format: file names, version, field order, YAML, the digest and the two readers.

Everything that knows how a run.lock looks on disk is here (docs/run-lock.md is its
reference): :func:`read_lock` is the strict reader with one-line errors; :func:`try_read`
the tolerant one for watchers. Writing is :mod:`naga.lock.writer`'s job.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from naga.errors import LockError, NagaError

__all__ = [
    "DIGEST_KEY",
    "FIELD_ORDER",
    "LOCK_NAME",
    "SCHEMA_VERSION",
    "SECTIONS",
    "SUPPORTED_VERSIONS",
    "VERSION_KEY",
    "check_digest",
    "dumps",
    "loads",
    "order_record",
    "parse_lock",
    "previous_path",
    "read_lock",
    "receipt_digest",
    "try_read",
    "without_blocks",
]

LOCK_NAME = "run.lock"
#: Suffix of the last completed receipt kept while a newer run of the directory is open.
PREVIOUS_SUFFIX = ".previous"
#: The key holding the format version, first in every run.lock.
VERSION_KEY = "naga_lock"
SCHEMA_VERSION = 1
#: The format versions this naga reads.
SUPPORTED_VERSIONS: tuple[int, ...] = (1,)

#: Top-level keys in the order they are written; anything else follows.
FIELD_ORDER: tuple[str, ...] = (
    "naga_lock",
    "run_id",
    "status",
    "started_at",
    "finished_at",
    "duration_s",
    "written_at",
    "command",
    "cwd",
    "host",
    "pid",
    "pid_start",
    "script",
    "launcher",
    "slurm_job_id",
    "slurm_array_job_id",
    "slurm_array_task_id",
    "slurm_id",
    "attempts",
    "extra",
    "error",
    "environment",
    "config",
    "redacted",
    "metrics",
    "repos",
    "data",
    "prevs",
    "upstream",
    "digest",
)
#: The key of the integrity digest, written last (see :func:`receipt_digest`).
DIGEST_KEY = "digest"
#: Sections merged by key across the runlock() calls of one run.
SECTIONS: tuple[str, ...] = ("metrics", "repos", "data", "prevs", "upstream")

#: What to do about a file that is not a readable run.lock, when the caller has no better advice.
READ_FIX = "pass a run directory or a run.lock written by naga (re-run the stage to rewrite it)"


def previous_path(path: Path) -> Path:
    """Where the last completed receipt waits while a newer run in its directory is open."""
    return path.with_name(path.name + PREVIOUS_SUFFIX)


def order_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``record`` with its top-level keys in :data:`FIELD_ORDER`, extras last."""
    ordered = {key: record[key] for key in FIELD_ORDER if key in record}
    ordered.update((key, value) for key, value in record.items() if key not in ordered)
    return ordered


def receipt_digest(record: Mapping[str, Any]) -> str:
    """The integrity digest of a receipt: ``sha256:<hex>`` of its canonical content.

    The content is the record without its own ``digest`` field, as canonical JSON (keys
    sorted, each key tagged with its YAML type so ``1`` and ``'1'`` stay apart). It is
    computed over the values as YAML gives them back, so the digest of a record before it
    is written equals the digest of the file read again: any edit of a value, a key or a
    type changes it, while a change of layout alone (indentation, quoting, anchors) does not.

    Returns:
        The digest, e.g. ``sha256:3b1f...``.
    """
    import hashlib
    import json

    content = {k: v for k, v in record.items() if k != DIGEST_KEY}
    text = json.dumps(
        _canonical(content),
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        allow_nan=True,
        default=str,
    )
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _canonical(value: Any) -> Any:
    """Plain JSON data standing for ``value``: mapping keys become type-tagged strings."""
    if isinstance(value, Mapping):
        if all(type(k) is str and type(v) in _SCALARS for k, v in value.items()):
            return value  # the common leaf mapping (packages, config leaves): as it is
        return {_key(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


#: Values :func:`_canonical` need not look into.
_SCALARS = frozenset({str, int, float, bool, type(None)})


def _key(key: Any) -> str:
    return key if isinstance(key, str) else f"{type(key).__name__}:{key!r}"


def check_digest(record: Mapping[str, Any]) -> bool | None:
    """Whether ``record`` still holds the content its recorded digest was made of.

    Returns:
        True when it does, False when the receipt was edited after naga wrote it, None when
        it records no digest (written by a naga older than the digest).
    """
    recorded = record.get(DIGEST_KEY)
    if not isinstance(recorded, str) or not recorded:
        return None
    return recorded == receipt_digest(record)


def _yaml() -> Any:
    import yaml

    return yaml


def dumps(record: Mapping[str, Any]) -> str:
    """Serialise a record as readable block-style YAML (key order kept).

    Equal lists of installed packages (this run's and its upstream stages', usually all
    from one environment) are written once: YAML writes an object met twice as an anchor
    (``&id001``) and then aliases (``*id001``), which every YAML reader expands.
    """
    out, uses = _share_packages(record)
    env = out.get("environment")
    packages = env.get("packages") if isinstance(env, Mapping) else None
    if not isinstance(env, Mapping) or not isinstance(packages, dict) or not packages:
        return _dump(out)
    if uses.get(id(packages)) != 1:  # shared with upstream stages: anchors and aliases
        return _dump(out)
    # The run's own package list, met once: its YAML text (~150 lines, most of a write's
    # YAML work) is the same in every write of the process, so it is made once.
    block = _packages_block(packages)
    text = _dump({**out, "environment": {**env, "packages": _SLOT}})
    return text.replace(f"  packages: {_SLOT}\n", block, 1)


def _dump(data: Any) -> str:
    yaml = _yaml()
    return yaml.dump(
        data,
        Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=120,
    )


#: Stands for the package map while the rest of the record is dumped; the first line
#: `  packages: <_SLOT>` is the record's own (environment comes before config and repos).
_SLOT = "NAGA-PACKAGES-SLOT-7c1e"
#: The YAML text of recent package maps, as it sits at ``environment.packages``.
_BLOCKS: dict[tuple[tuple[Any, Any], ...], str] = {}


def _packages_block(packages: Mapping[str, Any]) -> str:
    key = tuple(packages.items())
    block = _BLOCKS.get(key)
    if block is None:
        text = _dump({"environment": {"packages": dict(packages)}})
        block = text.split("\n", 1)[1]  # the lines below `environment:`
        if len(_BLOCKS) >= 4:
            _BLOCKS.pop(next(iter(_BLOCKS)))
        _BLOCKS[key] = block
    return block


def _share_packages(record: Mapping[str, Any]) -> tuple[dict[str, Any], dict[int, int]]:
    """A copy of ``record`` in which equal ``environment.packages`` maps are one object.

    Returns:
        The copy, and how many records of it use each package map (by ``id``).
    """
    shared: dict[tuple[tuple[Any, Any], ...], Any] = {}
    uses: dict[int, int] = {}

    def with_shared(lock: Any) -> Any:
        if not isinstance(lock, Mapping):
            return lock
        env = lock.get("environment")
        if not isinstance(env, Mapping) or not isinstance(env.get("packages"), Mapping):
            return lock
        packages = env["packages"]
        try:
            key = tuple(sorted(packages.items()))
        except TypeError:  # not name -> version strings: leave it as it is
            return lock
        one = shared.setdefault(key, packages)
        uses[id(one)] = uses.get(id(one), 0) + 1
        return {**lock, "environment": {**env, "packages": one}}

    out = with_shared(dict(record))
    upstream = out.get("upstream")
    if isinstance(upstream, Mapping):
        out["upstream"] = {
            run_id: {**entry, "lock": with_shared(entry.get("lock"))}
            if isinstance(entry, Mapping)
            else entry
            for run_id, entry in upstream.items()
        }
    return out, uses


def loads(text: str | bytes) -> Any:
    """Parse YAML text with the safe loader (libyaml when available)."""
    yaml = _yaml()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)


def without_blocks(text: str, names: tuple[str, ...]) -> str:
    """``text`` without the top-level blocks ``names`` (e.g. ``("environment", "upstream")``).

    naga writes block-style YAML: a top-level key starts at column 0 and everything that
    belongs to it is indented (or a ``- `` item of a top-level list). Parsing is what makes
    reading many receipts slow, and the package list and embedded upstream receipts are
    most of a receipt; a caller that needs neither skips them. A hand-written file this
    misreads fails to parse or to validate, and the caller reads it whole instead.
    """
    starts = tuple(f"{name}:" for name in names)
    kept: list[str] = []
    skipping = False
    for line in text.splitlines(keepends=True):
        first = line[:1]
        if first not in ("", " ", "\t", "\n", "\r", "-", "#"):
            skipping = line.startswith(starts)
        if not skipping:
            kept.append(line)
    return "".join(kept)


def read_lock(
    path: str | os.PathLike[str],
    *,
    error: type[NagaError] = LockError,
    fix: str = READ_FIX,
    skip: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Read and validate a run.lock: the strict reader.

    Args:
        path: The run.lock file.
        error: The exception class to raise (``LineageError`` when reading upstreams,
            ``TrackingError`` when logging to MLflow).
        fix: What the user should do, the last part of the one-line message.
        skip: Top-level blocks the caller does not need (:func:`without_blocks`): read
            several times faster; whenever the shortcut does not give a valid receipt, the
            file is read whole (and the error worded from that).

    Returns:
        The record as a dict.

    Raises:
        LockError: (or ``error``) The file cannot be read, is not YAML, is not a naga
            run.lock, or has a format version this naga does not read.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise error(f"cannot read {path}: {reason}; {fix}") from exc
    if skip:
        try:
            lock = loads(without_blocks(data.decode("utf-8"), skip))
        except Exception:  # decided below by the full parse, with its own words
            lock = None
        if isinstance(lock, dict) and lock.get(VERSION_KEY) in SUPPORTED_VERSIONS:
            return lock
    return parse_lock(data, path, error=error, fix=fix)


def parse_lock(
    data: str | bytes,
    path: str | os.PathLike[str],
    *,
    error: type[NagaError] = LockError,
    fix: str = READ_FIX,
) -> dict[str, Any]:
    """Validate the content of a run.lock read from ``path`` (see :func:`read_lock`)."""
    yaml = _yaml()
    try:
        lock = loads(data)
    except yaml.YAMLError as exc:  # bytes that are not UTF-8 too (a ReaderError)
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1})" if mark is not None else ""
        raise error(f"{path} is not valid YAML{at}, so it is not a naga run.lock; {fix}") from exc
    if not isinstance(lock, dict) or VERSION_KEY not in lock:
        raise error(
            f"{path} is not a naga run.lock (no '{VERSION_KEY}' format version field); {fix}"
        )
    version = lock[VERSION_KEY]
    if version not in SUPPORTED_VERSIONS:
        from naga._version import __version__

        known = ", ".join(str(v) for v in SUPPORTED_VERSIONS)
        raise error(
            f"{path} has run.lock format version {version!r}, but naga {__version__} reads "
            f"version {known}; upgrade naga (pip install -U naga) to read it"
        )
    return lock


def try_read(path: str | os.PathLike[str], *, head: bool = False) -> dict[str, Any] | None:
    """The YAML mapping in ``path``, or ``None``: the tolerant reader.

    For files that may be absent, or replaced at this moment, where the caller simply
    looks again later (a sweep watching its jobs' run.locks, the skip check). No version
    check: the caller looks at the fields it knows.

    With ``head``, only the fields before ``environment`` are parsed (status, times, pid,
    host, ids, error): what a sweep's progress needs, without the packages, config and
    repos that make up most of the file.
    """
    yaml = _yaml()
    try:
        data = Path(path).read_bytes()
        if head:
            # Top-level keys start at column 0; nothing nested or wrapped does.
            end = data.find(b"\nenvironment:")
            data = data if end < 0 else data[: end + 1]
        parsed = loads(data)
    except (OSError, yaml.YAMLError):
        return None
    return parsed if isinstance(parsed, dict) else None
