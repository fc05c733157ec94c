"""The seeds' runlock examples, run exactly as users run them (subprocesses in fresh repos)."""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from helpers import git

B3SUM = shutil.which("b3sum")

RUNLOCK_PAGE_SCRIPT = """\
from pathlib import Path
from naga import runlock

class Config:
    param = 1
    input_path = 'data/input.csv'
    save_dir = 'results/process'

def main(cfg: Config = Config()):
    # --- Your core logic runs here ---
    # For example, processing data and saving results.
    output_path = Path(cfg.save_dir) / 'output.txt'
    output_path.parent.mkdir(parents=True, exist_ok=True)
    output_path.write_text("results")
    # --- Core logic ends ---

    # Create the runlock after the process has successfully completed.
    runlock(
        config=cfg,
        runlock_path=Path(cfg.save_dir) / 'run.lock' # (default if save_dir is in config)
    )
{extra}

if __name__ == '__main__':
    main()
"""

# The later snippets of docs/naga-runlock.md, each appended to main() as written there.
SNIPPETS = {
    "repos_list": """
    runlock(
        config=cfg,
        repos=['.']  # Tracks the Git commit of the current directory
    )
""",
    "repos_dict": """
    runlock(
        config=cfg,
        repos={
            'main_project': '.',
            'shared_library': '../libs/my_lib'
        }
    )
""",
    "data_list": """
    runlock(
        config=cfg,
        repos=['.'],
        data=[cfg.input_path]  # Hashes the file at cfg.input_path
    )
""",
    "data_dict": """
    runlock(
        config=cfg,
        repos=['.'],
        data={
            'raw_dataset': cfg.input_path,
            'validation_set': 'data/validation.csv'
        }
    )
""",
    "prevs": """
    runlock(
        config=cfg,
        repos=['.'],
        data=[cfg.input_path],
        prevs=[Path(cfg.input_path).parent] # Path to the directory of the previous stage
    )
""",
}

# An upstream stage whose save_dir is data/, so data/run.lock exists for the prevs example.
PREPARE_SCRIPT = """\
from pathlib import Path
from naga import runlock

class Config:
    save_dir = 'data'

def main(cfg=Config()):
    Path(cfg.save_dir).mkdir(exist_ok=True)
    Path(cfg.save_dir, 'input.csv').write_text('a,b\\n1,2\\n')
    runlock(config=cfg)

if __name__ == '__main__':
    main()
"""


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
    extra = "" if snippet == "basic" else SNIPPETS[snippet]
    make_git_repo(
        project,
        files={
            "process.py": RUNLOCK_PAGE_SCRIPT.format(
                extra=textwrap.indent(textwrap.dedent(extra), "    ")
            ),
            "prepare.py": PREPARE_SCRIPT,
            "data/validation.csv": "v\n",
            ".gitignore": "results/\ndata/input.csv\ndata/run.lock\n",
        },
    )
    make_git_repo(weird_tmp_path / "libs" / "my_lib", files={"lib.py": "X = 1\n"})
    prepared = run_py("prepare.py", cwd=project)
    assert prepared.returncode == 0, prepared.stderr
    result = run_py("process.py", cwd=project)
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


README_SCRIPT = """\
# process.py
from pathlib import Path
from naga import runlock

class Config:
    param = 1
    input_path = 'data/preprocess/input.csv'
    save_dir = 'results/process'

def process(cfg: Config=Config()):
    print(f"Running with param: {cfg.param}")
    # Create dummy input if it doesn't exist
    Path(cfg.input_path).parent.mkdir(parents=True, exist_ok=True)
    Path(cfg.input_path).write_text("some data")

    # Core logic
    output_path = Path(cfg.save_dir) / 'out.txt'
    output_path.parent.mkdir(parents=True, exist_ok=True)
    with open(output_path, 'w') as f:
        for _ in range(cfg.param):
            f.write(Path(cfg.input_path).read_text())
    print(f"Output written to {output_path}")
    runlock(
        config=cfg,
        repos=['.'],  # Track the git version of the current repo
        data=[cfg.input_path],  # Hash the input data
        # prevs=[Path(cfg.input_path).parent], # You can also track previous stages
        runlock_path=Path(cfg.save_dir) / 'run.lock'
    )

if __name__ == '__main__':
    process()
"""


def test_readme_step1(
    tmp_path: Path,
    make_git_repo: Callable[..., Path],
    run_py: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    project = make_git_repo(tmp_path / "proj", files={"process.py": README_SCRIPT})
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


FAILING_SCRIPT = """\
import sys
from naga import runlock

def main():
    runlock({"save_dir": "out"}, data=[sys.argv[1]])

main()
"""


def test_missing_data_fails_and_writes_nothing(
    tmp_path: Path, run_py: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    (tmp_path / "s.py").write_text(FAILING_SCRIPT)
    result = run_py("s.py", "nope.csv", cwd=tmp_path)
    assert result.returncode == 1
    assert "DataError" in result.stderr and "nope.csv" in result.stderr
    assert not (tmp_path / "out" / "run.lock").exists()


SESSION_SCRIPT = """\
import sys
from naga.lock.session import start_run, finish_run
from naga import runlock

def train(cfg):
    runlock(cfg, repos=[sys.argv[1]] if len(sys.argv) > 1 else None)
    if cfg["fail"]:
        raise RuntimeError("diverged")

cfg = {"save_dir": "runs/a", "fail": "--fail" in sys.argv, "api_key": "sk-123"}
ctx = start_run(lock_path="runs/a/run.lock", function=train)
try:
    train(cfg)
except Exception as exc:
    finish_run(ctx, config=cfg, status="failed", error=exc)
    raise
finish_run(ctx, config=cfg, status="completed")
"""


def test_finish_run_tracks_script_repo_once(
    tmp_path: Path,
    make_git_repo: Callable[..., Path],
    run_py: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    project = make_git_repo(
        tmp_path / "p", files={"train.py": SESSION_SCRIPT, ".gitignore": "runs/\n"}
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
