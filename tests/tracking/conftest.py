"""Fixtures for the MLflow tests: real SQLite stores and a real ``mlflow server``.

Creating an MLflow SQLite schema runs ~100 alembic migrations (seconds on a busy machine),
so one store is migrated per session and copied for each test; only the concurrency test
starts from an empty file, because the schema-creation race is what it checks.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


def sqlite_uri(path: Path) -> str:
    return "sqlite:///" + path.resolve().as_posix()


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty MLflow SQLite database, built once per session."""
    from mlflow import MlflowClient

    path = tmp_path_factory.mktemp("mlflow-template") / "mlflow.db"
    MlflowClient(tracking_uri=sqlite_uri(path)).get_experiment("0")
    return path


def _reset_mlflow() -> None:
    import mlflow

    while mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri(None)  # type: ignore[arg-type]
    from mlflow.tracking import fluent

    fluent._active_experiment_id = None  # set_experiment() state would leak between tests


@pytest.fixture
def store(tmp_path: Path, template_db: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh copy of the template store, set as MLFLOW_TRACKING_URI; cwd is tmp_path.

    cwd matters: MLflow puts the artifacts of a SQLite store under ./mlruns.
    """
    db = tmp_path / "mlflow.db"
    shutil.copyfile(template_db, db)
    monkeypatch.chdir(tmp_path)
    _reset_mlflow()
    uri = sqlite_uri(db)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    yield uri
    _reset_mlflow()


@pytest.fixture
def client(store: str) -> Any:
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=store)


@pytest.fixture
def make_run_dir(tmp_path: Path, make_git_repo: Callable[..., Path]) -> Callable[..., Path]:
    """Factory writing a real run.lock with ``naga.runlock`` in a git project under tmp_path.

    ``make_run_dir("prep", {"x": 1}, prevs=[...], data={"in": "data/in.csv"})`` -> the run dir.
    """
    project = tmp_path / "project"
    if not (project / ".git").exists():
        make_git_repo(project, {"README.md": "hi\n", "data/in.csv": "a,b\n1,2\n"})

    def factory(name: str, config: dict[str, Any], **kwargs: Any) -> Path:
        from naga import runlock

        save_dir = project / "results" / name
        old = Path.cwd()
        os.chdir(project)  # runlock records repo/data paths relative to cwd, as users run it
        try:
            runlock(
                config={**config, "save_dir": f"results/{name}"},
                repos=["."],
                runlock_path=save_dir / "run.lock",
                **kwargs,
            )
        finally:
            os.chdir(old)
        return save_dir

    return factory


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory, template_db: Path) -> Iterator[str]:
    """A real ``mlflow server`` on 127.0.0.1 (SQLite backend, local artifact destination)."""
    root = tmp_path_factory.mktemp("mlflow-server")
    db = root / "backend.db"
    shutil.copyfile(template_db, db)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    log = (root / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--backend-store-uri",
            sqlite_uri(db),
            "--artifacts-destination",
            str(root / "artifacts"),
            "--workers",
            "1",
        ],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"mlflow server exited: {(root / 'server.log').read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"mlflow server not up: {(root / 'server.log').read_text()}")
            time.sleep(0.3)
        yield url
    finally:
        # The server forks workers: stop the whole process group it leads (ours alone).
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
