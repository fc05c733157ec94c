"""mlflow_lock against a real ``mlflow server`` on 127.0.0.1 (REST store, proxied artifacts)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from naga import mlflow_lock

pytestmark = [pytest.mark.server, pytest.mark.slow]  # the session starts a server (~5-15 s)


@pytest.fixture
def server(mlflow_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    import mlflow

    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(None)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    yield mlflow_server
    while mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri(None)


def test_server_tags_params_artifacts_and_relog(server: str, make_run_dir) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(server)
    save_dir = make_run_dir("served", {"lr": 0.5, "layers": [3, 4]}, data=["data/in.csv"])
    with mlflow_lock(save_dir, experiment="server-test") as first:
        pass
    with mlflow_lock(save_dir, experiment="server-test") as second:
        pass
    with (
        pytest.raises(RuntimeError, match="boom"),
        mlflow_lock(save_dir, experiment="server-test") as third,
    ):
        raise RuntimeError("boom")
    old, new, bad = (client.get_run(r.info.run_id) for r in (first, second, third))
    assert old.data.tags["naga.status"] == "deprecated"
    assert old.data.tags["naga.superseded_by"] == second.info.run_id
    assert new.data.tags["naga.status"] == "active"
    assert new.data.tags["naga.supersedes"] == first.info.run_id
    assert bad.data.tags["naga.status"] == "failed"
    assert bad.info.status == "FAILED"
    assert new.data.params == {"lr": "0.5", "layers": "[3, 4]", "save_dir": "results/served"}
    assert new.data.tags["naga.data.data/in.csv.hash"].startswith("blake3:")
    assert {f.path for f in client.list_artifacts(second.info.run_id)} == {"run.lock"}
    got = client.download_artifacts(second.info.run_id, "run.lock", str(save_dir.parent))
    assert Path(got).read_bytes() == (save_dir / "run.lock").read_bytes()


def test_server_concurrent_finishers_converge(server: str, make_run_dir) -> None:
    """Without a shared lock file, post-hoc reconciliation leaves exactly one active run."""
    import mlflow
    from mlflow import MlflowClient

    save_dir = make_run_dir("raced", {"x": 1})
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker() -> None:
        # MLflow's fluent run stack is thread-local, so threads act like separate loggers.
        try:
            with mlflow_lock(save_dir, experiment="race"):
                barrier.wait(timeout=60)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    client = MlflowClient(server)
    exp = client.get_experiment_by_name("race")
    runs = client.search_runs([exp.experiment_id])
    statuses = sorted(r.data.tags["naga.status"] for r in runs)
    assert statuses == ["active", "deprecated", "deprecated", "deprecated"]
    winner = next(r for r in runs if r.data.tags["naga.status"] == "active")
    for run in runs:
        if run.info.run_id != winner.info.run_id:
            assert run.data.tags["naga.superseded_by"] == winner.info.run_id
    assert mlflow.active_run() is None
