"""MLflow's value limits through the real ``mlflow`` client (server on SQLite and PostgreSQL,
and embedded): tag values up to 8,000 characters and param values up to 6,000 are stored whole
and read back through MLflow and runhistory's SDK; one character more is refused with
``INVALID_PARAMETER_VALUE`` and nothing of the call is stored. runhistory's own API keeps its
limit of 5,000."""

from __future__ import annotations

import uuid

import mlflow
import pytest
from mlflow.entities import Param, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from mlflow_targets import Target

from runhistory import Run
from runhistory.errors import ValidationError

# MLflow's client warns about its own deprecations.
pytestmark = [pytest.mark.filterwarnings("ignore::Warning"), pytest.mark.slow]


def test_tag_and_param_values_up_to_mlflows_limits(target: Target) -> None:
    mlflow.set_experiment(f"limits-{uuid.uuid4().hex[:8]}")
    tag, param = "t" * 8000, "p" * 6000
    client = MlflowClient()
    with mlflow.start_run() as run:
        mlflow.set_tag("long", tag)
        mlflow.log_param("long", param)
        client.log_batch(run.info.run_id, params=[Param("batched", param)],
                         tags=[RunTag("batched", tag)])  # fmt: skip
        for call in (
            lambda: mlflow.set_tag("too long", tag + "t"),
            lambda: mlflow.log_param("too long", param + "p"),
            lambda: client.log_batch(
                run.info.run_id, params=[Param("ok", "1")], tags=[RunTag("too long", tag + "t")]
            ),
        ):
            with pytest.raises(MlflowException) as refused:
                call()
            assert str(refused.value.error_code) == "INVALID_PARAMETER_VALUE"
    data = mlflow.get_run(run.info.run_id).data
    assert (data.tags["long"], data.tags["batched"]) == (tag, tag)
    assert (data.params["long"], data.params["batched"]) == (param, param)
    assert "too long" not in data.tags and "too long" not in data.params
    assert "ok" not in data.params  # a refused batch stores nothing

    mine = Run.get(target.workspace, run.info.run_id)
    assert mine.get_tags()["long"] == tag and mine.get_properties()["long"] == param
    with pytest.raises(ValidationError, match="5000"):
        mine.set_tags({"sdk": "s" * 5001})  # runhistory's own limit is unchanged
