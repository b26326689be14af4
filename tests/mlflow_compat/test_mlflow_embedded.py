"""The real ``mlflow`` client logs into an embedded workspace through the ``runhistory:`` plugin
(no server), and ``Workspace.get_mlflow_tracking_uri()`` names the URI that works."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from runhistory import Run, Workspace
from support.services import start_server

# MLflow's client and the frameworks it drives warn about their own deprecations.
pytestmark = pytest.mark.filterwarnings("ignore::Warning")


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """An embedded workspace MLflow logs into through ``ws.get_mlflow_tracking_uri()``."""
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    found = Workspace(path=tmp_path / "ws")
    mlflow.set_tracking_uri(found.get_mlflow_tracking_uri())
    yield found
    while mlflow.active_run() is not None:
        mlflow.end_run()


def _tables(database: Path) -> set[str]:
    with sqlite3.connect(database) as conn:
        return {r[0] for r in conn.execute("select name from sqlite_master where type='table'")}


def test_the_uri_is_the_plugin_for_an_embedded_workspace_and_the_url_for_a_server(
    tmp_path: Path,
) -> None:
    embedded = Workspace(path=tmp_path / "local")
    assert embedded.get_mlflow_tracking_uri() == f"runhistory:{tmp_path / 'local'}"
    server = start_server(f"sqlite:///{tmp_path / 'srv.db'}", tmp_path / "server.log",
                          artifact_location=str(tmp_path / "artifacts"))  # fmt: skip
    try:
        assert Workspace(tracking_uri=server.url).get_mlflow_tracking_uri() == server.url
    finally:
        server.stop()


def test_fluent_logging_reads_back_through_mlflow_and_the_sdk(
    workspace: Workspace, tmp_path: Path
) -> None:
    database = Path(workspace.tracking_uri) / "runhistory.db"
    experiment = mlflow.set_experiment("embedded runs")  # a name runhistory's rule refuses
    before = _tables(database)
    with mlflow.start_run(run_name="outer") as outer:
        mlflow.log_params({"lr": 0.1, "layers": 3})
        mlflow.set_tags({"team": "vision"})
        for step in range(3):
            mlflow.log_metric("loss", 3.0 - step, step=step)
        with mlflow.start_run(run_name="inner", nested=True) as inner:
            mlflow.log_metric("inner_acc", 0.75)
        mlflow.log_dict({"a": 1}, "cfg/a.json")
        (tmp_path / "note.txt").write_text("n")
        mlflow.log_artifact(str(tmp_path / "note.txt"), "notes")
    client = MlflowClient()
    got = client.get_run(outer.info.run_id)
    assert got.info.status == "FINISHED" and got.info.experiment_id == experiment.experiment_id
    assert got.data.params == {"lr": "0.1", "layers": "3"}
    assert got.data.metrics == {"loss": 1.0}
    assert client.get_run(inner.info.run_id).data.tags["mlflow.parentRunId"] == outer.info.run_id
    assert [m.value for m in client.get_metric_history(outer.info.run_id, "loss")] == [
        3.0,
        2.0,
        1.0,
    ]
    assert {f.path for f in client.list_artifacts(outer.info.run_id)} == {"cfg", "notes"}
    assert mlflow.artifacts.load_dict(f"runs:/{outer.info.run_id}/cfg/a.json") == {"a": 1}
    assert mlflow.artifacts.load_text(f"runs:/{outer.info.run_id}/notes/note.txt") == "n"
    frame = mlflow.search_runs(filter_string="params.lr = '0.1'")
    assert list(frame["run_id"]) == [outer.info.run_id]
    # MLflow never touched the database: no table of its own appeared
    assert _tables(database) == before
    run = Run.get(workspace, outer.info.run_id)
    assert run.get_metrics() == {"loss": [3.0, 2.0, 1.0]}
    assert run.get_properties()["layers"] == "3" and run.get_tags()["team"] == "vision"
    assert set(run.get_file_names()) == {"cfg/a.json", "notes/note.txt"}


def test_client_calls_batches_and_errors(workspace: Workspace) -> None:
    client = MlflowClient()
    experiment_id = client.create_experiment("embedded-client", tags={"k": "v"})
    with pytest.raises(MlflowException) as taken:
        client.create_experiment("embedded-client")
    assert taken.value.error_code == "RESOURCE_ALREADY_EXISTS"
    run_id = client.create_run(experiment_id, run_name="batch").info.run_id
    client.log_batch(
        run_id,
        metrics=[Metric("m", float(i), 1_700_000_000_000, i) for i in range(1200)],
        params=[Param(f"p{i}", "x") for i in range(120)],
        tags=[RunTag("t", "1")],
    )
    assert len(client.get_metric_history(run_id, "m")) == 1200
    assert len(client.get_run(run_id).data.params) == 120
    with pytest.raises(MlflowException) as changed:
        client.log_param(run_id, "p0", "y")
    assert changed.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as missing:
        client.get_run("not_a_run_1")
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    client.delete_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"
    assert client.search_runs([experiment_id]) == []
    client.restore_run(run_id)
    assert [r.info.run_id for r in client.search_runs([experiment_id])] == [run_id]
    client.set_terminated(run_id)
    assert client.get_run(run_id).info.status == "FINISHED"
