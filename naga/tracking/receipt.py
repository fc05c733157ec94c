"""What a run directory tells MLflow: logical id, params and tags derived from its run.lock.

Pure functions over paths and plain dicts, so they are cheap to test and never import MLflow.
The MLflow limits are copied here as constants (checked against ``mlflow.utils.validation``
by a test) because importing MLflow just to read three integers costs about a second.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from naga.errors import TrackingError
from naga.lock.format import LOCK_NAME, parse_lock
from naga.lock.metrics import flatten

# Mirrors mlflow.utils.validation (MLflow 2.16 .. 3.x); tests/tracking pins them.
MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_PARAM_VAL_LENGTH = 6000
MAX_TAG_VAL_LENGTH = 8000
MAX_ENTITY_KEY_LENGTH = 250

TRUNCATED = "...[truncated]"
TAG_PREFIX = "naga."
RUNS_ROOT_ENV = "NAGA_RUNS_ROOT"
#: What to do about a run directory whose run.lock cannot be read.
_LOCK_FIX = "restore it, or delete it and re-run the stage that wrote it"

# Characters MLflow accepts in param and tag keys on POSIX (validate_param_and_metric_name).
_BAD_KEY_CHARS = re.compile(r"[^/\w.\- :]")


@dataclass(frozen=True)
class Receipt:
    """A run directory as MLflow sees it.

    Attributes:
        save_dir: The directory, absolute and with symlinks resolved.
        logical_run_id: The value of the ``naga.logical_run_id`` tag.
        lock: The parsed run.lock, or None when the directory has none.
        lock_hash: ``blake3:<hex>`` of the run.lock bytes, or None.
    """

    save_dir: Path
    logical_run_id: str
    lock: dict[str, Any] | None = None
    lock_hash: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def lock_run_id(self) -> str | None:
        """The ``run_id`` written in run.lock, if any."""
        if self.lock is None:
            return None
        value = self.lock.get("run_id")
        return None if value is None else str(value)


def logical_run_id(save_dir: str | os.PathLike[str]) -> str:
    """Return the logical run id of a directory: its canonical path.

    The id is the absolute path with symlinks resolved, written with forward slashes. When
    ``NAGA_RUNS_ROOT`` is set and the directory lies under it, the id is the path relative to
    that root, so the same results mounted at another place (laptop vs cluster) keep their id.
    """
    path = Path(save_dir).expanduser().resolve()
    root_text = os.environ.get(RUNS_ROOT_ENV)
    if root_text:
        root = Path(root_text).expanduser().resolve()
        try:
            relative = path.relative_to(root)
        except ValueError:
            pass  # outside the root: the absolute path is the only honest id
        else:
            return relative.as_posix() or "."
    return path.as_posix()


def read_receipt(save_dir: str | os.PathLike[str]) -> Receipt:
    """Read ``<save_dir>/run.lock`` (if any) into a :class:`Receipt`.

    Returns:
        The receipt; ``lock`` is None (with a warning recorded) when there is no run.lock.

    Raises:
        TrackingError: ``save_dir`` is not a directory, or its run.lock cannot be read.
    """
    raw = Path(save_dir).expanduser()
    path = raw.resolve()
    if not path.is_dir():
        what = "is not a directory" if path.exists() else "does not exist"
        raise TrackingError(
            f"run directory '{raw}' {what}; pass the save_dir of a finished run "
            f"(the directory holding its {LOCK_NAME})"
        )
    lock_path = path / LOCK_NAME
    logical = logical_run_id(path)
    if not lock_path.is_file():
        return Receipt(
            path,
            logical,
            warnings=[
                f"no {LOCK_NAME} in '{raw}': logging it without config, git or data "
                "information (write one with naga.runlock(...) to record them)."
            ],
        )
    import blake3

    try:
        data = lock_path.read_bytes()  # once: the hash and the parsed lock must agree
    except OSError as exc:
        raise TrackingError(f"cannot read {lock_path}: {exc.strerror or exc}; {_LOCK_FIX}") from exc
    lock = parse_lock(data, lock_path, error=TrackingError, fix=_LOCK_FIX)
    digest = "blake3:" + blake3.blake3(data).hexdigest()
    return Receipt(path, logical, lock, digest)


def safe_key(key: str) -> str:
    """Turn an arbitrary string into a key MLflow accepts for params and tags.

    Characters MLflow rejects become ``_``; a key that would not survive path normalisation
    (MLflow treats keys as file names) gets its slashes replaced; overlong keys are cut.
    """
    cleaned = _BAD_KEY_CHARS.sub("_", key)
    norm = posixpath.normpath(cleaned) if cleaned else cleaned
    if norm != cleaned or cleaned in {"", "."} or cleaned.startswith(("..", "/")):
        cleaned = cleaned.replace("/", "_") or "_"
        if cleaned in {".", ".."}:
            cleaned = "_" * len(cleaned)
        elif cleaned.startswith(".."):  # "..0": MLflow refuses any key starting with ".."
            cleaned = "_" + cleaned[1:]
    return cleaned[:MAX_ENTITY_KEY_LENGTH]


def clip(value: str, limit: int) -> str:
    """Cut ``value`` to ``limit`` characters, ending it with a visible truncation marker."""
    if len(value) <= limit:
        return value
    return value[: limit - len(TRUNCATED)] + TRUNCATED


def _param_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple, dict)):
        # JSON keeps lists readable and comparable in the UI ("[1, 2]" rather than a repr).
        return json.dumps(value, default=str, ensure_ascii=False)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def flatten_params(config: Mapping[str, Any] | None) -> dict[str, str]:
    """Flatten a resolved config into MLflow params.

    Nested mappings become dot keys (``model.lr``); lists are JSON; values longer than MLflow's
    limit end with ``...[truncated]``. Keys MLflow rejects are made safe with :func:`safe_key`;
    when two keys collide that way the later one gets a ``~2`` suffix.

    Returns:
        An ordered mapping of param key to string value.
    """
    params: dict[str, str] = {}
    if not config:
        return params
    for key, value in flatten(config).items():
        name = safe_key(key)
        base, n = name, 1
        while name in params:
            n += 1
            name = safe_key(f"{base}~{n}")
        params[name] = clip(_param_text(value), MAX_PARAM_VAL_LENGTH)
    return params


def lock_tags(receipt: Receipt) -> dict[str, str]:
    """Tags describing a run.lock: MLflow's source tags, identity, git per repo, data hashes.

    The run's *script repository* is the ``repos`` entry whose root is the script's
    repository (``script.repo``), else the entry keyed ``.``. Its git state goes to
    ``naga.git.commit`` / ``.branch`` / ``.dirty`` / ``.snapshot`` and to MLflow's own
    ``mlflow.source.git.*`` tags; every other entry ``K`` to ``naga.git.K.commit`` etc.

    Returns:
        Tag key to value; empty extras when the directory has no run.lock. MLflow's own
        tags come first, so they fit in the tags a run is created with.
    """
    naga_tags: dict[str, str] = {
        "naga.logical_run_id": receipt.logical_run_id,
        "naga.save_dir": receipt.save_dir.as_posix(),
        "naga.lock_hash": receipt.lock_hash or "none",
    }
    lock = receipt.lock
    if lock is None:
        return {k: clip(v, MAX_TAG_VAL_LENGTH) for k, v in naga_tags.items()}
    if lock.get("run_id") is not None:
        naga_tags["naga.lock_run_id"] = str(lock["run_id"])
    if lock.get("status") is not None:
        naga_tags["naga.lock_status"] = str(lock["status"])
    main = _script_repo_key(lock)
    for name, repo in _entries(lock.get("repos")):
        prefix = "naga.git" if name == main else f"naga.git.{name}"
        if repo.get("commit") is not None:
            naga_tags[safe_key(f"{prefix}.commit")] = str(repo["commit"])
        if repo.get("dirty") is not None:
            naga_tags[safe_key(f"{prefix}.dirty")] = _param_text(bool(repo["dirty"]))
        if repo.get("branch") is not None:
            naga_tags[safe_key(f"{prefix}.branch")] = str(repo["branch"])
        snapshot = repo.get("snapshot")
        if isinstance(snapshot, Mapping) and snapshot.get("commit") is not None:
            naga_tags[safe_key(f"{prefix}.snapshot")] = str(snapshot["commit"])
    for name, entry in _entries(lock.get("data")):
        if entry.get("hash") is not None:
            naga_tags[safe_key(f"naga.data.{name}.hash")] = str(entry["hash"])
    tags = {**source_tags(lock, main), **naga_tags}
    return {k: clip(v, MAX_TAG_VAL_LENGTH) for k, v in tags.items()}


def source_tags(lock: Mapping[str, Any], repo_key: str | None = None) -> dict[str, str]:
    """MLflow's own source tags, from the run.lock rather than from the logging process.

    MLflow fills ``mlflow.source.*`` from ``sys.argv[0]`` of the process that logs: for
    ``naga log`` that is naga's ``__main__.py``. The run.lock knows the script that made
    the results and the commit it ran at, which is what the MLflow UI's Source and Git
    Commit columns should show. Tags whose value the run.lock lacks are left out (MLflow
    then keeps its own).

    Args:
        repo_key: The ``repos`` key of the script's repository (default: found as in
            :func:`lock_tags`).

    Returns:
        ``mlflow.source.name``/``type`` and ``mlflow.source.git.commit``/``branch``/
        ``repoURL`` (credentials stripped), as far as the run.lock tells them.
    """
    from naga.lock.redact import strip_url_credentials

    tags: dict[str, str] = {}
    script = lock.get("script")
    if isinstance(script, Mapping) and script.get("path"):
        path = str(script["path"])
        root = script.get("repo")
        tags["mlflow.source.name"] = posixpath.join(str(root), path) if root else path
        tags["mlflow.source.type"] = "LOCAL"
    key = repo_key if repo_key is not None else _script_repo_key(lock)
    repo = dict(_entries(lock.get("repos"))).get(key) if key is not None else None
    if repo is None:
        return tags
    if repo.get("commit") is not None:
        tags["mlflow.source.git.commit"] = str(repo["commit"])
    if repo.get("branch") is not None:
        tags["mlflow.source.git.branch"] = str(repo["branch"])
    remotes = repo.get("remotes")
    if isinstance(remotes, Mapping) and remotes:
        # MLflow itself takes the first remote; "origin" is the one people mean.
        url = remotes.get("origin", next(iter(remotes.values())))
        if url:
            tags["mlflow.source.git.repoURL"] = strip_url_credentials(str(url))
    return tags


def _script_repo_key(lock: Mapping[str, Any]) -> str | None:
    """The ``repos`` key of the script's repository: matching ``script.repo``, else ``.``."""
    repos = dict(_entries(lock.get("repos")))
    script = lock.get("script")
    root = script.get("repo") if isinstance(script, Mapping) else None
    if root:
        for name, repo in repos.items():
            if repo.get("root") is not None and str(repo["root"]) == str(root):
                return name
    return "." if "." in repos else None


def _entries(section: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    if not isinstance(section, Mapping):
        return
    for name, entry in section.items():
        if isinstance(entry, Mapping):
            yield str(name), entry


def upstream_dirs(receipt: Receipt) -> list[tuple[str, str]]:
    """The upstream stages of a run, as ``(lock run_id, logical run id)`` pairs.

    Paths in the ``upstream`` section are relative to the run.lock's directory (see
    docs/run-lock.md); they are resolved from ``receipt.save_dir``. Sorted by logical id so
    the ``naga.upstream.<n>`` numbering is stable across re-logs.
    """
    if receipt.lock is None:
        return []
    pairs = {
        (str(run_id), logical_run_id(receipt.save_dir / str(entry["path"])))
        for run_id, entry in _entries(receipt.lock.get("upstream"))
        if entry.get("path") is not None
    }
    return sorted(pairs, key=lambda pair: (pair[1], pair[0]))
