"""The real ``mlflow`` client logs into a real ``runhistory server`` (SQLite and PostgreSQL).

Every call goes through MLflow's own client code (fluent API and ``MlflowClient``) over HTTP to
the server's MLflow API; what it logs is then read back through runhistory's own SDK.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import mlflow
import pytest
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from runhistory import Run, Workspace
from support.services import ServerProcess, server_on, start_server

# MLflow's client and the frameworks it drives warn about their own deprecations.
pytestmark = [pytest.mark.filterwarnings("ignore::Warning"), pytest.mark.slow]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """A real ``runhistory server`` on SQLite or on a fresh PostgreSQL database."""
    folder = tmp_path_factory.mktemp(f"mlflow-{request.param}")
    with server_on(request.param, folder, "rh_mlflow") as process:
        yield process


@pytest.fixture
def client(server: ServerProcess, monkeypatch: pytest.MonkeyPatch) -> Iterator[MlflowClient]:
    """MLflow pointed at the server (as a user does: ``mlflow.set_tracking_uri(url)``)."""
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    mlflow.set_tracking_uri(server.url)
    yield MlflowClient(server.url)
    while mlflow.active_run() is not None:
        mlflow.end_run()


def _workspace(server: ServerProcess) -> Workspace:
    return Workspace(tracking_uri=server.url)


def _error_code(exc: pytest.ExceptionInfo[MlflowException]) -> str:
    return str(exc.value.error_code)


def test_experiments_create_get_search_rename_delete_restore(
    client: MlflowClient, server: ServerProcess
) -> None:
    name = "/Users/ana/churn model (v2)"  # a name runhistory's own rule refuses
    experiment_id = client.create_experiment(name, tags={"team": "risk"})
    found = client.get_experiment(experiment_id)
    assert (found.name, found.lifecycle_stage, found.tags) == (name, "active", {"team": "risk"})
    assert client.get_experiment_by_name(name).experiment_id == experiment_id
    assert client.get_experiment_by_name("no such experiment") is None

    with pytest.raises(MlflowException) as taken:
        client.create_experiment(name)
    assert _error_code(taken) == "RESOURCE_ALREADY_EXISTS"

    client.set_experiment_tag(experiment_id, "stage", "review")
    client.rename_experiment(experiment_id, "churn-model-v3")
    listed = client.search_experiments(filter_string="name LIKE 'churn-%' AND tags.team = 'risk'")
    assert [(e.experiment_id, e.name, e.tags) for e in listed] == [
        (experiment_id, "churn-model-v3", {"team": "risk", "stage": "review"})
    ]
    client.delete_experiment(experiment_id)
    assert client.get_experiment(experiment_id).lifecycle_stage == "deleted"
    deleted = client.search_experiments(view_type=mlflow.entities.ViewType.DELETED_ONLY)
    assert experiment_id in [e.experiment_id for e in deleted]
    client.restore_experiment(experiment_id)
    assert client.get_experiment(experiment_id).lifecycle_stage == "active"
    # the experiment is runhistory's experiment: the SDK sees it under its stored name
    assert "churn-model-v3" in _workspace(server).experiments


def test_fluent_runs_params_tags_metrics_nested_read_back_by_the_sdk(
    client: MlflowClient, server: ServerProcess
) -> None:
    experiment = mlflow.set_experiment("fluent-runs")
    with mlflow.start_run(run_name="parent", tags={"purpose": "demo"}) as parent:
        mlflow.log_param("lr", 0.01)
        mlflow.log_params({"optimizer": "adam", "epochs": 3})
        mlflow.set_tag("owner", "ana")
        for step in range(5):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metrics({"acc": 0.9, "f1": 0.8}, step=4)
        mlflow.log_metric("async_metric", 7.5, step=1, synchronous=False)
        with mlflow.start_run(run_name="child", nested=True) as child:
            mlflow.log_metric("child_loss", 0.5)
        mlflow.flush_async_logging()

    got = client.get_run(parent.info.run_id)
    assert got.info.status == "FINISHED"
    assert got.info.run_name == "parent"
    assert got.info.experiment_id == experiment.experiment_id
    assert got.data.params == {"lr": "0.01", "optimizer": "adam", "epochs": "3"}
    assert got.data.tags["purpose"] == "demo" and got.data.tags["owner"] == "ana"
    assert got.data.tags["mlflow.runName"] == "parent"
    assert got.data.metrics == {"loss": 0.2, "acc": 0.9, "f1": 0.8, "async_metric": 7.5}
    history = client.get_metric_history(parent.info.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(s, 1.0 / (s + 1)) for s in range(5)]
    assert all(m.timestamp > 1_600_000_000_000 for m in history)
    child_run = client.get_run(child.info.run_id)
    assert child_run.data.tags["mlflow.parentRunId"] == parent.info.run_id

    # the same runs through runhistory's own SDK, in the original SDK's shapes
    workspace = _workspace(server)
    run = Run.get(workspace, parent.info.run_id)
    assert run.get_metrics()["loss"] == [1.0, 0.5, 1.0 / 3, 0.25, 0.2]
    assert run.get_metrics()["acc"] == 0.9
    assert run.get_properties()["optimizer"] == "adam"
    assert run.get_tags()["owner"] == "ana"
    assert run.get_status() == "Completed" and run.display_name == "parent"
    children = list(run.get_children())
    assert [c.id for c in children] == [child.info.run_id]


def test_runs_without_a_name_get_a_readable_one(
    client: MlflowClient, server: ServerProcess
) -> None:
    experiment = mlflow.set_experiment("unnamed-runs")
    with mlflow.start_run() as active:
        mlflow.log_param("p", 1)
    name = active.info.run_name
    assert re.fullmatch(r"[a-z]+-[a-z]+-\d{1,3}", name), name
    got = client.get_run(active.info.run_id)
    assert got.info.run_name == name and got.data.tags["mlflow.runName"] == name
    assert Run.get(_workspace(server), active.info.run_id).display_name == name
    made = [client.create_run(experiment.experiment_id).info.run_name for _ in range(5)]
    assert all(re.fullmatch(r"[a-z]+-[a-z]+-\d{1,3}", n) for n in made)
    assert len({name, *made}) > 1  # drawn at random
    named = client.create_run(experiment.experiment_id, run_name="mine")
    tagged = client.create_run(experiment.experiment_id, tags={"mlflow.runName": "tagged"})
    assert (named.info.run_name, tagged.info.run_name) == ("mine", "tagged")
    found = client.search_runs([experiment.experiment_id], f"attributes.run_name = '{name}'")
    assert [r.info.run_id for r in found] == [active.info.run_id]


def test_params_are_write_once_and_statuses_map_both_ways(client: MlflowClient) -> None:
    experiment_id = client.create_experiment("statuses")
    run = client.create_run(experiment_id, run_name="failing")
    client.log_param(run.info.run_id, "seed", "1")
    client.log_param(run.info.run_id, "seed", "1")  # the same value again is fine
    with pytest.raises(MlflowException) as changed:
        client.log_param(run.info.run_id, "seed", "2")
    assert _error_code(changed) == "INVALID_PARAMETER_VALUE"
    assert "Changing param values is not allowed" in str(changed.value)
    client.set_terminated(run.info.run_id, status="FAILED")
    assert client.get_run(run.info.run_id).info.status == "FAILED"
    killed = client.create_run(experiment_id)
    client.set_terminated(killed.info.run_id, status="KILLED")
    assert client.get_run(killed.info.run_id).info.status == "KILLED"
    with pytest.raises(MlflowException) as finished:
        client.update_run(killed.info.run_id, status="RUNNING")
    assert _error_code(finished) == "INVALID_PARAMETER_VALUE"


def test_log_batch_at_mlflow_limits(client: MlflowClient, server: ServerProcess) -> None:
    experiment_id = client.create_experiment("batches")
    run_id = client.create_run(experiment_id).info.run_id
    metrics = [Metric("m", float(i), 1_700_000_000_000 + i, i) for i in range(2500)]
    params = [Param(f"p{i}", str(i)) for i in range(150)]
    tags = [RunTag(f"t{i}", str(i)) for i in range(150)]
    client.log_batch(run_id, metrics=metrics, params=params, tags=tags)  # the client splits it
    got = client.get_run(run_id)
    assert len(got.data.params) == 150 and len([t for t in got.data.tags if t[0] == "t"]) == 150
    history = client.get_metric_history(run_id, "m")
    assert [m.value for m in history] == [float(i) for i in range(2500)]

    url = f"{server.url}/api/2.0/mlflow/runs/log-batch"

    def batch(metric_count: int, param_count: int, tag_count: int) -> httpx.Response:
        body = {
            "run_id": run_id,
            "metrics": [{"key": "n", "value": 1.0, "timestamp": 1, "step": i}
                        for i in range(metric_count)],
            "params": [{"key": f"q{i}", "value": "v"} for i in range(param_count)],
            "tags": [{"key": f"u{i}", "value": "v"} for i in range(tag_count)],
        }  # fmt: skip
        return httpx.post(url, json=body, timeout=30)

    assert batch(800, 100, 100).status_code == 200  # exactly 1000 entities
    for over in (batch(1001, 0, 0), batch(0, 101, 0), batch(0, 0, 101), batch(900, 100, 1)):
        assert over.status_code == 400
        assert over.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert len(client.get_metric_history(run_id, "n")) == 800  # refused batches stored nothing


def test_search_runs_with_filters_and_order_into_a_dataframe(client: MlflowClient) -> None:
    experiment_id = client.create_experiment("search-me")
    for index, (optimizer, acc) in enumerate(
        [("adam", 0.7), ("sgd", 0.9), ("adam", 0.95), ("adam", 0.4), ("sgd", 0.6)]
    ):
        run = client.create_run(experiment_id, run_name=f"r{index}")
        client.log_param(run.info.run_id, "optimizer", optimizer)
        client.log_metric(run.info.run_id, "acc", acc)
        client.set_terminated(run.info.run_id)
    frame = mlflow.search_runs(
        experiment_ids=[experiment_id],
        filter_string="metrics.acc > 0.5 AND params.optimizer = 'adam'",
        order_by=["metrics.acc DESC"],
    )
    assert list(frame["tags.mlflow.runName"]) == ["r2", "r0"]
    assert list(frame["metrics.acc"]) == [0.95, 0.7]
    assert set(frame["status"]) == {"FINISHED"}
    by_name = mlflow.search_runs(
        experiment_ids=[experiment_id], filter_string="attributes.run_name LIKE 'r%'",
        order_by=["attributes.run_name ASC"], output_format="list",
    )  # fmt: skip
    assert [r.info.run_name for r in by_name] == ["r0", "r1", "r2", "r3", "r4"]
    first = client.search_runs([experiment_id], order_by=["metrics.acc ASC"], max_results=2)
    second = client.search_runs([experiment_id], order_by=["metrics.acc ASC"], max_results=2,
                                page_token=first.token)  # fmt: skip
    accs = [r.data.metrics["acc"] for r in [*first, *second]]
    assert accs == [0.4, 0.6, 0.7, 0.9]
    client.delete_run(first[0].info.run_id)
    active = client.search_runs([experiment_id])
    assert first[0].info.run_id not in [r.info.run_id for r in active]
    deleted = client.search_runs(
        [experiment_id], run_view_type=mlflow.entities.ViewType.DELETED_ONLY
    )
    assert [r.info.run_id for r in deleted] == [first[0].info.run_id]
    client.restore_run(first[0].info.run_id)
    assert len(client.search_runs([experiment_id])) == 5
    with pytest.raises(MlflowException) as bad:
        client.search_runs([experiment_id], filter_string="metrics.acc >> 1")
    assert _error_code(bad) == "INVALID_PARAMETER_VALUE"


def test_artifacts_up_and_down_and_logged_documents(
    client: MlflowClient, server: ServerProcess, tmp_path: Path
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    mlflow.set_experiment("artifacts")
    source = tmp_path / "src"
    (source / "nested").mkdir(parents=True)
    (source / "a.txt").write_text("alpha")
    (source / "nested" / "b.json").write_text('{"b": 1}')
    single = tmp_path / "single.csv"
    single.write_text("x,y\n1,2\n")
    with mlflow.start_run() as active:
        mlflow.log_artifact(str(single))
        mlflow.log_artifacts(str(source), artifact_path="data")
        mlflow.log_dict({"k": [1, 2]}, "config/settings.json")
        mlflow.log_text("hello", "notes.txt")
        figure, axes = plt.subplots()
        axes.plot([1, 2, 3])
        mlflow.log_figure(figure, "plots/line.png")
        plt.close(figure)
        mlflow.log_image(np.zeros((8, 8, 3), dtype=np.uint8), "images/black.png")
        mlflow.log_table(pd.DataFrame({"q": [1, 2], "a": ["x", "y"]}), "tables/t.json")
    run_id = active.info.run_id
    top = {f.path: f.is_dir for f in client.list_artifacts(run_id)}
    assert top == {"config": True, "data": True, "images": True, "notes.txt": False,
                   "plots": True, "single.csv": False, "tables": True}  # fmt: skip
    assert [f.path for f in client.list_artifacts(run_id, "data/nested")] == ["data/nested/b.json"]
    target = tmp_path / "down"
    target.mkdir()
    local = mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path="data", dst_path=str(target)
    )
    assert (Path(local) / "a.txt").read_text() == "alpha"
    assert json.loads((Path(local) / "nested" / "b.json").read_text()) == {"b": 1}
    assert mlflow.artifacts.load_dict(f"runs:/{run_id}/config/settings.json") == {"k": [1, 2]}
    assert mlflow.artifacts.load_text(f"runs:/{run_id}/notes.txt") == "hello"
    assert mlflow.artifacts.load_image(f"runs:/{run_id}/images/black.png").size == (8, 8)
    # runhistory's SDK sees the same files
    names = Run.get(_workspace(server), run_id).get_file_names()
    assert {"single.csv", "data/a.txt", "data/nested/b.json", "plots/line.png",
            "tables/t.json"} <= set(names)  # fmt: skip


def test_sklearn_autolog_on_a_real_fit(client: MlflowClient, server: ServerProcess) -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    mlflow.set_experiment("autolog")
    mlflow.sklearn.autolog(log_models=False, log_datasets=True, silent=True)
    try:
        features, labels = load_iris(return_X_y=True)
        with mlflow.start_run() as active:
            LogisticRegression(max_iter=200, C=0.5).fit(features, labels)
    finally:
        mlflow.sklearn.autolog(disable=True)
    got = client.get_run(active.info.run_id)
    assert got.data.params["C"] == "0.5" and got.data.params["max_iter"] == "200"
    assert 0.8 < got.data.metrics["training_accuracy_score"] <= 1.0
    assert got.data.tags["estimator_name"] == "LogisticRegression"
    metrics = Run.get(_workspace(server), active.info.run_id).get_metrics()
    assert metrics["training_accuracy_score"] == got.data.metrics["training_accuracy_score"]
    datasets = [k for k in got.data.tags if k.startswith("mlflow.dataset.")]
    assert datasets and got.data.tags[datasets[0]].endswith(":train")  # log_inputs kept it


def test_bad_requests_get_mlflow_error_codes(client: MlflowClient, server: ServerProcess) -> None:
    with pytest.raises(MlflowException) as missing:
        client.get_run("no_such_run_1")
    assert _error_code(missing) == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as no_experiment:
        client.get_experiment("0123456789abcdef")
    assert _error_code(no_experiment) == "RESOURCE_DOES_NOT_EXIST"
    api = f"{server.url}/api/2.0/mlflow"
    answers: list[tuple[httpx.Response, int, str]] = [
        (httpx.get(f"{api}/runs/get", params={"run_id": "nope"}), 404, "RESOURCE_DOES_NOT_EXIST"),
        (httpx.post(f"{api}/runs/log-metric", json={"run_id": "nope", "key": "m", "value": 1}),
         404, "RESOURCE_DOES_NOT_EXIST"),
        (httpx.post(f"{api}/runs/nothing-here", json={}), 404, "ENDPOINT_NOT_FOUND"),
        (httpx.post(f"{api}/experiments/create", json={}), 400, "INVALID_PARAMETER_VALUE"),
        (httpx.post(f"{api}/runs/search", json={"experiment_ids": ["0"], "filter": "x.y = 1"}),
         400, "INVALID_PARAMETER_VALUE"),
        (httpx.post(f"{api}/runs/create", content=b"{not json"), 400, "BAD_REQUEST"),
    ]  # fmt: skip
    for response, status, code in answers:
        assert (response.status_code, response.json()["error_code"]) == (status, code), (
            response.text
        )
        assert response.json()["message"]
    assert httpx.get(f"{server.url}/health").text == "OK"
    default = httpx.get(f"{api.replace('/api/', '/ajax-api/')}/experiments/get",
                        params={"experiment_id": "0"})  # fmt: skip
    assert default.json()["experiment"]["name"] == "Default"


def test_metric_values_nan_and_infinity_round_trip(client: MlflowClient) -> None:
    experiment_id = client.create_experiment("odd-values")
    run_id = client.create_run(experiment_id).info.run_id
    for step, value in enumerate([float("nan"), float("inf"), -float("inf"), 2.5]):
        client.log_metric(run_id, "odd", value, step=step)
    values = [m.value for m in client.get_metric_history(run_id, "odd")]
    assert math.isnan(values[0]) and values[1:] == [float("inf"), -float("inf"), 2.5]


def test_metric_history_bulk_interval_thins_each_run(
    client: MlflowClient, server: ServerProcess
) -> None:
    experiment_id = client.create_experiment("bulk-interval")
    run_ids = [client.create_run(experiment_id).info.run_id for _ in range(2)]
    for run_id in run_ids:
        client.log_batch(run_id, metrics=[Metric("x", float(i), 1, i) for i in range(100)])
    answer = httpx.get(
        f"{server.url}/api/2.0/mlflow/metrics/get-history-bulk-interval",
        params={"run_ids": run_ids, "metric_key": "x", "max_results": 11, "start_step": 10},
    ).json()["metrics"]
    for run_id in run_ids:
        steps = [m["step"] for m in answer if m["run_id"] == run_id]
        assert len(steps) == 11 and steps[0] == 10 and steps[-1] == 99


def _token(store: str, name: str, scope: str) -> str:
    command = [str(Path(sys.executable).with_name("runhistory")), "token", "create", "--name",
               name, "--scope", scope, "--backend-store-uri", store]  # fmt: skip
    created = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    return created.stdout.strip()


def test_with_auth_mlflow_sends_its_token_and_runs_are_submitted_by_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    store = f"sqlite:///{tmp_path / 'auth.db'}"
    writer, reader = _token(store, "trainer", "write"), _token(store, "viewer", "read")
    server = start_server(store, tmp_path / "server.log", extra_args=["--auth"],
                          artifact_location=str(tmp_path / "artifacts"))  # fmt: skip
    try:
        mlflow.set_tracking_uri(server.url)
        monkeypatch.delenv("MLFLOW_TRACKING_TOKEN", raising=False)
        with pytest.raises(MlflowException) as anonymous:
            MlflowClient().search_experiments()
        assert _error_code(anonymous) == "UNAUTHENTICATED"
        monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", writer)
        experiment_id = MlflowClient().create_experiment("guarded")
        run = MlflowClient().create_run(experiment_id)
        assert run.info.user_id == "trainer"
        monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", reader)
        assert MlflowClient().get_run(run.info.run_id).info.user_id == "trainer"
        with pytest.raises(MlflowException) as read_only:
            MlflowClient().log_param(run.info.run_id, "p", "1")
        assert _error_code(read_only) == "PERMISSION_DENIED"
    finally:
        server.stop()
