"""``--skip-completed``: which jobs of a re-run sweep can be left alone.

A job is skipped when its directory holds a run.lock that

1. says ``status: completed``,
2. records the same resolved config the job would run with now (compared after the
   same redaction run.lock applies, so a changed secret goes unnoticed), and
3. records, for every repository it tracked, the same HEAD commit and the same
   snapshot of the work tree (none when clean) as the repository has now.

Anything else (no run.lock, a failed or interrupted run, a changed value, an edited
source file) runs the job again. Keep outputs git-ignored: a results directory inside
the work tree makes every snapshot differ. ``${now:...}`` in a config never matches.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from naga.launch.job import SAVE_DIR_KEY

_REPO_CACHE: dict[str, tuple[Any, Any] | None] = {}


def completed_unchanged(composed: Any, save_dir: Path, *, given: str) -> bool:
    """True when the job whose config is ``composed`` already completed in ``save_dir``.

    Args:
        composed: The job's composed config, ``hydra`` node included.
        save_dir: The job's directory.
        given: The job's ``save_dir`` as its config holds it (usually relative).
    """
    from naga.lock.format import LOCK_NAME, try_read

    old = try_read(save_dir / LOCK_NAME)
    if not old or old.get("status") != "completed":
        return False
    return _same_config(composed, given, old) and _same_code(old)


def _same_config(composed: Any, save_dir: str, old: dict[str, Any]) -> bool:
    from omegaconf import open_dict

    from naga.launch.job import resolve_once
    from naga.lock.record import to_plain
    from naga.lock.redact import SecretMatcher, redact_config

    cfg = composed.copy()
    with open_dict(cfg):
        del cfg["hydra"]
        cfg[SAVE_DIR_KEY] = save_dir
    try:
        # Resolved with the job's own Hydra config installed, as the job resolves it.
        from hydra.core.hydra_config import HydraConfig

        HydraConfig.instance().set_config(composed)
        plain = to_plain(resolve_once(cfg))
    except Exception:  # an unresolvable config cannot be proven unchanged: run it
        return False
    now, _ = redact_config(plain, SecretMatcher(), old.get("redacted") or ())
    return _normal(now) == _normal(old.get("config"))


def _same_code(old: dict[str, Any]) -> bool:
    repos = old.get("repos") or {}
    for entry in repos.values():
        if not isinstance(entry, dict) or not entry.get("root"):
            return False
        current = _repo_now(str(entry["root"]))
        if current is None:
            return False
        snapshot = entry.get("snapshot") or {}
        recorded = (
            entry.get("commit"),
            snapshot.get("tree") if isinstance(snapshot, dict) else None,
        )
        if current != recorded:
            return False
    return True


def _repo_now(root: str) -> tuple[Any, Any] | None:
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
    """Forget the repository states (the code may change between sweeps of one process)."""
    _REPO_CACHE.clear()


def _normal(tree: Any) -> Any:
    # What a YAML round trip makes of it: tuples become lists, keys strings, etc.
    import yaml

    return yaml.safe_load(yaml.safe_dump(tree))
