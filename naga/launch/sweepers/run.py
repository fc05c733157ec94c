"""Run a study's trials to its budget, taking over an earlier controller's trials.

What the controller of an earlier run left behind (naga.launch.sweepers.optuna_study): a
trial still ``RUNNING`` in the journal is, by its run.lock and the Slurm queue,

- *ended* (its job finished while no controller watched): told now, with its result;
- *alive* (its process or Slurm job still runs): adopted, waited for like the others;
- otherwise *lost*: told as failed by loss (it does not count) and asked again.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from naga.errors import NagaError
from naga.launch.record.files import as_mapping
from naga.launch.sweepers.record import StudyRecord, summary_line, trial_name
from naga.lock.status import COMPLETED, FAILED, INTERRUPTED, LIVE, LOST, RUNNING

if TYPE_CHECKING:
    import optuna

    from naga.launch.job import App
    from naga.launch.launchers.base import Launcher
    from naga.launch.launchers.task import SweepTask
    from naga.launch.options import SweepOptions
    from naga.launch.plan.compose import JobConfigs
    from naga.launch.plan.hydra_session import Session
    from naga.launch.record.sweeplock import SweepState
    from naga.launch.sweepers.optuna_loop import TrialSlots
    from naga.launch.sweepers.optuna_space import Primitive, SearchSpace
    from naga.launch.sweepers.optuna_study import StudyPlan
    from naga.launch.sweepers.slots import Prepare, Watch

__all__ = ["run_trials"]


def run_trials(
    session: Session, app: App, state: SweepState, plan: StudyPlan, options: SweepOptions
) -> int:
    """Run the study of ``state`` until ``plan.n_trials`` trials count; the exit code.

    Raises:
        ConfigError: A search-space key the config does not have; an objective that names
            no metric of the first completed trial (did-you-mean); a changed question.
    """
    from naga.launch.launchers import registry
    from naga.launch.plan.compose import JobConfigs
    from naga.launch.plan.jobs import launch_list
    from naga.launch.sweepers.optuna_loop import TrialJob, optimize
    from naga.launch.sweepers.optuna_study import open_study
    from naga.launch.sweepers.slots import Watch
    from naga.lock.interrupt import Interrupted, SignalGuard

    launcher = registry.launcher_for(session)
    configs = JobConfigs(session)
    with_task = launcher.capabilities.carries_task
    # Every key of the space is checked against the config before any trial runs.
    probe = plan.space.overrides(_probe(plan.space))
    configs.add([*probe, "hydra.sweep.subdir=trial_probe"], what="the search space", num=-1)
    task = _task(launcher, app, state, options)
    record = StudyRecord(state, plan.settings, n_trials=plan.n_trials)
    watch = Watch(state.root, state.sweep_id)
    kinds = _classify(state)
    study = open_study(
        state.root,
        plan.settings,
        plan.space,
        force=plan.force,
        still_running=lambda number: kinds.get(number) in ("ended", "alive"),
    )
    adopted = _adopt(study, watch, record)
    state.status, state.finished_at, state.duration_s = RUNNING, None, None
    record.write()

    def prepare(job: TrialJob) -> list[str]:
        name, what = trial_name(job.number), f"trial {job.number}"
        return launch_list(
            configs, job.number, job.overrides, name, carries_task=with_task, what=what
        )

    started = time.monotonic()
    interrupted = stopped = False
    guard = SignalGuard()
    guard.install(lambda signum, frame, exc: None)
    try:
        with _slots(
            session,
            launcher,
            configs=configs,
            task=task,
            watch=watch,
            prepare=prepare,
            record=record,
            plan=plan,
        ) as slots:
            optimize(
                study,
                plan.space,
                plan.settings,
                slots,
                record,
                n_trials=plan.n_trials,
                n_jobs=plan.n_jobs,
                adopted=adopted,
            )
    except (KeyboardInterrupt, Interrupted):
        interrupted = True
        raise
    except NagaError:
        stopped = True  # a wrong objective name: its one-line error says it all
        raise
    finally:
        guard.restore()
        _finish(
            state,
            record,
            started,
            interrupted=interrupted,
            stopped=stopped,
            detached_jobs=launcher.capabilities.detaches,
        )
        if not stopped:
            print(summary_line(state, n_trials=plan.n_trials), file=sys.stderr, flush=True)
    return 0 if state.status == COMPLETED else 1


def _task(launcher: Launcher, app: App, state: SweepState, options: SweepOptions) -> SweepTask:
    """naga's task for the trials, once the launcher is ready (submitit: the submitted code)."""
    from naga.launch.launchers.task import SweepTask

    app = launcher.prepare(app, state.root, tasks_per_job=1, isolate=options.isolate)
    if launcher.code is not None:
        as_mapping(state.extra["launch"])["code"] = launcher.code
    return SweepTask(
        app=app,
        launcher=launcher.name,
        sweep_id=state.sweep_id,
        root=state.given_root,
        in_process=launcher.capabilities.in_process,
        study=str(as_mapping(state.extra["sweeper"])["study"]),
    )


def _probe(space: SearchSpace) -> dict[str, Primitive]:
    """One value of every distribution (its low end, or first choice)."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    values: dict[str, Primitive] = {}
    for key, dist in space.distributions.items():
        if isinstance(dist, (FloatDistribution, IntDistribution)):
            values[key] = dist.low
        elif isinstance(dist, CategoricalDistribution) and dist.choices[0] is not None:
            values[key] = dist.choices[0]  # never None: optuna_space takes plain values only
    return values


def _classify(state: SweepState) -> dict[int, str]:
    """Each unfinished trial of an earlier controller: ``ended``, ``alive`` or ``lost``."""
    from naga.launch.launchers.submitit.queue import slurm_queue
    from naga.lock.format import LOCK_NAME, try_read
    from naga.lock.liveness import effective_status

    open_ = [
        job for job in state.jobs if as_mapping(job.extra.get("trial")).get("state") == "running"
    ]
    ids = [job.slurm_job_id for job in open_ if job.slurm_job_id]
    queue = slurm_queue(ids) if ids else None
    kinds: dict[int, str] = {}
    for job in open_:
        lock = try_read(job.save_dir / LOCK_NAME, head=True)
        sweep = ((lock or {}).get("extra") or {}).get("sweep") or {}
        ours = lock is not None and sweep.get("sweep_id") == state.sweep_id
        status = effective_status(lock) if ours and lock is not None else None
        if status in (COMPLETED, FAILED):
            kinds[job.num] = "ended"
        elif status == RUNNING or (
            status is None and queue is not None and not queue.gone(job.slurm_job_id)
        ):
            kinds[job.num] = "alive"
        else:  # interrupted with its controller, or gone: asked again
            kinds[job.num] = LOST
    return kinds


def _adopt(study: optuna.Study, watch: Watch, record: StudyRecord) -> dict[int, optuna.Trial]:
    """Trials still ``RUNNING`` in the journal are waited for; sweep.lock follows the journal.

    An entry sweep.lock still shows running may have been told before its controller
    stopped (killed between the tell and the write): the journal decides.
    """
    import optuna

    states = optuna.trial.TrialState
    adopted: dict[int, optuna.Trial] = {}
    lost: list[int] = []
    by_number = {frozen.number: frozen for frozen in study.get_trials(deepcopy=False)}
    for number, job in record.by_number.items():
        block = as_mapping(job.extra.get("trial"))
        frozen = by_number.get(number)
        if block.get("state") != "running":
            continue
        if frozen is None or frozen.state == states.FAIL:
            lost.append(number)
        elif frozen.state == states.COMPLETE:
            values = dict(zip(record.settings.objectives, frozen.values or [], strict=False))
            block.update(state="complete", values=values)
    for frozen in by_number.values():
        if frozen.state == states.RUNNING:
            adopted[frozen.number] = optuna.trial.Trial(study, frozen._trial_id)
            known = record.by_number.get(frozen.number)
            watch.add(frozen.number, known.slurm_job_id if known is not None else None)
    record.lost(lost)
    return adopted


@contextlib.contextmanager
def _slots(
    session: Session,
    launcher: Launcher,
    *,
    configs: JobConfigs,
    task: SweepTask,
    watch: Watch,
    prepare: Prepare,
    record: StudyRecord,
    plan: StudyPlan,
) -> Iterator[TrialSlots]:
    from pathlib import Path

    from hydra.core.utils import configure_log, setup_globals

    from naga.launch.launchers.submitit.launcher import SubmititLauncher
    from naga.launch.plan import hydra_session
    from naga.launch.sweepers import slots

    master = session.cfg
    Path(str(master.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
    if isinstance(launcher, SubmititLauncher):  # each trial submitted as its own job

        def on_job_id(number: int, job_id: str) -> None:
            with record.state.lock:
                launcher.note_ids([record.by_number[number]], {number: job_id})
            record.write()

        yield slots.SubmititSlots(session, task, launcher, watch, prepare, on_job_id=on_job_id)
        return
    with hydra_session.multirun_callbacks(session) as callbacks:
        setup_globals()
        configure_log(master.hydra.hydra_logging, master.hydra.verbose)
        if launcher.capabilities.carries_task:  # a pool of workers this process feeds
            workers = master.hydra.launcher.get("n_jobs")
            if workers not in (None, -1, plan.n_jobs):
                print(
                    f"[naga] hydra.sweeper.n_jobs={plan.n_jobs} trials run at once (the joblib "
                    f"launcher's n_jobs={workers} is not used by a study); set "
                    f"hydra.sweeper.n_jobs={workers} to run {workers}",
                    file=sys.stderr,
                )
            pool = slots.JoblibSlots(task, callbacks, plan.n_jobs, watch, prepare)
            ok = False
            try:
                yield pool
                ok = True
            finally:
                pool.close(kill=not ok)
            return
        if plan.n_jobs > 1:
            print(
                f"[naga] hydra.sweeper.n_jobs={plan.n_jobs}: the basic launcher runs one trial "
                "at a time in this process; add --n_jobs N (joblib) or --slurm_config FILE to "
                "run trials side by side",
                file=sys.stderr,
            )
        in_process = slots.InProcessSlots(session, configs, task, watch, prepare)
        in_process.callbacks = callbacks
        yield in_process


def _finish(
    state: SweepState,
    record: StudyRecord,
    started: float,
    *,
    interrupted: bool,
    stopped: bool,
    detached_jobs: bool,
) -> None:
    """The study's final status: interrupted with trials open; failed if a trial failed.

    ``stopped``: a wrong setting ended the study (its error is the report).
    """
    from naga.launch.record.progress import apply_run_lock
    from naga.launch.record.sweeplock import now_iso

    with state.lock:
        open_ = [job for job in state.jobs if job.status in LIVE]
        state.finished_at = now_iso()
        state.duration_s = round(time.monotonic() - started, 3)
        if stopped:
            state.status = FAILED
            for job in open_:
                apply_run_lock(job)
                as_mapping(job.extra["trial"])["state"] = "fail"
        elif interrupted or open_:
            state.status = INTERRUPTED
            for job in open_:
                # A Slurm or submitit_local trial outlives its controller; the others stop.
                if not detached_jobs:
                    job.status = INTERRUPTED
        else:
            failed = any(job.status in (FAILED, INTERRUPTED) for job in state.jobs)
            state.status = FAILED if failed else COMPLETED
    record.write()
