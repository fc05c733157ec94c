"""``--skip-completed``: which jobs of a re-run sweep can be left alone, and why not the others.

A job is skipped when its run.lock says ``completed`` and records the same resolved config
(after the same redaction), the same HEAD and work-tree snapshot of every repository, and the
same hash of every data path as now. Otherwise it runs again, and for a completed job the
sweep says why, once per reason. ``${now:...}`` in a config never matches.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

from naga.errors import escape_newlines
from naga.lock.status import COMPLETED, SKIPPED

if TYPE_CHECKING:
    from omegaconf import DictConfig

    from naga.launch.plan.compose import JobConfigs
    from naga.launch.record.sweeplock import JobRecord

__all__ = ["clear_cache", "rerun_reason", "skip_completed"]

#: A repository's code: ``(commit, snapshot tree)`` (no snapshot: a clean work tree).
CodeState = tuple[str | None, str | None]
#: The state of a repository now, ``None`` when unreadable.
_REPO_CACHE: dict[str, CodeState | None] = {}
#: The hash of each data path now, ``None`` when it cannot be hashed.
_DATA_CACHE: dict[str, str | None] = {}
#: How many changed keys, files or paths a reason names before "and N more".
_SHOWN = 5


def skip_completed(jobs: Sequence[JobRecord], configs: JobConfigs, given_root: str) -> None:
    """Mark the jobs that completed unchanged ``skipped``; say why the other completed ones run."""
    clear_cache()
    why: dict[str, list[str]] = {}  # reason -> the jobs it applies to
    for job in jobs:
        where = f"{given_root}/{job.name}"
        reason = rerun_reason(configs.config(job.num), job.save_dir, given=where)
        if reason is None:
            job.status = SKIPPED
        elif reason:
            why.setdefault(reason, []).append(job.name)
    for reason, names in why.items():
        jobs_word = "job" if len(names) == 1 else "jobs"
        line = f"[naga] --skip-completed: {len(names)} completed {jobs_word} run again "
        print(escape_newlines(f"{line}({_listed(names)}): {reason}"), file=sys.stderr)


def rerun_reason(composed: DictConfig, save_dir: Path, *, given: str) -> str | None:
    """Why the job whose config is ``composed`` runs again; ``None`` when it can be skipped.

    ``given``: the job's ``save_dir`` as its config holds it (usually relative).

    Returns:
        ``None`` (completed, nothing changed), ``""`` (no completed run.lock: running it is
        no news), or the reason in words: what changed in the config, the code or the data.
    """
    from naga.lock.format import LOCK_NAME, try_read

    old = try_read(save_dir / LOCK_NAME)
    if not old or old.get("status") != COMPLETED:
        return ""
    return _config_change(composed, given, old) or _code_change(old) or _data_change(old)


def _config_change(composed: DictConfig, save_dir: str, old: Mapping[str, object]) -> str | None:
    from naga.launch.plan.preview import run_config
    from naga.lock.record import to_plain
    from naga.lock.redact import SecretMatcher, redact_config

    try:
        plain = to_plain(run_config(composed, save_dir))
    except Exception:  # an unresolvable config cannot be proven unchanged: run it
        return "its config does not resolve now"
    redacted = cast("list[str]", old.get("redacted") or [])
    now, _ = redact_config(plain, SecretMatcher(), redacted)
    before, after = dict(_leaves(_normal(old.get("config")))), dict(_leaves(_normal(now)))
    changed = [
        f"{key} {_short(before.get(key, '(absent)'))} -> {_short(after.get(key, '(absent)'))}"
        for key in dict.fromkeys([*before, *after])
        if before.get(key, _ABSENT) != after.get(key, _ABSENT)
    ]
    return f"config changed: {_listed(changed)}" if changed else None


def _code_change(old: Mapping[str, object]) -> str | None:
    repos = cast("Mapping[str, object]", old.get("repos") or {})
    for entry in repos.values():
        if not isinstance(entry, dict) or not entry.get("root"):
            return "its run.lock records no repository root, so the code cannot be compared"
        root = str(entry["root"])
        current = _repo_now(root)
        if current is None:
            return f"the repository {root} cannot be read now"
        snapshot = entry.get("snapshot") or {}
        tree = snapshot.get("tree") if isinstance(snapshot, dict) else None
        recorded = (entry.get("commit"), tree)
        if current != recorded:
            return f"code changed in {root}: {_changed_files(root, recorded, current)}"
    return None


def _data_change(old: Mapping[str, object]) -> str | None:
    from naga.lock.hashing import hash_path

    cwd = Path(str(old.get("cwd") or "."))
    changed = []
    for entry in cast("Mapping[str, object]", old.get("data") or {}).values():
        if not isinstance(entry, dict) or not entry.get("path"):
            continue
        path = cwd / str(entry["path"])  # relative paths are relative to the run's cwd
        key = os.path.realpath(path)
        if key not in _DATA_CACHE:  # the jobs of a sweep usually share their data
            try:
                _DATA_CACHE[key] = hash_path(path).get("hash")
            except Exception:  # gone or unreadable: not the data the run used
                _DATA_CACHE[key] = None
        now = _DATA_CACHE[key]
        if now != entry.get("hash"):
            changed.append(f"{entry['path']}" + ("" if now else " (missing)"))
    return f"data changed: {_listed(changed)}" if changed else None


def _changed_files(root: str, recorded: CodeState, current: CodeState) -> str:
    """The files between the recorded code state and now, else the commits in words."""
    from naga.lock.git.recorded import changed_paths, tree_id, try_open_repo

    words = {"A": "added", "D": "deleted", "M": "modified", "R": "renamed", "T": "type changed"}
    repo = try_open_repo(root)
    trees = [
        snapshot_tree or (tree_id(repo, str(commit)) if repo is not None and commit else None)
        for commit, snapshot_tree in (recorded, current)
    ]
    if repo is not None and trees[0] and trees[1]:
        try:
            changes = changed_paths(repo, trees[0], trees[1])
        except Exception:  # the recorded snapshot was pruned: say what is known
            changes = None
        if changes is not None:
            if not changes:  # same files, other commit (a rebase, an empty commit)
                return f"commit {str(recorded[0])[:8]} -> {str(current[0])[:8]}, same files"
            return _listed([f"{c.path} ({words.get(c.status, c.status)})" for c in changes])
    return f"commit {str(recorded[0])[:8]} -> {str(current[0])[:8]}"


def _repo_now(root: str) -> CodeState | None:
    # One git state per repository per sweep: every job of a sweep shares the code.
    key = os.path.realpath(root)
    if key not in _REPO_CACHE:
        import warnings

        from naga.lock.git import repo_state

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # large-file warnings belong to the jobs
                state = repo_state(root, snapshot=True)
        except Exception:  # a state we cannot read cannot be proven unchanged
            _REPO_CACHE[key] = None
        else:
            snapshot = state.get("snapshot") or {}
            _REPO_CACHE[key] = (state.get("commit"), snapshot.get("tree"))
    return _REPO_CACHE[key]


def clear_cache() -> None:
    """Forget the repository states and data hashes (they may change between sweeps)."""
    _REPO_CACHE.clear()
    _DATA_CACHE.clear()


_ABSENT = object()


def _leaves(tree: object, prefix: str = "") -> Iterator[tuple[str, object]]:
    """``(dotted key, value)`` of every leaf; an empty mapping is a leaf of its own."""
    if isinstance(tree, Mapping) and tree:
        for key, value in tree.items():
            yield from _leaves(value, f"{prefix}{key}.")
    else:
        yield prefix.rstrip(".") or "(config)", tree


def _short(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _listed(items: Sequence[str]) -> str:
    more = len(items) - _SHOWN
    return ", ".join(items[:_SHOWN]) + (f" and {more} more" if more > 0 else "")


def _normal(tree: object) -> object:
    # What a YAML round trip makes of it: tuples become lists, keys strings, etc.
    import yaml

    return yaml.safe_load(yaml.safe_dump(tree))
