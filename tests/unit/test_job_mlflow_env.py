"""The MLflow variables a submitted job gets: its workspace as MLflow's tracking URI, its run."""

from __future__ import annotations

from runhistory.compute.mlflow_env import mlflow_uri, mlflow_variables


def test_an_embedded_workspace_is_reached_through_the_plugin_scheme() -> None:
    present = {"RUNHISTORY_TRACKING_URI": "sqlite:////tmp/ws/runs.db"}
    assert mlflow_variables("exp_1_ab", present) == {
        "MLFLOW_TRACKING_URI": "runhistory:sqlite:////tmp/ws/runs.db",
        "MLFLOW_RUN_ID": "exp_1_ab",
    }
    assert mlflow_uri("/tmp/ws") == "runhistory:/tmp/ws"


def test_a_server_is_its_url_and_its_token_goes_along() -> None:
    present = {"RUNHISTORY_TRACKING_URI": "http://127.0.0.1:5000", "RUNHISTORY_TRACKING_TOKEN": "t"}
    assert mlflow_variables("r1", present) == {
        "MLFLOW_TRACKING_URI": "http://127.0.0.1:5000",
        "MLFLOW_RUN_ID": "r1",
        "MLFLOW_TRACKING_TOKEN": "t",
    }


def test_variables_the_job_sets_itself_are_kept() -> None:
    uri = "http://127.0.0.1:5000"
    same = {"RUNHISTORY_TRACKING_URI": uri, "MLFLOW_TRACKING_URI": uri, "MLFLOW_RUN_ID": "mine"}
    assert mlflow_variables("r1", same) == {}
    elsewhere = {"RUNHISTORY_TRACKING_URI": uri, "MLFLOW_TRACKING_URI": "http://mlflow:5000"}
    assert mlflow_variables("r1", elsewhere) == {}  # the job's run is not there: no run id
