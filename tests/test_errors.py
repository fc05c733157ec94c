"""Every user-facing error path, run as users meet it: one line on stderr, exit 2, no traceback.

Each case starts a real process, a user's @clicfg script (tests/apps/clicfg/train.py, or the
sweep tests' job.py) in a git repository below a hostile directory name, or the ``naga``
command, with the mistake in its command line, its files or its environment. The one line
must say what went wrong and how to fix it (checked on a fragment of it), and the user's
function must not have run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from helpers import APPS, copy_app, one_line_error

from naga.lock.liveness import pid_start

MULTI = (APPS / "clicfg" / "multi.yml").read_text()
#: The script each prog is a copy of.
SCRIPTS = {"train.py": "clicfg/train.py", "job.py": "sweep_job.py"}


@dataclass(frozen=True)
class Mistake:
    """One way to get it wrong."""

    argv: tuple[str, ...]  # after `python <prog>` or `python -m naga`
    expected: str  # a fragment of the one line
    env: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # written into the project first
    setup: str | None = None  # the name of a function below preparing the project
    prefix: str | None = None  # how the line starts, when more is known than the program


def _busy(project: Path) -> None:
    """results/run holds the receipt of a run still running (this very test process)."""
    lock = project / "results" / "run" / "run.lock"
    lock.parent.mkdir(parents=True)
    lock.write_text(
        f"naga_lock: 1\nrun_id: other\nstatus: running\npid: {os.getpid()}\n"
        f"pid_start: '{pid_start()}'\nhost: {os.uname().nodename}\n"
        "started_at: '2026-01-01T00:00:00+00:00'\n"
    )


#: The smallest run.lock naga reads, for the report's mistakes.
REPORT_RUN = (
    "naga_lock: 1\nrun_id: a\nstatus: completed\nconfig: {lr: 0.1, seed: 0}\nmetrics: {loss: 0.5}\n"
)


def _sweep_record(where: Path, *, sweep_id: str, status: str) -> None:
    """A sweep.lock (or a record of one) of a sweep waiting in this very test process."""
    where.parent.mkdir(parents=True, exist_ok=True)
    where.write_text(
        f"naga_sweep: 1\nsweep_id: {sweep_id}\nstatus: {status}\nlauncher: basic\n"
        "started_at: '2026-11-21T06:30:00+00:00'\n"
        f"launch: {{pid: {os.getpid()}, pid_start: '{pid_start()}', "
        f"host: {os.uname().nodename}, detached: false, args: [-m, param=1]}}\n"
        "jobs:\n- {num: 0, name: param=1, overrides: [param=1], save_dir: param=1, "
        f"status: {'queued' if status == 'running' else status}}}\n"
    )


def _busy_sweep(project: Path) -> None:
    """results/sweep is the folder of a sweep still running (this test process waits on it)."""
    _sweep_record(project / "results" / "sweep" / "sweep.lock", sweep_id="live", status="running")


def _earlier_sweep(project: Path) -> None:
    """results/sweep keeps the record of an earlier sweep in its history."""
    root = project / "results" / "sweep"
    _sweep_record(root / "sweep.lock", sweep_id="newer", status="completed")
    old = root / ".naga-sweep" / "history" / "20261121T063000Z_older.lock"
    _sweep_record(old, sweep_id="older", status="failed")


def _snapshot_used_elsewhere(project: Path) -> None:
    """Two dirty runs: results/elsewhere's snapshot is one `naga gc results/here` would drop."""
    for save_dir in ("results/elsewhere", "results/here"):
        with (project / "train.py").open("a") as stream:
            stream.write(f"# edited before {save_dir}\n")  # a new snapshot for each run
        subprocess.run(
            [sys.executable, "train.py", f"save_dir={save_dir}"],
            cwd=project,
            capture_output=True,
            check=True,
            timeout=120,
        )


def _where_lab(project: Path) -> None:
    """A run whose config holds the number lr: 0.1 (and the status completed)."""
    subprocess.run(
        [sys.executable, "train.py", "save_dir=results/lr"],
        cwd=project,
        capture_output=True,
        check=True,
        timeout=120,
    )


SETUPS: dict[str, Callable[[Path], None]] = {
    "busy": _busy,
    "snapshot used elsewhere": _snapshot_used_elsewhere,
    "a run": _where_lab,
    "busy sweep": _busy_sweep,
    "earlier sweep": _earlier_sweep,
    "save_dir is a file": lambda project: (project / "results").write_text("not a dir\n"),
    "empty dir": lambda project: (project / "empty").mkdir(),
}

TRAIN = {
    # overrides and the config
    "unknown key": Mistake(("paramm=3",), "unknown key 'paramm'. Did you mean 'param'?"),
    "unknown nested key": Mistake(("model.dept=3",), "Did you mean 'model.depth'?"),
    "wrong type": Mistake(("param=abc",), "could not be converted to Integer"),
    "sweep without -m": Mistake(("param=1,2",), "add -m/--multirun"),
    "unresolvable": Mistake(("name=${nope}",), "config key 'name'"),
    "unclosed bracket": Mistake(("tags=[0.1",), "did you mean tags=[0.1]? (a closing ']' is"),
    "unclosed quote": Mistake(("name='abc",), "did you mean name='abc'? (the ' quote is not"),
    "stray bracket": Mistake(("tags=0.1]",), "the ']' closes nothing: open it with '['"),
    "empty save_dir": Mistake(("save_dir=",), "save_dir='' is empty: run.lock would be written"),
    "unknown flag": Mistake(("--bogus",), "unrecognized arguments: --bogus"),
    # config files and experiments
    "missing --config": Mistake(("--config", "missing.yml"), "--config missing.yml: no such file"),
    "--config not YAML": Mistake(
        ("--config", "multi.txt"), "expected a .yml or .yaml file", files={"multi.txt": "a: 1\n"}
    ),
    "--config unknown key": Mistake(
        ("--config", "bad.yml"), "bad.yml: unknown key 'paramm'", files={"bad.yml": "paramm: 1\n"}
    ),
    "broken --config": Mistake(
        ("--config", "broken.yml"),
        "broken.yml: invalid YAML at line",
        files={"broken.yml": "a: [\n"},
    ),
    "--experiment typo": Mistake(
        ("--config", "multi.yml", "--experiment", "smal"),
        "Did you mean 'small'?",
        files={"multi.yml": MULTI},
    ),
    "--experiment cycle": Mistake(
        ("--config", "multi.yml", "--experiment", "loop_a"),
        "cycle: loop_a -> loop_b -> loop_a",
        files={"multi.yml": MULTI},
    ),
    "--experiment missing": Mistake(
        ("--config", "multi.yml"), "pick one with --experiment NAME", files={"multi.yml": MULTI}
    ),
    "--experiment alone": Mistake(("--experiment", "small"), "needs --config FILE"),
    # sweeps and launchers
    "--n_jobs without a sweep": Mistake(("--n_jobs", "2"), "--n_jobs only applies to sweeps"),
    "--n_jobs 0": Mistake(("--n_jobs", "0"), "expected at least 1 job"),
    "--task_to alone": Mistake(("--task_to", "param"), "--task_to needs --tasks FILE"),
    "bad --slurm_config": Mistake(
        ("-m", "param=1,2", "--slurm_config", "slurm.yaml"),
        "unknown parameter 'timout_min'. Did you mean 'timeout_min'?",
        files={"slurm.yaml": "timout_min: 5\n"},
    ),
    # the run cannot start: nothing of the user's code runs
    "busy save_dir": Mistake((), "is in use by a run that is still running", setup="busy"),
    "save_dir is a file": Mistake((), "cannot create", setup="save_dir is a file"),
    "foreign run.lock": Mistake(
        (), "is not valid YAML", files={"results/run/run.lock": "my notes: [\n"}
    ),
    # the environment
    "bad NAGA_NO_CACHE": Mistake(
        (), "NAGA_NO_CACHE='maybe' is not understood", {"NAGA_NO_CACHE": "maybe"}
    ),
    "bad NAGA_LARGE_FILE_LIMIT": Mistake(
        (),
        "NAGA_LARGE_FILE_LIMIT='10MB' is not a number of bytes",
        {"NAGA_LARGE_FILE_LIMIT": "10MB"},
    ),
}

SWEEP = {  # job.py, the sweep tests' job, with its `tasks` key
    "unknown key in a sweep": Mistake(("-m", "parm=1,2"), "unknown key 'parm'"),
    "a bad job": Mistake(("-m", "param=1,x"), "job 1 (param=x)"),
    "missing --tasks": Mistake(
        ("--tasks", "missing.txt", "--task_to", "param"), "--tasks missing.txt: no such file"
    ),
    "--tasks without --task_to": Mistake(
        ("--tasks", "t.txt"), "--task_to KEY", files={"t.txt": "1\n"}
    ),
    "--tasks-key typo": Mistake(("--tasks-key", "taks"), "--tasks-key taks: no such key"),
    "launcher typo": Mistake(
        ("-m", "param=1,2", "hydra/launcher=submitit_locl"),
        "Did you mean 'submitit_local'? Available options in 'hydra/launcher': basic, joblib,",
    ),
    "empty save_dir in a sweep": Mistake(("-m", "param=1,2", "save_dir="), "save_dir='' is"),
    "two launchers": Mistake(
        ("-m", "param=1,2", "--n_jobs", "2", "--slurm_config", "s.yaml"),
        "use one of them",
        files={"s.yaml": "partion: debug\n"},
    ),
    "--slurm_config typo": Mistake(
        ("-m", "param=1,2", "--slurm_config", "s.yaml"),
        "unknown parameter 'partion'",
        files={"s.yaml": "partion: debug\n"},
    ),
    # searches (hydra/sweeper=...; the objective typo runs a trial first: tests/sweepers)
    "unknown sweeper": Mistake(
        ("-m", "param=1,2", "hydra/sweeper=optuna"),
        "'optuna' is not an option of hydra/sweeper. Did you mean 'naga_optuna'? Available "
        "options in 'hydra/sweeper': basic, naga_optuna.",
    ),
    "a search over a glob": Mistake(
        ("-m", "hydra/sweeper=naga_optuna", "name=glob(*)"),
        "name=glob(*): naga_optuna cannot search a Glob sweep; use interval(), range() or choice()",
    ),
    "an empty interval": Mistake(
        ("-m", "hydra/sweeper=naga_optuna", "param=interval(5, 1)"),
        "an interval needs start < end",
    ),
    "nothing to search": Mistake(
        ("-m", "hydra/sweeper=naga_optuna", "param=3"), "nothing to search; give a search space"
    ),
    "a sampler typo": Mistake(
        ("-m", "hydra/sweeper=naga_optuna", "param=range(1, 4)", "hydra.sweeper.sampler=tpee"),
        "unknown sampler (did you mean 'tpe'?); choose one of tpe, random",
    ),
    "naga_optuna without Optuna": Mistake(
        ("-m", "hydra/sweeper=naga_optuna", "param=range(1, 4)"),
        "Optuna is not installed; install naga with its optuna extra (pip install 'naga[optuna]')",
        # A real interpreter without Optuna: an `optuna` package beside the script (first on
        # sys.path) that fails to import, as a missing one does.
        files={"optuna/__init__.py": "raise ImportError(\"No module named 'optuna'\")\n"},
    ),
    "--skip-completed with a search": Mistake(
        ("-m", "hydra/sweeper=naga_optuna", "param=range(1, 4)", "--skip-completed"),
        "--skip-completed: the naga_optuna sweeper decides the jobs itself; drop --skip-completed",
    ),
    "--cfg of a search": Mistake(
        ("-m", "hydra/sweeper=naga_optuna", "param=range(1, 4)", "--cfg"),
        "--cfg: the naga_optuna sweeper decides the jobs itself; drop --cfg",
    ),
    "--detach of a third-party sweeper": Mistake(
        ("-m", "hydra/sweeper=halving", "param=1,2", "--slurm_config", "s.yaml", "--detach"),
        "--detach: the halving sweeper needs its process for the whole sweep",
        files={
            "s.yaml": "partition: debug\n",
            "hydra_plugins/halving_sweeper/__init__.py": "",
            "hydra_plugins/halving_sweeper/config.py": (
                APPS / "search/hydra_plugins/halving_sweeper/config.py"
            ).read_text(),
        },
    ),
    "--detach of a study on the basic launcher": Mistake(
        ("-m", "hydra/sweeper=naga_optuna", "param=range(1, 4)", "--detach"),
        "--detach needs a launcher that runs jobs without this command",
    ),
    "a sweep into a folder whose sweep still runs": Mistake(
        ("-m", "param=1,2"),
        "save_dir results/sweep: sweep live there still has 1 job queued or running; wait for "
        "it to end (naga status results/sweep --watch), stop it (Ctrl-C in its terminal, or kill",
        setup="busy sweep",
    ),
}

SHOW = "naga show: error: "
NAGA = {
    "no subcommand": Mistake((), "the following arguments are required: COMMAND"),
    "unknown subcommand": Mistake(("shwo",), "invalid choice: 'shwo'"),
    "missing run": Mistake(
        ("show", "no/such/run"),
        "run 'no/such/run' does not exist; pass a run directory",
        prefix=SHOW,
    ),
    "run dir without run.lock": Mistake(
        ("show", "empty"),
        "'empty' is a directory without a run.lock; pass a run's save_dir",
        setup="empty dir",
        prefix=SHOW,
    ),
    "not YAML": Mistake(
        ("show", "notes.txt"),
        "notes.txt is not valid YAML (line 2), so it is not a naga run.lock",
        files={"notes.txt": "key: [unclosed\n"},
        prefix=SHOW,
    ),
    "YAML, not a run.lock": Mistake(
        ("show", "other.yml"),
        "other.yml is not a naga run.lock (no 'naga_lock' format version field)",
        files={"other.yml": "a: 1\n"},
        prefix=SHOW,
    ),
    "future format": Mistake(
        ("show", "future"),
        "has run.lock format version 99, but naga 0.1.0 reads version 1",
        files={"future/run.lock": "naga_lock: 99\nrun_id: x\n"},
        prefix=SHOW,
    ),
    "corrupt run.lock": Mistake(
        ("show", "corrupt"),
        "run.lock is not valid YAML (line",
        files={"corrupt/run.lock": "naga_lock: 1\nconfig: {a: [\n"},
        prefix=SHOW,
    ),
    "diff of one run": Mistake(("diff", "a"), "the following arguments are required: B"),
    "ls of a missing dir": Mistake(("ls", "nowhere"), "directory 'nowhere' does not exist"),
    "bad --tag": Mistake(("log", "--tag", "owner", "."), "--tag 'owner' is not KEY=VALUE"),
    "log of a missing dir": Mistake(("log", "nope"), "run directory 'nope' does not exist"),
    "lineage format": Mistake(("lineage", ".", "--format", "png"), "invalid choice: 'png'"),
    "gc of a missing dir": Mistake(("gc", "nowhere"), "directory 'nowhere' does not exist"),
    "report of a dir without runs": Mistake(
        ("report", "empty"),
        "no run.lock below empty; pass the directories that hold your runs",
        setup="empty dir",
    ),
    "report of a missing dir": Mistake(("report", "nowhere"), "directory 'nowhere' does not exist"),
    "report --group-by typo": Mistake(
        ("report", "runs", "--group-by", "lrr"),
        "--group-by: unknown column 'lrr'. Did you mean 'lr'?",
        files={"runs/a/run.lock": REPORT_RUN},
    ),
    "report --x typo": Mistake(
        ("report", "runs", "--x", "sed"),
        "--x: unknown column 'sed'. Did you mean 'seed'?",
        files={"runs/a/run.lock": REPORT_RUN},
    ),
    "report --y typo": Mistake(
        ("report", "runs", "--y", "los"),
        "--y: unknown column 'los'. Did you mean 'loss'?",
        files={"runs/a/run.lock": REPORT_RUN},
    ),
    "report into a missing dir": Mistake(
        ("report", "runs", "-o", "no/such/report.html"),
        "-o no/such/report.html: directory 'no/such' does not exist",
        files={"runs/a/run.lock": REPORT_RUN},
    ),
    "report onto a directory": Mistake(
        ("report", "runs", "-o", "runs"),
        "-o runs: is a directory; name the HTML file to write",
        files={"runs/a/run.lock": REPORT_RUN},
    ),
    "report without plotly": Mistake(
        ("report", "runs"),
        "naga report needs plotly, which is not installed; install it with "
        "pip install 'naga[report]'",
        # A plotly that cannot be imported, found first on the path: as if it were absent.
        files={"runs/a/run.lock": REPORT_RUN, "shadow/plotly/__init__.py": "raise ImportError"},
        env={"PYTHONPATH": "shadow"},
    ),
    "negative --rtol": Mistake(
        ("rerun", ".", "--rtol=-1e-6"),
        "argument --rtol: '-1e-6' is not a tolerance; give a number >= 0, e.g. 1e-6",
    ),
    "--atol not a number": Mistake(
        ("rerun", ".", "--atol", "nan"), "argument --atol: 'nan' is not a tolerance"
    ),
    "resume of an earlier sweep's record": Mistake(
        ("resume", "results/sweep/.naga-sweep/history/20261121T063000Z_older.lock"),
        "this is the record of an earlier sweep of",
        setup="earlier sweep",
        prefix="naga resume: error: ",
    ),
    "gc of snapshots used elsewhere": Mistake(
        ("gc", "results/here"),
        "1 snapshot ref that gc would delete is still used by run.locks outside results/here",
        setup="snapshot used elsewhere",
    ),
    "--where word for a number": Mistake(
        ("ls", "--where", "lr=abc"), "config.lr holds numbers (e.g. 0.1)", setup="a run"
    ),
    "--where operator typo": Mistake(
        ("ls", "--where", "lr=>0.1"),
        "'=>' is not an operator; did you mean lr>=0.1?",
        setup="a run",
    ),
    "--where status typo": Mistake(
        ("ls", "--where", "status=complete"), "Did you mean 'completed'?", setup="a run"
    ),
    # runs that travel (tests/travel has the remote, bundle and hostile-archive cases)
    "push of a dir without runs": Mistake(
        ("push", "empty"),
        "no run.lock below empty; pass directories that hold runs",
        setup="empty dir",
        prefix="naga push: error: ",
    ),
    "export without -o": Mistake(
        ("export", "."), "the following arguments are required: -o/--output"
    ),
    "export of a dir without runs": Mistake(
        ("export", "empty", "-o", "runs.tar"),
        "no run.lock below empty, so there is nothing to export",
        setup="empty dir",
        prefix="naga export: error: ",
    ),
    "import of a missing file": Mistake(
        ("import", "runs.tar"), "runs.tar does not exist; pass the file `naga export` wrote"
    ),
    "import of a file that is no export": Mistake(
        ("import", "notes.txt"),
        "notes.txt is corrupt or truncated",
        files={"notes.txt": "my notes\n" * 100},
        prefix="naga import: error: ",
    ),
}

CASES = [
    *(pytest.param("train.py", m, id=f"train.py: {k}") for k, m in TRAIN.items()),
    *(pytest.param("job.py", m, id=f"job.py: {k}") for k, m in SWEEP.items()),
    *(pytest.param("naga", m, id=f"naga: {k}") for k, m in NAGA.items()),
]


@pytest.fixture
def project(weird_tmp_path: Path, make_git_repo: Callable[..., Path]) -> Path:
    """A user's repository holding both scripts, in a hostile directory."""
    root = weird_tmp_path / "project"
    for name, app in SCRIPTS.items():
        copy_app(app, root / name)
    return make_git_repo(root, files={".gitignore": "results/\n"})


def _prepare(project: Path, mistake: Mistake) -> None:
    for name, text in mistake.files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    if mistake.setup is not None:
        SETUPS[mistake.setup](project)


@pytest.mark.parametrize(("prog", "mistake"), CASES)
def test_a_mistake_is_one_line_exit_2(project: Path, prog: str, mistake: Mistake) -> None:
    _prepare(project, mistake)
    command = ["-m", "naga"] if prog == "naga" else [prog]
    result = subprocess.run(
        [sys.executable, *command, *mistake.argv],
        cwd=project,
        env={**os.environ, **mistake.env},
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    line = one_line_error(result.stderr)
    assert result.returncode == 2, result.stderr
    assert line.startswith(mistake.prefix or ("naga" if prog == "naga" else f"{prog}: error: "))
    assert mistake.expected in line
    # The user's function never ran: train.py prints its config, job.py a line per job.
    assert "CFG=" not in result.stdout and "job param=" not in result.stdout
