"""A study whose controller runs without the user's shell: ``--detach``, status, resume.

A controller must live as long as its study, which a laptop or login-node session would hold
hostage, so ``--detach`` submits it as a small Slurm job (a background process on
``submitit_local``): the same command with ``--resume DIR``. sweep.lock's ``controller``
says where it runs.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from naga.errors import UsageError
from naga.launch.record.files import as_list, as_mapping, shown_path
from naga.launch.sweepers.optuna_study import SWEEPER_NAME
from naga.lock.status import COMPLETED, FAILED, LIVE, RUNNING

if TYPE_CHECKING:
    from naga.launch.plan.hydra_session import Session
    from naga.launch.record.status import SweepView
    from naga.launch.record.sweeplock import SweepState

__all__ = [
    "is_study",
    "note_controller",
    "resume_study",
    "study_exit_code",
    "study_lines",
    "submit_controller",
]

#: Set in the controller job's environment: this process is a detached study's controller.
CONTROLLER_ENV = "NAGA_STUDY_CONTROLLER"
_LOG_DIR = ".naga-sweep"


def note_controller(state: SweepState) -> None:
    """Record this process as the study's controller (and its Slurm job, when it is one).

    A controller running as a Slurm job submits the trials from inside it: the job's own
    ``SLURM_*`` variables (CPUs, memory, the job id) must not leak into their sbatch, so
    they are dropped from this process's environment once recorded.
    """
    from naga.launch.record.sweeplock import now_iso
    from naga.lock.liveness import pid_start
    from naga.lock.record import host

    job_id = os.environ.get("SLURM_JOB_ID") if os.environ.get(CONTROLLER_ENV) else None
    state.extra["controller"] = {
        "slurm_job_id": job_id,
        "host": host(),
        "pid": os.getpid(),
        "pid_start": pid_start(),  # a pid reused by another process is not the controller
        "started_at": now_iso(),
    }
    if job_id:
        for key in [key for key in os.environ if key.startswith(("SLURM_", "SBATCH_"))]:
            if key != "SLURM_CONF":
                del os.environ[key]


def submit_controller(session: Session, state: SweepState, root: Path, *, resumed: bool) -> int:
    """Start the study's controller without this command; 0 once it is queued."""
    launch = as_mapping(state.extra["launch"])
    command = [
        str(launch["python"]),
        *[str(item) for item in as_list(launch["start"])],
        *[str(item) for item in as_list(launch["args"])],
        "--resume",
        str(root),
    ]
    cwd = str(launch["cwd"])
    logs = root / _LOG_DIR
    logs.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, CONTROLLER_ENV: "1"}
    state.status = RUNNING
    from naga.launch.launchers import registry

    if registry.launcher_for(session).capabilities.queue:  # the controller: a Slurm job too
        job_id = _sbatch(
            session, command, cwd, logs, env, name=str(as_mapping(state.extra["sweeper"])["study"])
        )
        state.extra["controller"] = {"slurm_job_id": job_id, "host": None, "pid": None}
        where = f"Slurm job {job_id}"
    else:
        with (logs / "controller.log").open("ab") as log:
            process = subprocess.Popen(
                command,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        state.extra["controller"] = {"slurm_job_id": None, "pid": process.pid}
        where = f"process {process.pid} on this machine"
    _write(state, resumed=resumed)
    sweeper = as_mapping(state.extra["sweeper"])
    shown = shown_path(root)
    print(
        f"submitted the study controller ({where}): {sweeper['n_trials']} trials, "
        f"{sweeper['n_jobs']} at a time, without this command"
    )
    print(f"sweep: {shown}")
    print(f"follow it: naga status {shlex.quote(shown)} --watch")
    sys.stdout.flush()
    return 0


def _sbatch(
    session: Session, command: list[str], cwd: str, logs: Path, env: dict[str, str], *, name: str
) -> str:
    """Submit ``command`` as a one-CPU Slurm job in the trials' partition; its job id."""
    from omegaconf import OmegaConf

    params = OmegaConf.to_container(session.cfg.hydra.launcher, resolve=True)
    assert isinstance(params, dict)
    args = [
        "sbatch",
        "--parsable",
        f"--job-name=naga-study-{name}"[:120],
        f"--chdir={cwd}",
        f"--output={logs / 'controller-%j.log'}",
        "--ntasks=1",
        "--cpus-per-task=1",
        # Without a request Slurm may give the job the node's whole memory, and the trials
        # would wait for their own controller; Optuna and Hydra fit well within this.
        f"--mem={os.environ.get('NAGA_CONTROLLER_MEM', '2G')}",
    ]
    for key, flag in (("partition", "partition"), ("account", "account"), ("qos", "qos")):
        if params.get(key):
            args.append(f"--{flag}={params[key]}")
    args.append(f"--wrap=exec {shlex.join(command)}")
    try:
        done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise UsageError(
            f"--detach: cannot run sbatch ({exc.strerror or exc}); run the study without --detach "
            "or from a machine with Slurm"
        ) from exc
    if done.returncode != 0:
        reason = " ".join(done.stderr.split()) or f"exit {done.returncode}"
        raise UsageError(
            f"--detach: sbatch refused the study controller ({reason}); check the partition "
            "in --slurm_config, or run without --detach"
        )
    return done.stdout.strip().split(";", 1)[0]


def _write(state: SweepState, *, resumed: bool) -> None:
    from naga.launch.record.sync import update_jobs

    if resumed and (state.root / "sweep.lock").exists():
        # The trials of the stopped controller may still be updating their entries.
        top = {key: state.extra[key] for key in ("controller", "launch", "sweeper")}
        update_jobs(state.root, {}, sweep_id=state.sweep_id, top={**top, "status": RUNNING})
        return
    state.write()


def controller_state(data: Mapping[str, object]) -> tuple[str, str]:
    """``(running|queued|stopped|unknown, where)`` of a study's recorded controller."""
    from naga.launch.launchers.submitit.queue import PENDING, RUNNING, slurm_queue

    controller = as_mapping(data.get("controller"))
    job_id = controller.get("slurm_job_id")
    if job_id:
        held = slurm_queue([str(job_id)]).state(str(job_id))
        if held in RUNNING:
            return "running", f"Slurm job {job_id}"
        if held in PENDING:
            return "queued", f"Slurm job {job_id}"
        return "stopped", f"Slurm job {job_id}"
    pid = controller.get("pid")
    if isinstance(pid, int) and controller.get("host") in (None, os.uname().nodename):
        from naga.lock.liveness import is_alive

        process = {
            "pid": pid,
            "pid_start": controller.get("pid_start"),
            "host": os.uname().nodename,
        }
        if is_alive(process) is False:
            return "stopped", f"process {pid}"
        return ("running" if data.get("status") == RUNNING else "stopped"), f"process {pid}"
    return "unknown", "another machine"


def study_lines(view: SweepView) -> list[str]:
    """``naga status`` lines of a study: trials per state, the best, its controller."""
    data = view.data
    sweeper = data.get("sweeper")
    if not is_study(data):
        return [f"sweeper: {sweeper['name']}"] if isinstance(sweeper, dict) else []
    sweeper = as_mapping(sweeper)
    states = Counter(job.status for job in view.jobs)
    done = states.get(COMPLETED, 0)
    parts = [f"{count} {status}" for status, count in sorted(states.items()) if status != COMPLETED]
    lines = [
        f"study {sweeper.get('study')} ({sweeper.get('sampler')} sampler): {done} of "
        f"{sweeper.get('n_trials')} trials completed" + (f", {', '.join(parts)}" if parts else "")
    ]
    best = data.get("best")
    if isinstance(best, dict):
        shown = ", ".join(f"{key}={value:.6g}" for key, value in (best.get("values") or {}).items())
        params = ", ".join(f"{key}={value}" for key, value in (best.get("params") or {}).items())
        lines.append(
            f"best: trial {best.get('trial')}: {shown} ({params}) in {best.get('save_dir')}"
        )
    elif isinstance(best, list):
        lines.append(f"best: {len(best)} trials on the Pareto front (sweep.lock's best)")
    state, where = controller_state(data)
    if state == "stopped" and data.get("status") in (COMPLETED, FAILED):
        state = "finished"
    if state != "unknown":
        unfinished = state == "stopped" and data.get("status") != COMPLETED
        again = shlex.quote(shown_path(view.root))
        hint = f"; continue it with naga resume {again}" if unfinished else ""
        lines.append(f"controller: {where}, {state}{hint}")
    return lines


def is_study(data: Mapping[str, object]) -> bool:
    """True for the sweep.lock of a ``naga_optuna`` study."""
    return as_mapping(data.get("sweeper")).get("name") == SWEEPER_NAME


def study_exit_code(view: SweepView) -> int:
    """``naga status`` of a study: 3 while it runs, 0 completed, 1 stopped short or failed.

    Trials lost with an earlier controller and asked again do not make a completed study
    fail; its controller and sweep.lock's status decide.
    """
    if view.pending or controller_state(view.data)[0] in ("running", "queued"):
        return 3 if view.data.get("status") == RUNNING or view.pending else 1
    return 0 if view.data.get("status") == COMPLETED else 1


def resume_study(view: SweepView, overrides: Sequence[str] = ()) -> tuple[bool, str]:
    """``(anything to do, the line to show)`` for ``naga resume`` of a study.

    Trials still running are no obstacle (the resumed controller waits for them); a
    controller still running is. ``overrides`` given to ``naga resume`` may raise the
    study's ``hydra.sweeper.n_trials``.

    Raises:
        UsageError: The study's controller is running or queued.
    """
    state, where = controller_state(view.data)
    if state in ("running", "queued") and view.data.get("status") == RUNNING:
        raise UsageError(
            f"naga resume {view.root}: the study's controller is still {state} ({where}); "
            f"follow it with naga status {shlex.quote(shown_path(view.root))} --watch, or stop it "
            "first (scancel, kill)"
        )
    sweeper = as_mapping(view.data["sweeper"])
    n_trials = recorded if isinstance(recorded := sweeper.get("n_trials"), int) else 0
    for item in overrides:
        key, _, value = item.partition("=")
        if key.lstrip("+") == "hydra.sweeper.n_trials" and value.strip().isdigit():
            n_trials = int(value)
    counts = Counter(job.status for job in view.jobs)
    counted = counts.get(COMPLETED, 0) + counts.get(FAILED, 0)
    detail = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    if counted >= n_trials and not any(counts.get(status) for status in LIVE):
        return (
            False,
            f"nothing to resume: study {sweeper.get('study')} has its {n_trials} trials ({detail})",
        )
    return True, (
        f"resuming study {sweeper.get('study')} in {shown_path(view.root)}: {counted} of "
        f"{n_trials} trials done ({detail or 'none started'})"
    )
