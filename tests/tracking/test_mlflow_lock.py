"""mlflow_lock against a real embedded SQLite store, checked through MlflowClient."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from naga import mlflow_lock
from naga.errors import ConfigError, TrackingError


def _run(client: Any, run_id: str) -> Any:
    return client.get_run(run_id)


def _artifacts(client: Any, run_id: str) -> set[str]:
    return {f.path for f in client.list_artifacts(run_id)}


def test_logs_receipt_tags_params_artifact(store: str, client: Any, make_run_dir) -> None:
    save_dir = make_run_dir(
        "process", {"param": 10, "model": {"layers": [1, 2]}}, data=["data/in.csv"]
    )
    (save_dir / "out.txt").write_text("result\n")
    with mlflow_lock(save_dir, tags={"owner": "alice"}) as run:
        import mlflow

        mlflow.log_artifact(str(save_dir / "out.txt"))
        mlflow.log_metric("acc", 0.9)
    got = _run(client, run.info.run_id)
    tags = got.data.tags
    assert got.info.status == "FINISHED"
    assert got.info.run_name == "process"
    assert tags["naga.status"] == "active"
    assert tags["naga.logical_run_id"] == save_dir.resolve().as_posix()
    assert tags["owner"] == "alice"
    assert tags["naga.data.data/in.csv.hash"].startswith("blake3:")
    assert len(tags["naga.git.commit"]) == 40
    assert "naga.supersedes" not in tags
    assert got.data.params["param"] == "10"
    assert got.data.params["model.layers"] == "[1, 2]"
    assert got.data.params["save_dir"] == "results/process"
    assert got.data.metrics["acc"] == 0.9
    assert _artifacts(client, run.info.run_id) == {"run.lock", "out.txt"}
    local = client.download_artifacts(run.info.run_id, "run.lock", str(save_dir.parent))
    assert Path(local).read_bytes() == (save_dir / "run.lock").read_bytes()


def test_relog_deprecates_previous(store: str, client: Any, make_run_dir) -> None:
    save_dir = make_run_dir("a", {"x": 1})
    with mlflow_lock(save_dir) as first:
        pass
    with mlflow_lock(save_dir) as second:
        # while the body runs, the previous one is still the active one
        assert _run(client, first.info.run_id).data.tags["naga.status"] == "active"
        assert _run(client, second.info.run_id).data.tags["naga.status"] == "running"
    old = _run(client, first.info.run_id).data.tags
    new = _run(client, second.info.run_id).data.tags
    assert old["naga.status"] == "deprecated"
    assert old["naga.superseded_by"] == second.info.run_id
    assert new["naga.status"] == "active"
    assert new["naga.supersedes"] == first.info.run_id
    import mlflow

    active = mlflow.search_runs(
        experiment_ids=["0"], filter_string="tags.`naga.status` = 'active'", output_format="list"
    )
    assert [r.info.run_id for r in active] == [second.info.run_id]


def test_failed_body_keeps_previous_active(store: str, client: Any, make_run_dir) -> None:
    save_dir = make_run_dir("a", {"x": 1})
    with mlflow_lock(save_dir) as good:
        pass
    failed_id = None
    with pytest.raises(ZeroDivisionError), mlflow_lock(save_dir) as bad:
        failed_id = bad.info.run_id
        1 / 0  # noqa: B018
    import mlflow

    assert mlflow.active_run() is None
    failed = _run(client, failed_id)
    assert failed.info.status == "FAILED"
    assert failed.data.tags["naga.status"] == "failed"
    assert failed.data.tags["naga.log_error"] == "ZeroDivisionError: division by zero"
    assert "naga.supersedes" not in failed.data.tags  # it replaced nothing
    kept = _run(client, good.info.run_id).data.tags
    assert kept["naga.status"] == "active"
    assert "naga.superseded_by" not in kept


def _set_status(save_dir: Path, status: str, **fields: Any) -> None:
    """The run.lock of ``save_dir`` as a run that ended (or not) another way would leave it."""
    import yaml

    path = save_dir / "run.lock"
    lock = yaml.safe_load(path.read_text())
    lock.update(status=status, **fields)
    path.write_text(yaml.safe_dump(lock, sort_keys=False))


@pytest.mark.parametrize(
    ("status", "fields", "mlflow_status", "naga_status"),
    [
        ("failed", {}, "FAILED", "failed"),
        ("interrupted", {}, "KILLED", "interrupted"),
        ("running", {"pid": 2**22 + 7, "host": os.uname().nodename}, "KILLED", "lost"),
    ],
    ids=["failed", "interrupted", "lost"],
)
def test_a_run_that_did_not_complete_never_becomes_active(
    store: str,
    client: Any,
    make_run_dir,
    status: str,
    fields: dict[str, Any],
    mlflow_status: str,
    naga_status: str,
) -> None:
    save_dir = make_run_dir("a", {"x": 1})
    with mlflow_lock(save_dir) as good:
        pass
    _set_status(save_dir, status, **fields)  # the directory's run again, ended otherwise
    with mlflow_lock(save_dir) as other:
        pass
    logged = _run(client, other.info.run_id)
    assert logged.info.status == mlflow_status
    assert logged.data.tags["naga.status"] == naga_status
    assert logged.data.tags["naga.lock_status"] == status
    assert "naga.supersedes" not in logged.data.tags
    kept = _run(client, good.info.run_id).data.tags
    assert kept["naga.status"] == "active" and "naga.superseded_by" not in kept


def test_a_run_still_running_is_not_logged(store: str, client: Any, make_run_dir) -> None:
    save_dir = make_run_dir("a", {"x": 1})
    _set_status(save_dir, "running", pid=os.getpid(), host=os.uname().nodename)
    match = r"its run is still running .* log it once it has ended"
    with pytest.raises(TrackingError, match=match), mlflow_lock(save_dir):
        pytest.fail("the block must not run")
    assert client.search_runs(["0"]) == []


def test_nested_inside_active_run(store: str, client: Any, make_run_dir) -> None:
    import mlflow

    save_dir = make_run_dir("a", {"x": 1})
    with mlflow.start_run(run_name="pipeline") as parent:
        with mlflow_lock(save_dir) as child:
            assert mlflow.active_run().info.run_id == child.info.run_id
        assert mlflow.active_run().info.run_id == parent.info.run_id
    got = _run(client, child.info.run_id)
    assert got.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert got.info.experiment_id == parent.info.experiment_id
    assert got.data.tags["naga.status"] == "active"


def test_directory_without_run_lock_warns_and_logs(store: str, client: Any, tmp_path: Path) -> None:
    bare = tmp_path / "bare dir ü"
    bare.mkdir()
    with pytest.warns(UserWarning, match="no run.lock in"), mlflow_lock(bare) as run:
        pass
    got = _run(client, run.info.run_id)
    assert got.data.tags["naga.status"] == "active"
    assert got.data.tags["naga.lock_hash"] == "none"
    assert got.data.params == {}
    assert _artifacts(client, run.info.run_id) == set()


def test_many_params_are_batched_and_truncated(store: str, client: Any, tmp_path: Path) -> None:
    import yaml

    config = {f"p{i:03d}": i for i in range(250)} | {"long": "y" * 7000}
    save_dir = tmp_path / "wide"
    save_dir.mkdir()
    (save_dir / "run.lock").write_text(
        yaml.safe_dump({"naga_lock": 1, "run_id": "r1", "status": "completed", "config": config})
    )
    with mlflow_lock(save_dir) as run:
        pass
    params = _run(client, run.info.run_id).data.params
    assert len(params) == 251
    assert params["p249"] == "249"
    assert len(params["long"]) == 6000
    assert params["long"].endswith("...[truncated]")


def test_experiment_option_and_env(
    store: str, client: Any, make_run_dir, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_dir = make_run_dir("a", {"x": 1})
    with mlflow_lock(
        save_dir, experiment="named", run_name="custom", log_params=False, log_artifacts=False
    ) as run:
        pass
    got = _run(client, run.info.run_id)
    assert client.get_experiment(got.info.experiment_id).name == "named"
    assert got.info.run_name == "custom"
    assert got.data.params == {}
    assert _artifacts(client, run.info.run_id) == set()
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "from-env")
    with mlflow_lock(save_dir) as run2:
        pass
    exp = client.get_experiment(_run(client, run2.info.run_id).info.experiment_id)
    assert exp.name == "from-env"
    # the logical run is per experiment: the run in "named" stays active
    assert _run(client, run.info.run_id).data.tags["naga.status"] == "active"


def test_upstream_links_point_at_active_runs(store: str, client: Any, make_run_dir) -> None:
    prep = make_run_dir("prep", {"x": 1})
    train = make_run_dir("train", {"y": 2}, prevs=[str(prep)])
    with mlflow_lock(prep, experiment="prep") as _old:
        pass
    with mlflow_lock(prep, experiment="prep") as prep_run:
        pass
    with mlflow_lock(train, experiment="train") as train_run:
        pass
    tags = _run(client, train_run.info.run_id).data.tags
    assert tags["naga.upstream.0"] == prep_run.info.run_id
    assert "naga.upstream.1" not in tags


def test_runs_root_makes_ids_relative(
    store: str, client: Any, make_run_dir, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    save_dir = make_run_dir("stage", {"x": 1})
    monkeypatch.setenv("NAGA_RUNS_ROOT", str(tmp_path / "project"))
    with mlflow_lock(save_dir) as run:
        pass
    assert _run(client, run.info.run_id).data.tags["naga.logical_run_id"] == "results/stage"


def test_user_errors(store: str, tmp_path: Path) -> None:
    with pytest.raises(TrackingError, match="does not exist"), mlflow_lock(tmp_path / "missing"):
        pass
    with (
        pytest.raises(ConfigError, match=r"'naga\.' prefix"),
        mlflow_lock(tmp_path, tags={"naga.status": "x"}),
    ):
        pass
    import mlflow

    assert mlflow.active_run() is None


def test_explicit_tracking_uri_is_scoped(
    tmp_path: Path, template_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    import mlflow

    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(None)
    db = tmp_path / "other.db"
    shutil.copyfile(template_db, db)
    uri = "sqlite:///" + db.as_posix()
    (tmp_path / "d").mkdir()
    with (
        pytest.warns(UserWarning, match="no run.lock"),
        mlflow_lock(tmp_path / "d", tracking_uri=uri) as run,
    ):
        assert mlflow.get_tracking_uri() == uri
    assert "MLFLOW_TRACKING_URI" not in os.environ
    assert mlflow.MlflowClient(uri).get_run(run.info.run_id).data.tags["naga.status"] == "active"


def test_never_falls_back_to_file_store(
    tmp_path: Path, template_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    import mlflow

    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(None)
    # an old ./mlruns with an experiment makes MLflow itself default to the file store
    (tmp_path / "mlruns" / "0").mkdir(parents=True)
    (tmp_path / "mlruns" / "0" / "meta.yaml").write_text("name: Default\n")
    shutil.copyfile(template_db, tmp_path / "mlflow.db")
    assert mlflow.get_tracking_uri().startswith("file:")
    (tmp_path / "d").mkdir()
    with pytest.warns(UserWarning) as record, mlflow_lock(tmp_path / "d") as run:
        pass
    assert any("deprecated file store" in str(w.message) for w in record)
    uri = mlflow.get_tracking_uri()
    assert uri == "sqlite:///" + (tmp_path / "mlflow.db").resolve().as_posix()
    assert mlflow.MlflowClient(uri).get_run(run.info.run_id).data.tags["naga.status"] == "active"
    mlflow.set_tracking_uri(None)


def test_default_store_is_mlflow_db_in_an_awkward_cwd(
    weird_tmp_path: Path, template_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # MLflow percent-encodes its default URI; SQLAlchemy 2.0 (Python 3.10) reads it literally.
    import shutil

    import mlflow

    monkeypatch.chdir(weird_tmp_path)
    mlflow.set_tracking_uri(None)
    shutil.copyfile(template_db, weird_tmp_path / "mlflow.db")
    (weird_tmp_path / "d").mkdir()
    with pytest.warns(UserWarning, match="no run.lock"), mlflow_lock(weird_tmp_path / "d") as run:
        pass
    mlflow.set_tracking_uri(None)
    client = mlflow.MlflowClient("sqlite:///" + (weird_tmp_path / "mlflow.db").as_posix())
    assert client.get_run(run.info.run_id).data.tags["naga.status"] == "active"
    assert [p.name for p in weird_tmp_path.parent.iterdir()] == [weird_tmp_path.name]


@pytest.mark.parametrize("name", ["my exp ü 実験", "100%41", "a#b"])
def test_sqlite_uri_names_the_file_sqlalchemy_opens(tmp_path: Path, name: str) -> None:
    from sqlalchemy.engine import make_url

    from naga.tracking.store import path_to_sqlite_uri, sqlite_path

    path = tmp_path / name / "mlflow.db"
    uri = path_to_sqlite_uri(path)
    assert make_url(uri).database == str(path)
    assert sqlite_path(uri) == path
    assert sqlite_path("sqlite:///rel.db") == Path("rel.db").resolve()
    assert sqlite_path("sqlite://") is None
    assert sqlite_path("sqlite:///:memory:") is None
    assert sqlite_path("postgresql://host/db") is None


def test_decide_is_order_independent() -> None:
    from itertools import permutations

    from naga.tracking.active import decide as _decide

    candidates = [(100, "b", ""), (100, "a", ""), (50, "z", "old1"), (200, "c", "x")]
    results = {
        repr(sorted(_decide(list(p), "a", mark_self=False).items()))
        for p in permutations(candidates)
    }
    assert len(results) == 1
    writes = _decide(candidates, "a", mark_self=True)
    assert writes["a"] == {"naga.status": "deprecated", "naga.superseded_by": "c"}
    assert writes["c"] == {"naga.supersedes": "x,b,a,z"}
    assert writes["z"]["naga.superseded_by"] == "c"


def test_sqlite_promotion_uses_one_transaction(store: str, client: Any, make_run_dir) -> None:
    """Guards the fast path: if MLflow's store internals change, this fails (not silently slow)."""
    from naga.tracking.sql import internals

    assert internals(client) is not None
    save_dir = make_run_dir("a", {"x": 1})
    with mlflow_lock(save_dir) as first:
        pass
    with mlflow_lock(save_dir) as second:
        pass
    assert _run(client, first.info.run_id).data.tags["naga.superseded_by"] == second.info.run_id


def test_mlflow_run_id_env_nests_instead_of_resuming(
    store: str, client: Any, make_run_dir, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_dir = make_run_dir("a", {"x": 1})
    outer = client.create_run("0")
    monkeypatch.setenv("MLFLOW_RUN_ID", outer.info.run_id)  # as `mlflow run` launches
    with mlflow_lock(save_dir) as run:
        assert run.info.run_id != outer.info.run_id
    got = _run(client, run.info.run_id)
    assert got.data.tags["mlflow.parentRunId"] == outer.info.run_id
    assert got.data.tags["naga.status"] == "active"
    assert _run(client, outer.info.run_id).data.params == {}


def test_receipt_metrics_are_logged_as_mlflow_metrics(
    store: str, client: Any, make_run_dir
) -> None:
    import math

    save_dir = make_run_dir(
        "metrics", {"lr": 0.1}, metrics={"loss": 0.25, "val": {"acc": 0.9}, "odd": math.nan}
    )
    with mlflow_lock(save_dir) as run:
        pass
    got = _run(client, run.info.run_id)
    assert set(got.data.metrics) == {"loss", "val.acc", "odd"}
    assert got.data.metrics["loss"] == 0.25
    assert got.data.metrics["val.acc"] == 0.9
    assert math.isnan(got.data.metrics["odd"])
    assert got.data.params == {"lr": "0.1", "save_dir": "results/metrics"}


def test_many_metrics_are_batched(store: str, client: Any, tmp_path: Path) -> None:
    import yaml

    metrics = {f"m{i:04d}": i / 2 for i in range(1500)}
    save_dir = tmp_path / "many"
    save_dir.mkdir()
    (save_dir / "run.lock").write_text(
        yaml.safe_dump({"naga_lock": 1, "run_id": "r1", "status": "completed", "metrics": metrics})
    )
    with mlflow_lock(save_dir) as run:
        pass
    got = _run(client, run.info.run_id).data.metrics
    assert len(got) == 1500
    assert got["m1499"] == 749.5
