"""The seeds' runlock examples, run exactly as users run them (subprocesses in fresh repos)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from helpers import APPS, copy_app, git

B3SUM = shutil.which("b3sum")

#: The snippets of the runlock page (tests/apps/runlock_page/process.py runs the one named
#: by RUNLOCK_EXAMPLE after the basic call).
SNIPPETS = ("repos_list", "repos_dict", "data_list", "data_dict", "prevs")


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def check_common(lock: dict, project: Path) -> None:
    assert lock["naga_lock"] == 1
    assert lock["status"] == "completed"
    assert lock["config"] == {
        "param": 1,
        "input_path": "data/input.csv",
        "save_dir": "results/process",
    }
    assert lock["script"] == {"path": "process.py", "repo": str(project), "function": "main"}
    assert lock["command"] == ["process.py"]


def check_repo(entry: dict, repo: Path, given: str) -> None:
    assert entry["path"] == given
    assert entry["root"] == str(repo.resolve())
    assert git(repo, "cat-file", "-t", entry["commit"]).strip() == "commit"
    assert entry["commit"] == git(repo, "rev-parse", "HEAD").strip()


def check_data(entry: dict, project: Path, given: str) -> None:
    assert entry["path"] == given
    assert entry["kind"] == "file"
    assert entry["size"] == (project / given).stat().st_size
    if B3SUM:
        out = subprocess.run(
            [B3SUM, "--no-names", given], cwd=project, capture_output=True, text=True, check=True
        )
        assert entry["hash"] == "blake3:" + out.stdout.strip()


@pytest.mark.parametrize("snippet", ["basic", *SNIPPETS])
def test_runlock_page_examples(
    snippet: str,
    weird_tmp_path: Path,
    make_git_repo: Callable[..., Path],
    run_py: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    project = weird_tmp_path / "project"
    page = APPS / "runlock_page"
    make_git_repo(
        project,
        files={
            "process.py": (page / "process.py").read_text(),
            "prepare.py": (page / "prepare.py").read_text(),
            "data/validation.csv": "v\n",
            ".gitignore": "results/\ndata/input.csv\ndata/run.lock\n",
        },
    )
    make_git_repo(weird_tmp_path / "libs" / "my_lib", files={"lib.py": "X = 1\n"})
    prepared = run_py("prepare.py", cwd=project)
    assert prepared.returncode == 0, prepared.stderr
    result = run_py("process.py", cwd=project, env={"RUNLOCK_EXAMPLE": snippet})
    assert result.returncode == 0, result.stderr
    assert (project / "results/process/output.txt").read_text() == "results"
    lock = load(project / "results/process/run.lock")
    check_common(lock, project)
    # Every runlock() call of the script merged into one file.
    assert sorted(p.name for p in (project / "results/process").iterdir()) == [
        "output.txt",
        "run.lock",
    ]
    if snippet in ("repos_list", "data_list", "data_dict", "prevs"):
        assert list(lock["repos"]) == ["."]
        check_repo(lock["repos"]["."], project, ".")
        assert lock["repos"]["."]["dirty"] is False
    if snippet == "repos_dict":
        assert list(lock["repos"]) == ["main_project", "shared_library"]
        check_repo(lock["repos"]["main_project"], project, ".")
        check_repo(
            lock["repos"]["shared_library"], weird_tmp_path / "libs/my_lib", "../libs/my_lib"
        )
    if snippet in ("data_list", "prevs"):
        check_data(lock["data"]["data/input.csv"], project, "data/input.csv")
    if snippet == "data_dict":
        check_data(lock["data"]["raw_dataset"], project, "data/input.csv")
        check_data(lock["data"]["validation_set"], project, "data/validation.csv")
    if snippet == "prevs":
        upstream_id = load(project / "data/run.lock")["run_id"]
        assert lock["prevs"] == {"data": {"path": "../../data", "run_id": upstream_id}}
        assert lock["upstream"][upstream_id]["path"] == "../../data"
        assert lock["upstream"][upstream_id]["lock"]["config"] == {"save_dir": "data"}
    else:
        assert lock["prevs"] == {}


def test_readme_step1(
    tmp_path: Path,
    make_git_repo: Callable[..., Path],
    run_py: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    project = make_git_repo(
        tmp_path / "proj", files={"process.py": (APPS / "readme_process.py").read_text()}
    )
    result = run_py("process.py", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "Output written to results/process/out.txt" in result.stdout
    lock = load(project / "results/process/run.lock")
    check_repo(lock["repos"]["."], project, ".")
    # The script created data/ and results/ (untracked): the repo is dirty and snapshotted.
    assert lock["repos"]["."]["dirty"] is True
    snap = lock["repos"]["."]["snapshot"]["commit"]
    assert git(project, "cat-file", "-t", snap).strip() == "commit"
    assert git(project, "show", f"{snap}:data/preprocess/input.csv") == "some data"
    check_data(lock["data"]["data/preprocess/input.csv"], project, "data/preprocess/input.csv")
    assert lock["script"]["function"] == "process"


def test_missing_data_fails_and_writes_nothing(
    tmp_path: Path, run_py: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    copy_app("missing_data.py", tmp_path / "s.py")
    result = run_py("s.py", "nope.csv", cwd=tmp_path)
    assert result.returncode == 1
    assert "DataError" in result.stderr and "nope.csv" in result.stderr
    assert not (tmp_path / "out" / "run.lock").exists()


def test_finish_run_tracks_script_repo_once(
    tmp_path: Path,
    make_git_repo: Callable[..., Path],
    run_py: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    project = make_git_repo(
        tmp_path / "p",
        files={"train.py": (APPS / "session_train.py").read_text(), ".gitignore": "runs/\n"},
    )
    result = run_py("train.py", cwd=project)
    assert result.returncode == 0, result.stderr
    lock = load(project / "runs/a/run.lock")
    assert lock["status"] == "completed"
    assert list(lock["repos"]) == ["."]
    check_repo(lock["repos"]["."], project, ".")
    assert lock["config"]["api_key"] == "***"
    assert lock["script"] == {"path": "train.py", "repo": str(project), "function": "train"}
    # An explicit entry for the same repository under another key is not duplicated.
    result = run_py("train.py", str(project), "--fail", cwd=project)
    assert result.returncode == 1
    assert "RuntimeError: diverged" in result.stderr
    lock = load(project / "runs/a/run.lock")
    assert lock["status"] == "failed"
    assert list(lock["repos"]) == [str(project)]
    assert lock["error"]["message"] == "diverged"
