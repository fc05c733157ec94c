"""The receipt's invariants, asserted the same way on every path a run can start by.

One parametrized suite, in the shape of Hydra's ``LauncherTestSuite``: for each way a user
starts naga code (single run, every launcher, ``--tasks``, the Hydra callback under every
launcher, ``python -m``, a console script, a programmatic call, a notebook) and for a venv
outside and inside the project, every run.lock it leaves must say

- ``script``: the user's file relative to the user's repository, and the function;
- ``repos``: exactly the user's repository, at ``git rev-parse HEAD``, dirty, with a
  snapshot commit that the git CLI can read and that holds the uncommitted edit;
- ``command``: what the user typed after ``python`` (``-m pkg.mod ...`` for a module), never
  a launcher's bootstrap;
- ``launcher``, ``pid``, ``host`` (and Slurm ids on Slurm, with ``slurm_id`` the one
  ``scancel`` takes) as they were;
- ``status: completed``.

Never a launcher's bootstrap file, never the repository holding the interpreter.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest
from receipt_project import EDIT, Project, git, load

SLURM = [pytest.mark.slurm, pytest.mark.slow]
SLURM_HYDRA = [
    "hydra/launcher=submitit_slurm",
    "hydra.launcher.partition=debug",
    "hydra.launcher.timeout_min=5",
    "hydra.launcher.cpus_per_task=1",
]


@dataclass(frozen=True)
class Way:
    """One way to start a run, and what its receipts must say."""

    argv: tuple[str, ...]
    runs: tuple[str, ...]  # run directories, relative to the project
    script: str
    function: str
    launcher: str | None
    slurm: bool = False
    console: bool = False
    env: dict[str, str] = field(default_factory=dict)


WAYS = {
    "single": Way(
        ("job.py", "param=2", "save_dir=results/s"), ("results/s",), "job.py", "main", None
    ),
    "basic": Way(
        ("job.py", "-m", "param=1,2", "save_dir=results/b"),
        ("results/b/param=1", "results/b/param=2"),
        "job.py",
        "main",
        "basic",
    ),
    "joblib": Way(
        ("job.py", "-m", "param=1,2", "--n_jobs", "2", "save_dir=results/j"),
        ("results/j/param=1", "results/j/param=2"),
        "job.py",
        "main",
        "joblib",
    ),
    "tasks-joblib": Way(
        ("job.py", "--tasks", "tasks.txt", "--task_to", "param", "--n_jobs", "2"),
        ("results/job/param=7", "results/job/param=8"),
        "job.py",
        "main",
        "joblib",
    ),
    "submitit_local": Way(
        ("job.py", "-m", "param=1,2", "hydra/launcher=submitit_local", "save_dir=results/l"),
        ("results/l/param=1", "results/l/param=2"),
        "job.py",
        "main",
        "submitit_local",
    ),
    "slurm": Way(
        ("job.py", "-m", "param=1,2", "--slurm_config", "slurm.yaml", "save_dir=results/r"),
        ("results/r/param=1", "results/r/param=2"),
        "job.py",
        "main",
        "submitit_slurm",
        slurm=True,
    ),
    "python-m": Way(
        ("-m", "mypkg.train", "lr=0.5", "save_dir=results/m"),
        ("results/m",),
        "mypkg/train.py",
        "main",
        None,
    ),
    "console-script": Way(
        ("lr=0.5", "save_dir=results/c"),
        ("results/c",),
        "mypkg/train.py",
        "main",
        None,
        console=True,
    ),
    "programmatic": Way(("call_main.py",), ("results/programmatic",), "job.py", "main", None),
    "callback-single": Way(
        ("hydra_app.py", "hydra/callbacks=naga_runlock", "hydra.run.dir=results/cb"),
        ("results/cb",),
        "hydra_app.py",
        "my_app",
        None,
    ),
    "callback-basic": Way(
        (
            "hydra_app.py",
            "-m",
            "hydra/callbacks=naga_runlock",
            "hydra.sweep.dir=results/cbb",
            "x=1,2",
        ),
        ("results/cbb/0", "results/cbb/1"),
        "hydra_app.py",
        "my_app",
        "basic",
    ),
    "callback-joblib": Way(
        (
            "hydra_app.py",
            "-m",
            "hydra/callbacks=naga_runlock",
            "hydra/launcher=joblib",
            "hydra.launcher.n_jobs=2",
            "hydra.sweep.dir=results/cbj",
            "x=1,2",
        ),
        ("results/cbj/0", "results/cbj/1"),
        "hydra_app.py",
        "my_app",
        "joblib",
    ),
    "callback-submitit_local": Way(
        (
            "hydra_app.py",
            "-m",
            "hydra/callbacks=naga_runlock",
            "hydra/launcher=submitit_local",
            "hydra.sweep.dir=results/cbl",
            "x=1,2",
        ),
        ("results/cbl/0", "results/cbl/1"),
        "hydra_app.py",
        "my_app",
        "submitit_local",
    ),
    "callback-slurm": Way(
        (
            "hydra_app.py",
            "-m",
            "hydra/callbacks=naga_runlock",
            *SLURM_HYDRA,
            "hydra.sweep.dir=results/cbr",
            "x=1,2",
        ),
        ("results/cbr/0", "results/cbr/1"),
        "hydra_app.py",
        "my_app",
        "submitit_slurm",
        slurm=True,
    ),
}


def _params() -> list[object]:
    return [
        pytest.param(way, id=name, marks=SLURM if way.slurm else [pytest.mark.slow])
        for name, way in WAYS.items()
    ]


def check_receipt(
    lock: dict,
    project: Project,
    *,
    script: str,
    function: str,
    launcher: str | None,
    command: list[str],
) -> None:
    """The invariants every receipt keeps, whichever way its run started."""
    assert lock["status"] == "completed", lock.get("error")
    assert lock["command"] == command
    assert lock["script"]["path"] == script
    assert lock["script"]["repo"] == str(project.root)
    assert lock["script"]["function"] == function
    roots = [entry["root"] for entry in lock["repos"].values()]
    assert roots == [str(project.root)], roots  # the user's repository, and only that
    entry = next(iter(lock["repos"].values()))
    assert entry["commit"] == project.head()
    assert entry["dirty"] is True
    snapshot = entry["snapshot"]["commit"]
    assert git(project.root, "cat-file", "-t", snapshot).strip() == "commit"
    assert EDIT in git(project.root, "show", f"{snapshot}:{script}")
    assert lock["launcher"] == launcher
    assert isinstance(lock["pid"], int)
    assert lock["host"] == os.uname().nodename


@pytest.mark.parametrize("way", _params())
def test_every_receipt_names_the_users_code(
    way: Way, project: Project, request: pytest.FixtureRequest
) -> None:
    env = dict(way.env)
    if way.slurm:
        env.update(request.getfixturevalue("slurm_cluster"))
    typed = [str(project.bin_dir / "train-cli"), *way.argv] if way.console else list(way.argv)
    done = project.run(*typed, env=env)
    assert done.returncode == 0, done.stderr
    for run in way.runs:
        lock = load(project.root / run / "run.lock")
        check_receipt(
            lock,
            project,
            script=way.script,
            function=way.function,
            launcher=way.launcher,
            command=typed,
        )
        if way.slurm:
            assert lock["slurm_job_id"]
            array, task = lock["slurm_array_job_id"], lock["slurm_array_task_id"]
            assert lock["slurm_id"] == (f"{array}_{task}" if array else lock["slurm_job_id"])


@pytest.mark.slow
@pytest.mark.parametrize("named", [True, False], ids=["notebook-named", "notebook-unnamed"])
def test_a_notebook_run_names_the_notebook(
    named: bool, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    cell = (
        "from naga import clicfg\n\n"
        "class Config:\n    param = 5\n    save_dir = 'results/nb'\n\n"
        "@clicfg(config_class=Config)\n"
        "def main(cfg):\n    return cfg.param\n\n"
        "main()\n"
    )
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])
    path = project.root / "analysis.ipynb"
    nbformat.write(notebook, path)
    git(project.root, "add", "analysis.ipynb")
    git(project.root, "commit", "-q", "-m", "notebook")
    if named:  # what jupyter-server tells the kernel it starts for a notebook
        monkeypatch.setenv("JPY_SESSION_NAME", str(path))
    else:
        monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.setenv("PYTHONPATH", project.env()["PYTHONPATH"])
    client = nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": project.root}}
    )
    client.execute()
    lock = load(project.root / "results" / "nb" / "run.lock")
    assert lock["status"] == "completed"
    assert lock["script"]["notebook"] is True
    assert lock["script"]["function"] == "main"
    assert lock["script"]["path"] == ("analysis.ipynb" if named else None)
    roots = [entry["root"] for entry in lock["repos"].values()]
    assert roots == [str(project.root)]
    assert next(iter(lock["repos"].values()))["commit"] == project.head()
