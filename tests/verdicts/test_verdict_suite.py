"""The verdict suite: one completed run, one change at a time, the exact verdict of each command.

For every way a run starts -- a single run, a job of a basic sweep, of a joblib sweep, of a
Slurm sweep -- one project is built once (module scope): a git repository holding the
user's script (tests/apps/verdicts/app.py, data git-ignored) and one completed run A. Each
case puts that project back in place, makes ONE change a user could make, and asserts what
``naga rerun A``, ``naga diff A B``, ``naga verify A`` and the ``code`` column of
``naga ls`` say, all through real processes. B is the rerun's own run when the change is
one a rerun sees (the documented rerun-then-diff check); for a change of the code, B is the
user's command run again, since a rerun checks out A's code whatever the work tree holds.

| change                      | rerun A            | diff A B              | verify A    | code  |
|-----------------------------|--------------------|-----------------------|-------------|-------|
| nothing                     | reproduced         | equivalent            | clean       | same  |
| a metric (unrecorded input) | 1 metric differs   | metrics               | clean       | same  |
| a metric, within --rtol     | reproduced, within | metrics               | clean       | same  |
| a config key (-o workers=4) | 1 key differs      | config                | clean       | same  |
| an output file's bytes      | 1 file differs     | equivalent (not its)  | clean       | same  |
| a data file                 | input drifted, ... | data, metrics         | CHANGED     | same  |
| a committed code edit       | reproduced         | code, metrics         | clean       | other |
| an uncommitted code edit    | reproduced         | code (snapshot), ...  | clean       | other |
| same tree, another commit   | reproduced         | equivalent            | UNREACHABLE | same  |

The uncommitted edit also checks the other direction: B (a dirty run) reruns to
``reproduced`` and ``naga diff B <its rerun>`` is ``equivalent`` (its snapshot's tree is
the rerun's commit's tree).

Every mismatch of a case is collected, so a failure names each command whose verdict was
wrong (the report of the change that added this suite lists which failed on older naga).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import APPS, HOSTILE_NAME, git, isolated_env

pytestmark = pytest.mark.slow

APP = APPS / "verdicts" / "app.py"
#: How each launcher is chosen. A is a single run, or the lr=0.1 job of ``-m lr=0.1,0.2``;
#: a new run B of the user's command is a single run or a one-job sweep ``-m lr=0.1``.
LAUNCHERS: dict[str, list[str]] = {
    "single": [],
    "basic": [],
    "joblib": ["hydra/launcher=joblib"],
    "slurm": ["hydra/launcher=submitit_slurm", "hydra.launcher.timeout_min=5"],
}
REPRODUCED = "reproduced: config identical, 2 metrics identical, 2 output files identical"


@dataclass
class Project:
    """The user's repository with run A, restored from ``template`` before every case."""

    root: Path
    template: Path
    env: dict[str, str]
    launcher: str

    @property
    def a(self) -> Path:
        return self.root / "results" / "run" / ("" if self.launcher == "single" else "lr=0.1")

    def restore(self) -> None:
        shutil.rmtree(self.root)
        shutil.copytree(self.template, self.root, symlinks=True)

    def _run(self, argv: list[str], env: dict[str, str] | None) -> subprocess.CompletedProcess:
        return subprocess.run(
            argv,
            cwd=self.root,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=600,
            stdin=subprocess.DEVNULL,
            check=False,
        )

    def app(self, *, save_dir: str, lrs: str) -> Path:
        """Run the user's command with this launcher; return the directory of its lr=0.1 run.

        A sweep runs ``-m lr=<lrs>``; a single run ignores ``lrs`` (lr=0.1 is the default).
        """
        sweep = [] if self.launcher == "single" else ["-m", f"lr={lrs}"]
        argv = [sys.executable, "app.py", *sweep, *LAUNCHERS[self.launcher]]
        result = self._run([*argv, f"save_dir={save_dir}"], None)
        assert result.returncode == 0, result.stdout + result.stderr
        if self.launcher == "single":
            return self.root / save_dir
        # A sweep's job folder is named by its overrides; take the one that ran lr=0.1.
        for lock in sorted((self.root / save_dir).glob("*/run.lock")):
            if yaml.safe_load(lock.read_text())["config"]["lr"] == 0.1:
                return lock.parent
        raise AssertionError(f"no lr=0.1 job below {save_dir}: {result.stderr}")

    def naga(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return self._run([sys.executable, "-m", "naga", *args], env)

    def git(self, *args: str) -> str:
        return git(self.root, *args, env=self.env).strip()

    def tree(self, rev: str) -> str:
        return self.git("rev-parse", f"{rev}^{{tree}}")


def lock(run_dir: Path) -> dict[str, Any]:
    return yaml.safe_load((run_dir / "run.lock").read_text())


@pytest.fixture(
    scope="module",
    params=[
        "single",
        "basic",
        "joblib",
        pytest.param("slurm", marks=pytest.mark.slurm),
    ],
)
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The launcher's project with run A, built once; cases restore it from a template."""
    launcher = request.param
    home = tmp_path_factory.mktemp("home")
    env = isolated_env(home)
    if launcher == "slurm":
        env.update(request.getfixturevalue("slurm_cluster"))
        # submitit writes job paths into line-based #SBATCH directives: no hostile name.
        base = tmp_path_factory.mktemp("verdicts-slurm")
    else:
        base = tmp_path_factory.mktemp("verdicts") / HOSTILE_NAME
    root = base / "project"
    root.mkdir(parents=True)
    for args in (
        ("init", "-q", "-b", "main"),
        ("config", "user.name", "Naga Test"),
        ("config", "user.email", "naga@example.invalid"),
    ):
        git(root, *args, env=env)
    shutil.copyfile(APP, root / "app.py")
    (root / ".gitignore").write_text("data/\nresults/\n")
    git(root, "add", "-A", env=env)
    git(root, "commit", "-q", "-m", "the user's script", env=env)
    (root / "data").mkdir()
    (root / "data" / "numbers.txt").write_text("1 2 3.5\n")
    project = Project(root=root, template=base / "template", env=env, launcher=launcher)
    assert project.app(save_dir="results/run", lrs="0.1,0.2") == project.a
    shutil.copytree(root, project.template, symlinks=True)
    return project


# -- the changes -------------------------------------------------------------------------


@dataclass
class Change:
    """What a case did: how to rerun A, and whether B is a new run of the user's command."""

    rerun_args: list[str] = field(default_factory=list)
    rerun_env: dict[str, str] = field(default_factory=dict)
    new_run: bool = False


def _edit_code(project: Project) -> None:
    app = project.root / "app.py"
    app.write_text(app.read_text().replace("SCALE = 1.0", "SCALE = 2.0"))


def nothing(project: Project) -> Change:
    return Change()


def metric(project: Project) -> Change:
    return Change(rerun_env={"VERDICT_JITTER": "0.5"})


def metric_within_rtol(project: Project) -> Change:
    return Change(rerun_args=["--rtol", "1e-6"], rerun_env={"VERDICT_JITTER": "1e-9"})


def config_key(project: Project) -> Change:
    return Change(rerun_args=["--override", "workers=4"])


def output_bytes(project: Project) -> Change:
    return Change(rerun_env={"VERDICT_STAMP": " at 2026-12-07 18:00"})


def data_file(project: Project) -> Change:
    (project.root / "data" / "numbers.txt").write_text("1 2 4.5\n")
    return Change()


def committed_code(project: Project) -> Change:
    _edit_code(project)
    project.git("commit", "-q", "-am", "scale by two")
    return Change(new_run=True)


def uncommitted_code(project: Project) -> Change:
    _edit_code(project)
    return Change(new_run=True)


def same_tree_other_commit(project: Project) -> Change:
    project.git("commit", "-q", "--amend", "-m", "the same code, another message")
    return Change(new_run=True)


# -- the expected verdicts -----------------------------------------------------------------


@dataclass
class Facts:
    """What the expectations are computed from: the two receipts and git's own answers."""

    project: Project
    a: dict[str, Any]
    b: dict[str, Any]
    a_commit: str

    def metric_line(self, name: str) -> str:
        """How ``naga diff`` shows a changed metric."""
        return f"{name}: {self.values(name)}"

    def values(self, name: str) -> str:
        return f"{self.a['metrics'][name]!r} → {self.b['metrics'][name]!r}"


@dataclass
class Expect:
    rerun_exit: int
    rerun_verdict: str
    rerun_lines: list[str]
    diff: dict[str, list[str]]
    verify_drifts: list[tuple[str, str, str]]
    b_code: str  # the expected `code` of B; A's is always the tree of its commit


def _data_hash(run: dict[str, Any]) -> str:
    digest = run["data"]["data/numbers.txt"]["hash"]
    return digest[: len("blake3:") + 12]


EXPECTATIONS: dict[str, Callable[[Facts], Expect]] = {
    "nothing": lambda f: Expect(0, REPRODUCED, [], {}, [], f"tree:{f.project.tree(f.a_commit)}"),
    "metric": lambda f: Expect(
        1,
        "not reproduced: 1 of 2 metrics differs",
        ["metrics: 1 of 2 metrics differs", f"  different       loss  {f.values('loss')}"],
        {"metrics": [f.metric_line("loss")]},
        [],
        f"tree:{f.project.tree(f.a_commit)}",
    ),
    "metric_within_rtol": lambda f: Expect(
        0,
        "reproduced: config identical, metrics within rtol=1e-06 (1 of 2 not identical), "
        "2 output files identical",
        ["metrics: 2 within rtol=1e-06 (1 not identical)"],
        {"metrics": [f.metric_line("loss")]},
        [],
        f"tree:{f.project.tree(f.a_commit)}",
    ),
    "config_key": lambda f: Expect(
        1,
        "not reproduced: 1 of 3 config keys differs",
        ["config: 1 of 3 keys differs", "  workers: 2 → 4"],
        {"config": ["workers: 2 → 4"]},
        [],
        f"tree:{f.project.tree(f.a_commit)}",
    ),
    "output_bytes": lambda f: Expect(
        1,
        "not reproduced: 1 of 2 output files differs",
        ["  different       log.txt", "  identical       model.txt"],
        {},
        [],
        f"tree:{f.project.tree(f.a_commit)}",
    ),
    "data_file": lambda f: Expect(
        1,
        "not reproduced: 1 recorded input drifted; 1 of 2 metrics differs; "
        "1 of 2 output files differs",
        [
            f"  data    changed  data/numbers.txt  {_data_hash(f.a)} → {_data_hash(f.b)}",
            f"  different       loss  {f.values('loss')}",
            "  different       model.txt",
        ],
        {
            "data": [f"data/numbers.txt: {_data_hash(f.a)} → {_data_hash(f.b)}"],
            "metrics": [f.metric_line("loss")],
        },
        [("CHANGED", "data", "data/numbers.txt")],
        f"tree:{f.project.tree(f.a_commit)}",
    ),
    "committed_code": lambda f: Expect(
        0,
        REPRODUCED,
        [],
        {
            "code": [
                f".: commit {f.a_commit[:8]} → commit {f.project.git('rev-parse', 'HEAD')[:8]}"
            ],
            "metrics": [f.metric_line("loss")],
        },
        [],
        f"tree:{f.project.tree('HEAD')}",
    ),
    "uncommitted_code": lambda f: Expect(
        0,
        REPRODUCED,
        [],
        {
            "code": [
                f".: commit {f.a_commit[:8]} → commit {f.a_commit[:8]} + snapshot tree "
                f"{f.b['repos']['.']['snapshot']['tree'][:8]}"
            ],
            "metrics": [f.metric_line("loss")],
        },
        [],
        # git's own tree of the work tree (the edit is to a tracked file): `git stash create`
        f"tree:{f.project.tree(f.project.git('stash', 'create'))}",
    ),
    "same_tree_other_commit": lambda f: Expect(
        0,
        REPRODUCED,
        [],
        {},
        [("UNREACHABLE", "code", ".")],
        f"tree:{f.project.tree(f.a_commit)}",
    ),
}
CHANGES: dict[str, Callable[[Project], Change]] = {
    "nothing": nothing,
    "metric": metric,
    "metric_within_rtol": metric_within_rtol,
    "config_key": config_key,
    "output_bytes": output_bytes,
    "data_file": data_file,
    "committed_code": committed_code,
    "uncommitted_code": uncommitted_code,
    "same_tree_other_commit": same_tree_other_commit,
}


# -- the suite -----------------------------------------------------------------------------


def _drifts(stdout: str) -> list[tuple[str, str, str]]:
    """(STATUS, area, key) of each drift line ``naga verify -q`` printed."""
    found = []
    for line in stdout.splitlines():
        parts = line.split()
        if line.startswith("  ") and len(parts) >= 3 and parts[0].isupper():
            found.append((parts[0], parts[1], parts[2]))
    return found


def _codes(project: Project, *runs: Path) -> list[Any]:
    """The ``code`` column of ``naga ls`` for each run, in order."""
    listed = project.naga("ls", "--format", "json", "--columns", "code", *map(str, runs))
    if listed.returncode != 0:
        return [listed.stderr.strip()]
    rows = {
        str((project.root / row["run"]).resolve()): row["code"] for row in json.loads(listed.stdout)
    }
    return [rows.get(str(run.resolve()), "(not listed)") for run in runs]


def _rerun(
    project: Project, run: Path, workdir: Path, change: Change
) -> subprocess.CompletedProcess:
    shutil.rmtree(workdir, ignore_errors=True)
    return project.naga(
        "rerun", str(run), "--workdir", str(workdir), *change.rerun_args, env=change.rerun_env
    )


@pytest.mark.parametrize("case", list(CHANGES))
def test_every_verdict_after_one_change(project: Project, case: str) -> None:
    project.restore()
    a_lock = lock(project.a)
    a_commit = a_lock["repos"]["."]["commit"]
    change = CHANGES[case](project)
    workdir = project.root.parent / f"rerun of {case}"

    rerun = _rerun(project, project.a, workdir, change)
    b = project.app(save_dir="results/b", lrs="0.1") if change.new_run else workdir / "out"
    assert (b / "run.lock").is_file(), f"no run B: {rerun.stdout}{rerun.stderr}"
    expect = EXPECTATIONS[case](Facts(project, a_lock, lock(b), a_commit))
    diff = project.naga("diff", "--json", str(project.a), str(b))
    verify = project.naga("verify", "--quiet", str(project.a))
    codes = _codes(project, project.a, b)

    wrong = []
    rerun_lines = rerun.stdout.splitlines()
    if (rerun.returncode, rerun_lines[-1:]) != (expect.rerun_exit, [expect.rerun_verdict]):
        wrong.append(f"rerun: exit {rerun.returncode}, {rerun_lines[-1:]}: {rerun.stderr}")
    wrong += [f"rerun: no line {line!r}" for line in expect.rerun_lines if line not in rerun_lines]
    sections = json.loads(diff.stdout) if diff.returncode in (0, 1) else diff.stderr
    if (diff.returncode, sections) != (1 if expect.diff else 0, expect.diff):
        wrong.append(f"diff: exit {diff.returncode}, {sections}")
    if (verify.returncode, _drifts(verify.stdout)) != (
        1 if expect.verify_drifts else 0,
        expect.verify_drifts,
    ):
        wrong.append(f"verify: exit {verify.returncode}, {verify.stdout}")
    if codes != [f"tree:{project.tree(a_commit)}", expect.b_code]:
        wrong.append(f"ls code: {codes}")

    if case == "uncommitted_code":
        # The dirty run B, rerun: reproduced, and B and its rerun ran the same tree.
        again = _rerun(project, b, workdir, Change())
        if again.stdout.splitlines()[-1:] != [REPRODUCED]:
            wrong.append(f"rerun of the dirty run: {again.stdout[-400:]}")
        back = project.naga("diff", "--json", str(b), str(workdir / "out"))
        if (back.returncode, back.stdout.strip()) != (0, "{}"):
            wrong.append(f"diff of the dirty run and its rerun: {back.stdout}")
        if _codes(project, b, workdir / "out") != [expect.b_code, expect.b_code]:
            wrong.append(
                f"ls code of the dirty run and its rerun: {_codes(project, b, workdir / 'out')}"
            )
    assert wrong == [], f"{project.launcher}/{case}: wrong verdicts:\n" + "\n".join(wrong)
