"""sweep.lock's ``launch``: how a sweep was started, enough to start it again (``naga resume``)."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TypedDict

__all__ = ["LaunchRecord", "launch_info", "own_args"]


class LaunchRecord(TypedDict, total=False):
    """sweep.lock's ``launch`` (an older naga's may lack keys)."""

    python: str  # the interpreter
    start: list[str]  # the script, or ``-m module``
    args: list[str]  # its arguments, without --detach and --resume
    cwd: str
    host: str
    pid: int  # the sweep's own process (stopped: nobody waits for the jobs)
    pid_start: str | None  # that process's start time (a reused pid is another one)
    detached: bool
    hydra_overrides: list[str]  # what the sweep's Hydra session was composed from
    given_root: str  # save_dir as given (relative to cwd, usually)
    tasks_per_job: int
    isolate: bool
    code: str | None  # the commit or snapshot the jobs import (None: not isolated)


#: Flags that say how this command runs, not which sweep it is: left out of ``launch.args``.
_OWN_FLAGS = ("--detach",)
_OWN_VALUED = ("--resume",)


def launch_info(
    session_overrides: Sequence[str],
    *,
    given_root: str,
    tasks_per_job: int = 1,
    isolate: bool = False,
    detached: bool = False,
    commit: str | None = None,
) -> LaunchRecord:
    """sweep.lock's ``launch``: how this sweep was started, enough to start it again."""
    from naga.lock.liveness import pid_start
    from naga.lock.record import host

    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    module = getattr(spec, "name", None)
    start = ["-m", module] if module and module != "__main__" else [sys.argv[0]]
    return {
        "python": sys.executable,
        "start": start,
        "args": own_args(sys.argv[1:]),
        "cwd": str(Path.cwd()),
        "host": host(),
        "pid": os.getpid(),
        "pid_start": pid_start(),
        "detached": detached,
        "hydra_overrides": list(session_overrides),
        "given_root": given_root,
        "tasks_per_job": tasks_per_job,
        "isolate": isolate,
        "code": commit,
    }


def own_args(args: Sequence[str]) -> list[str]:
    """``args`` without the flags that only say how this command ran (--detach, --resume)."""
    out: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg in _OWN_FLAGS:
            continue
        if arg in _OWN_VALUED:
            skip = True
            continue
        if any(arg.startswith(flag + "=") for flag in _OWN_VALUED):
            continue
        out.append(arg)
    return out
