"""MLflow's model registry through the real ``mlflow`` client: against a real ``runhistory
server`` (SQLite and PostgreSQL) and the embedded ``runhistory:`` plugin.

Registered models, versions, tags, stages and aliases are made with MLflow's client, the model
is loaded back with ``mlflow.pyfunc.load_model("models:/…")``, and the same models are read
through runhistory's own ``Model`` API.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import mlflow
import mlflow.sklearn
import numpy as np
import pytest
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from mlflow_targets import Target
from sklearn.linear_model import LinearRegression

from runhistory import Model

# MLflow's client and the frameworks it drives warn about their own deprecations.
pytestmark = [pytest.mark.filterwarnings("ignore::Warning"), pytest.mark.slow]

X = np.array([[0.0], [1.0], [2.0], [3.0]])
Y = np.array([1.0, 3.0, 5.0, 7.0])


def _code(exc: pytest.ExceptionInfo[MlflowException]) -> str:
    return str(exc.value.error_code)


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _logged_model_run(tmp_path: Path) -> str:
    """A run holding a scikit-learn model in MLflow's format under the artifact path ``model``."""
    fitted = LinearRegression().fit(X, Y)
    folder = tmp_path / f"saved-{uuid.uuid4().hex[:6]}"
    mlflow.sklearn.save_model(fitted, str(folder), serialization_format="cloudpickle")
    mlflow.set_experiment(_unique("registry"))
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(folder), "model")
    return run.info.run_id


def test_register_a_run_model_load_it_by_alias_and_read_it_through_the_sdk(
    target: Target, tmp_path: Path
) -> None:
    run_id = _logged_model_run(tmp_path)
    name = _unique("churn")
    first = mlflow.register_model(f"runs:/{run_id}/model", name, tags={"team": "risk"})
    second = mlflow.register_model(f"runs:/{run_id}/model", name)
    assert (first.name, first.version, second.version) == (name, "1", "2")
    assert (first.run_id, first.tags, first.status) == (run_id, {"team": "risk"}, "READY")

    client = MlflowClient()
    client.set_registered_model_alias(name, "champion", "1")
    for uri in (f"models:/{name}@champion", f"models:/{name}/2"):
        loaded = mlflow.pyfunc.load_model(uri)
        assert np.allclose(loaded.predict(np.array([[4.0]])), [9.0])
    folder = mlflow.artifacts.download_artifacts(
        client.get_model_version_download_uri(name, "1"), dst_path=str(tmp_path / "dl")
    )
    assert (Path(folder) / "MLmodel").is_file()

    # the same model through runhistory's own SDK, with its shapes
    latest = Model(target.workspace, name)
    assert (latest.version, latest.run_id, latest.id) == (2, run_id, f"{name}:2")
    assert Model(target.workspace, name, version=1).tags == {"team": "risk"}
    assert "model/MLmodel" in latest.serialize()["files"]
    listed = [m.id for m in Model.list(target.workspace, name=name)]
    assert listed == [f"{name}:2", f"{name}:1"]
    path = latest.download(str(tmp_path / "sdk"))
    assert (Path(path) / "MLmodel").is_file()


def test_registered_models_create_get_search_update_rename_delete(
    target: Target, tmp_path: Path
) -> None:
    client = MlflowClient()
    prefix = _unique("reg")
    names = [f"{prefix}-{i}" for i in range(3)]
    for i, name in enumerate(names):
        created = client.create_registered_model(name, tags={"i": str(i)}, description=f"d{i}")
        assert (created.name, created.description, created.tags) == (name, f"d{i}", {"i": str(i)})
    with pytest.raises(MlflowException) as taken:
        client.create_registered_model(names[0])
    assert _code(taken) == "RESOURCE_ALREADY_EXISTS"

    like, order = f"name LIKE '{prefix}-%'", ["name DESC"]
    page = client.search_registered_models(like, max_results=2, order_by=order)
    assert [m.name for m in page] == [names[2], names[1]] and page.token
    rest = client.search_registered_models(like, max_results=2, order_by=order,
                                           page_token=page.token)  # fmt: skip
    assert [m.name for m in rest] == [names[0]] and not rest.token
    tagged = client.search_registered_models(f"name LIKE '{prefix}-%' AND tags.i = '1'")
    assert [m.name for m in tagged] == [names[1]]

    client.update_registered_model(names[0], description="the churn model")
    client.set_registered_model_tag(names[0], "stage", "beta")
    client.delete_registered_model_tag(names[0], "i")
    with pytest.raises(MlflowException) as missing_tag:
        client.delete_registered_model_tag(names[0], "never set")
    assert _code(missing_tag) == "RESOURCE_DOES_NOT_EXIST"
    found = client.get_registered_model(names[0])
    assert (found.description, found.tags) == ("the churn model", {"stage": "beta"})

    run_id = _logged_model_run(tmp_path)
    client.create_model_version(names[0], f"runs:/{run_id}/model", run_id)
    client.set_registered_model_alias(names[0], "prod", "1")
    client.rename_registered_model(names[0], f"{prefix}-renamed")
    renamed = client.get_registered_model(f"{prefix}-renamed")
    assert (renamed.description, renamed.tags) == ("the churn model", {"stage": "beta"})
    moved = client.get_model_version_by_alias(f"{prefix}-renamed", "prod")
    assert (moved.version, moved.run_id) == ("1", run_id)
    loaded = mlflow.pyfunc.load_model(f"models:/{prefix}-renamed@prod")  # files moved too
    assert np.allclose(loaded.predict(np.array([[1.0]])), [3.0])
    with pytest.raises(MlflowException) as gone:
        client.get_registered_model(names[0])
    assert _code(gone) == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as clash:
        client.rename_registered_model(names[1], names[2])
    assert _code(clash) == "RESOURCE_ALREADY_EXISTS"

    client.delete_registered_model(f"{prefix}-renamed")
    with pytest.raises(MlflowException) as deleted:
        client.get_model_version(f"{prefix}-renamed", "1")
    assert _code(deleted) == "RESOURCE_DOES_NOT_EXIST"
    assert Model.list(target.workspace, name=f"{prefix}-renamed") == []


def test_model_versions_tags_stages_aliases_and_search(target: Target, tmp_path: Path) -> None:
    client = MlflowClient()
    name = _unique("versions")
    client.create_registered_model(name)
    run_id = _logged_model_run(tmp_path)
    source = client.get_run(run_id).info.artifact_uri + "/model"
    for i in range(3):
        made = client.create_model_version(name, source, run_id, tags={"n": str(i)},
                                           description=f"v{i + 1}")  # fmt: skip
        assert (made.version, made.source, made.description) == (str(i + 1), source, f"v{i + 1}")

    client.update_model_version(name, "1", description="first one")
    client.set_model_version_tag(name, "1", "checked", "yes")
    client.delete_model_version_tag(name, "1", "n")
    one = client.get_model_version(name, "1")
    assert (one.description, one.tags, one.current_stage) == ("first one", {"checked": "yes"},
                                                              "None")  # fmt: skip
    staged = client.transition_model_version_stage(name, "2", "Staging")
    assert staged.current_stage == "Staging"
    client.transition_model_version_stage(name, "3", "Staging", archive_existing_versions=True)
    assert client.get_model_version(name, "2").current_stage == "Archived"
    latest = client.get_latest_versions(name, stages=["Staging"])
    assert [v.version for v in latest] == ["3"]

    client.set_registered_model_alias(name, "champion", "2")
    client.set_registered_model_alias(name, "champion", "3")  # an alias moves
    client.set_registered_model_alias(name, "fallback", "1")
    assert client.get_model_version_by_alias(name, "champion").version == "3"
    assert client.get_model_version(name, "3").aliases == ["champion"]
    assert {a: v for a, v in client.get_registered_model(name).aliases.items()} == {
        "champion": "3", "fallback": "1"}  # fmt: skip
    client.delete_registered_model_alias(name, "fallback")
    with pytest.raises(MlflowException) as no_alias:
        client.get_model_version_by_alias(name, "fallback")
    assert _code(no_alias) == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as bad_alias:
        client.set_registered_model_alias(name, "latest", "1")
    assert _code(bad_alias) == "INVALID_PARAMETER_VALUE"

    found = client.search_model_versions(f"name = '{name}'", order_by=["version_number ASC"])
    assert [v.version for v in found] == ["1", "2", "3"]
    by_run = client.search_model_versions(f"run_id = '{run_id}' AND tags.n = '2'")
    assert [(v.name, v.version) for v in by_run] == [(name, "3")]

    client.delete_model_version(name, "3")  # its alias goes with it
    assert client.get_registered_model(name).aliases == {}
    with pytest.raises(MlflowException) as gone:
        client.get_model_version(name, "3")
    assert _code(gone) == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as no_model:
        client.create_model_version(_unique("nothing"), source, run_id)
    assert _code(no_model) == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as bad_source:
        client.create_model_version(name, str(tmp_path), run_id)
    assert _code(bad_source) == "INVALID_PARAMETER_VALUE"

    copied = client.copy_model_version(f"models:/{name}/1", _unique("copy"))
    assert copied.version == "1" and copied.run_id == run_id
    assert np.allclose(
        mlflow.pyfunc.load_model(f"models:/{copied.name}/1").predict(np.array([[0.0]])), [1.0]
    )
