"""Directory names of the jobs of a sweep: ``<save_dir>/<name>``.

A job is named after the overrides that tell it apart from its siblings: in
``-m param=1,2,3 lr=0.1`` the jobs are ``param=1``, ``param=2``, ``param=3`` (``lr`` is the
same everywhere, so it says nothing). Several varying keys are joined with ``,`` in
override order (``lr=0.1,param=2``). ``save_dir`` never enters a name: it is the folder the
names are made in. In a sweep of one job no key varies, so its name is ``job-000``.
Characters outside ``[A-Za-z0-9._=,+-]`` become ``_``. A name longer than 80 characters,
empty, or shared by two different jobs falls back to the job number (``job-007``,
zero-padded to the sweep's size).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from naga.launch.job import SAVE_DIR_KEY

MAX_NAME = 80
_UNSAFE = re.compile(r"[^A-Za-z0-9._=,+\-]")


def job_names(jobs: Sequence[Sequence[str]]) -> list[str]:
    """One filesystem-safe, distinct directory name per job, in order (module docstring)."""
    width = max(3, len(str(max(len(jobs) - 1, 0))))
    fallback = [f"job-{num:0{width}d}" for num in range(len(jobs))]
    app_overrides = [
        [item for item in job if not is_hydra_key(item) and override_key(item) != SAVE_DIR_KEY]
        for job in jobs
    ]
    varying = _varying_keys(app_overrides)
    names: list[str] = []
    for num, overrides in enumerate(app_overrides):
        shown = [item for item in overrides if override_key(item) in varying]
        name = safe_name(",".join(shown))
        names.append(name if name and len(name) <= MAX_NAME else fallback[num])
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    taken = set(fallback)
    return [
        fallback[num] if counts[name] > 1 or (name in taken and name != fallback[num]) else name
        for num, name in enumerate(names)
    ]


def safe_name(text: str) -> str:
    """``text`` with every character that is awkward in a path replaced by ``_``."""
    name = _UNSAFE.sub("_", text)
    # A leading dot would hide the directory; `..` would climb out of the sweep root.
    return "_" + name[1:] if name.startswith(".") else name


def _varying_keys(jobs: Sequence[Sequence[str]]) -> set[str]:
    values: dict[str, set[str]] = {}
    all_keys = {key for job in jobs for key in map(override_key, job)}
    for overrides in jobs:
        seen = {override_key(item): item for item in overrides}
        for key in all_keys:
            values.setdefault(key, set()).add(seen.get(key, "\0absent"))
    return {key for key, seen in values.items() if len(seen) > 1}


def override_key(override: str) -> str:
    """The key (or config group) an override sets: ``+a.b=1`` -> ``a.b``."""
    return override.split("=", 1)[0].lstrip("+~")


def is_hydra_key(override: str) -> bool:
    """True when an override sets Hydra's own config (``hydra.*``, ``hydra/...``)."""
    key = override_key(override)
    return key == "hydra" or key.startswith(("hydra.", "hydra/"))
