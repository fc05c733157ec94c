"""``naga resume SWEEP_DIR [--detach]``: run again the jobs of a sweep that did not complete.

Failed, interrupted and lost jobs are submitted again by the sweep's own recorded command
(naga.launch.resume); completed jobs are left alone.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from naga.errors import UsageError

if TYPE_CHECKING:
    from naga.launch.record.status import SweepView


def add_parser(subparsers: Any) -> None:
    """Declare ``naga resume``."""
    parser = subparsers.add_parser(
        "resume",
        help="run again the jobs of a sweep that failed, were interrupted or are lost",
        description="Submit again the jobs of the sweep in SWEEP_DIR that did not complete "
        "(failed, interrupted, lost, never started), with the overrides, directories and "
        "launcher settings recorded in its sweep.lock, by running the sweep's recorded "
        "command. Completed jobs are left alone. Exit status: the resumed sweep's (0 when "
        "every job completed; with --detach, 0 once the jobs are queued).",
    )
    parser.add_argument("sweep", metavar="SWEEP_DIR", help="the sweep's directory")
    parser.add_argument(
        "--detach",
        action="store_true",
        help="submit the jobs and return without waiting (Slurm and submitit_local sweeps)",
    )
    parser.add_argument(
        "overrides",
        nargs="*",
        metavar="OVERRIDE",
        help="an Optuna study only: settings to change, e.g. hydra.sweeper.n_trials=50 for more "
        "trials (a changed search space or objective also needs hydra.sweeper.force=true)",
    )


def run(args: argparse.Namespace) -> int:
    """Start the sweep's command for its unfinished jobs; its exit code is ours."""
    from naga.commands.status import counts_line
    from naga.launch.record.files import as_list, as_mapping, shown_path
    from naga.launch.record.status import read_sweep
    from naga.launch.resume import check_resumable, to_resume

    root = Path(args.sweep)
    view = read_sweep(root, command="naga resume")
    study = _study(view, args.overrides)
    if study is not None:  # an Optuna study: its controller goes on (naga.launch.sweepers)
        todo, headline = study
        if not todo:
            print(headline)
            return 0
        launch = as_mapping(view.data["launch"])
    else:
        if args.overrides:
            raise UsageError(
                f"naga resume {args.sweep} {args.overrides[0]}: a grid sweep resumes the jobs it "
                "recorded; drop the overrides (or start a new sweep with them)"
            )
        launch = check_resumable(view, detach=args.detach)
        again, live = to_resume(view)
        if not again:
            if live:
                print(f"nothing to resume yet: {counts_line(view)}")
            else:
                print(f"nothing to resume: {counts_line(view)}")
            return 0
        kinds: dict[str, int] = {}
        for job in again:
            kinds[job.status] = kinds.get(job.status, 0) + 1
        detail = ", ".join(f"{count} {status}" for status, count in kinds.items())
        headline = (
            f"resuming {len(again)} of {len(view.jobs)} jobs ({detail}) in {shown_path(view.root)}"
        )
    cwd = Path(str(launch.get("cwd") or "."))
    if not cwd.is_dir():
        raise UsageError(
            f"naga resume {args.sweep}: the sweep was started in {cwd}, which no longer exists; "
            "restore it (the command runs there, so relative paths mean what they meant)"
        )
    command = [
        str(launch.get("python") or sys.executable),
        *[str(item) for item in as_list(launch.get("start"))],
        *[str(item) for item in as_list(launch.get("args"))],
        *args.overrides,  # a study's changed settings: the last value of a key wins
        "--resume",
        str(view.root),
        *(["--detach"] if args.detach else []),
    ]
    print(headline)
    print(f"  run {shlex.join(command)}  (in {cwd})")
    sys.stdout.flush()
    try:
        return subprocess.run(command, cwd=cwd, check=False).returncode
    except OSError as exc:
        raise UsageError(
            f"naga resume {args.sweep}: cannot start {command[0]}: {exc.strerror or exc}; "
            "the sweep's Python is gone (recreate its environment)"
        ) from exc


def _study(view: SweepView, overrides: list[str]) -> tuple[bool, str] | None:
    from naga.launch.sweepers.detached import is_study, resume_study

    return resume_study(view, overrides) if is_study(view.data) else None
