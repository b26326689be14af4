"""MLflow 3's logged models through the real ``mlflow`` client, against a real ``runhistory
server`` (SQLite and PostgreSQL) and the embedded plugin: ``mlflow.sklearn.log_model(...,
name=...)`` and ``mlflow.sklearn.autolog()`` (``log_models=True``) on a real scikit-learn fit,
loading the model back, registering it, and its tags and params."""

from __future__ import annotations

import uuid

import mlflow
import mlflow.sklearn
import numpy as np
import pytest
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from mlflow_targets import Target
from sklearn.linear_model import LinearRegression

from runhistory import Model, Run
from runhistory.errors import NotFoundError

# MLflow's client and the frameworks it drives warn about their own deprecations.
pytestmark = [pytest.mark.filterwarnings("ignore::Warning"), pytest.mark.slow]

X = np.array([[0.0], [1.0], [2.0], [3.0]])
Y = np.array([1.0, 3.0, 5.0, 7.0])


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_log_model_load_it_register_it_tags_and_params(target: Target) -> None:
    experiment_id = mlflow.set_experiment(_unique("logged")).experiment_id
    fitted = LinearRegression().fit(X, Y)
    with mlflow.start_run() as run:
        mlflow.log_param("alpha", "0.5")
        info = mlflow.sklearn.log_model(fitted, name="regressor",
                                        serialization_format="cloudpickle")  # fmt: skip
    assert info.model_uri == f"models:/{info.model_id}"
    loaded = mlflow.pyfunc.load_model(info.model_uri)
    assert np.allclose(loaded.predict(np.array([[4.0]])), [9.0])

    model = mlflow.get_logged_model(info.model_id)
    assert (model.name, model.source_run_id, model.experiment_id) == (
        "regressor", run.info.run_id, experiment_id)  # fmt: skip
    assert str(model.status) in ("READY", "LoggedModelStatus.READY")
    assert model.params["alpha"] == "0.5"  # the run's params, as MLflow copies them
    client = MlflowClient()
    client.set_logged_model_tags(info.model_id, {"team": "risk"})
    client.log_model_params(info.model_id, {"depth": "3"})
    again = client.get_logged_model(info.model_id)
    assert again.tags["team"] == "risk" and again.params["depth"] == "3"
    client.delete_logged_model_tag(info.model_id, "team")
    assert "team" not in client.get_logged_model(info.model_id).tags

    found = mlflow.search_logged_models(experiment_ids=[experiment_id], output_format="list",
                                        filter_string="name = 'regressor'")  # fmt: skip
    assert [m.model_id for m in found] == [info.model_id]
    runs = mlflow.search_runs([experiment_id], output_format="list")
    assert [r.info.run_id for r in runs] == [run.info.run_id]  # a logged model is not a run
    assert [o.model_id for o in mlflow.get_run(run.info.run_id).outputs.model_outputs] == [
        info.model_id
    ]

    name = _unique("logged-reg")
    version = mlflow.register_model(info.model_uri, name)
    assert (version.version, version.source, version.run_id) == (
        "1", info.model_uri, run.info.run_id)  # fmt: skip
    by_run = mlflow.register_model(f"runs:/{run.info.run_id}/regressor", name)
    assert by_run.version == "2"  # the run has no folder "regressor": its logged model is found
    reloaded = mlflow.pyfunc.load_model(f"models:/{name}/2")
    assert np.allclose(reloaded.predict(np.array([[0.0]])), [1.0])
    sdk = Model(target.workspace, name, version=1)
    assert sdk.run_id == run.info.run_id and "MLmodel" in sdk.serialize()["files"]

    with pytest.raises(MlflowException) as missing:
        client.get_logged_model("m-" + "0" * 32)
    assert str(missing.value.error_code) == "RESOURCE_DOES_NOT_EXIST"


def test_sklearn_autolog_logs_the_fitted_model(target: Target) -> None:
    experiment_id = mlflow.set_experiment(_unique("autolog")).experiment_id
    mlflow.sklearn.autolog()  # log_models=True by default
    try:
        with mlflow.start_run() as run:
            LinearRegression().fit(X, Y)
    finally:
        mlflow.sklearn.autolog(disable=True)
    logged = mlflow.search_logged_models(experiment_ids=[experiment_id], output_format="list")
    assert len(logged) == 1 and logged[0].source_run_id == run.info.run_id
    loaded = mlflow.pyfunc.load_model(f"models:/{logged[0].model_id}")
    assert np.allclose(loaded.predict(np.array([[2.0]])), [5.0])
    finished = mlflow.get_run(run.info.run_id)
    assert finished.data.params["fit_intercept"] == "True"
    assert "training_score" in finished.data.metrics
    # log_model sent the run's metrics once more, linked to the model: stored once all the same
    client = MlflowClient(target.uri, registry_uri=target.uri)
    history = client.get_metric_history(run.info.run_id, "training_score")
    assert len(history) == 1
    # the fit's run through runhistory's own SDK: params are properties, the model a child run
    mine = Run.get(target.workspace, run.info.run_id)
    assert mine.properties["fit_intercept"] == "True"
    assert [c.id for c in mine.get_children()] == [logged[0].model_id]


def test_run_register_model_takes_a_path_of_the_runs_logged_model(target: Target) -> None:
    """The original SDK's ``run.register_model(model_path="model/model.pkl")`` after MLflow 3
    logged ``model``: the files are the logged model's (MLflow 2 put them among the run's)."""
    mlflow.set_experiment(_unique("sdk-register"))
    fitted = LinearRegression().fit(X, Y)
    with mlflow.start_run() as run:
        mlflow.log_metric("mse", 0.0)
        mlflow.sklearn.log_model(fitted, name="model", serialization_format="cloudpickle")
    mine = Run.get(target.workspace, run.info.run_id)
    assert not [n for n in mine.get_file_names() if n.startswith("model/")]
    assert mine.get_metrics()["mse"] == 0.0  # one point, though log_model sent it once more

    one_file = mine.register_model(_unique("pkl"), model_path="model/model.pkl")
    assert one_file.run_id == run.info.run_id and one_file.serialize()["files"] == ["model.pkl"]
    folder = mine.register_model(_unique("folder"), model_path="model")
    assert {"MLmodel", "model.pkl"} <= set(folder.serialize()["files"])
    with pytest.raises(NotFoundError, match="matches no file"):
        mine.register_model(_unique("absent"), model_path="model/absent.pkl")
    with pytest.raises(NotFoundError, match="matches no file"):
        mine.register_model(_unique("other"), model_path="other/model.pkl")
