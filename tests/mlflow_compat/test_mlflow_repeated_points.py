"""A metric point equal in key, value, timestamp and step to one the run already has (or to an
earlier one of the same batch) is stored once: through the real ``mlflow`` client against
``runhistory server`` (SQLite and PostgreSQL), ``log_metric`` and ``log_batch`` leave exactly
the histories ``mlflow server`` leaves on the same calls."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient
from mlflow_targets import client_of, mlflow_server

from support.services import server_on

# MLflow's client warns about its own deprecations.
pytestmark = pytest.mark.filterwarnings("ignore::Warning")

T = 1_700_000_000_123
History = dict[str, list[tuple[int, float | str, int]]]


def _comparable(value: float) -> float | str:
    return "NaN" if math.isnan(value) else value


def _history(client: MlflowClient, run_id: str, key: str) -> list[tuple[int, float | str, int]]:
    points = client.get_metric_history(run_id, key)
    return sorted((m.step, _comparable(m.value), m.timestamp) for m in points)


def _log(client: MlflowClient) -> History:
    """The same calls on any server; the histories they leave, point by point."""
    experiment_id = client.create_experiment("repeated")
    run_id = client.create_run(experiment_id).info.run_id
    client.log_metric(run_id, "a", 1.0, timestamp=T, step=0)
    client.log_metric(run_id, "a", 1.0, timestamp=T, step=0)  # the same point: dropped
    client.log_metric(run_id, "a", 1.0, timestamp=T + 1, step=0)  # another time: kept
    client.log_metric(run_id, "a", 2.0, timestamp=T, step=0)  # another value: kept
    client.log_metric(run_id, "a", 1.0, timestamp=T, step=1)  # another step: kept
    client.log_batch(run_id, metrics=[
        Metric("a", 1.0, T, 0),  # stored already: dropped
        Metric("b", 5.0, T, 3),
        Metric("b", 5.0, T, 3),  # repeated within the batch: dropped
        Metric("b", 5.0, T + 2, 3),
        Metric("c", -1.5, T, 0),
    ])  # fmt: skip
    client.log_batch(run_id, metrics=[
        Metric("b", 5.0, T, 3),  # each stored already: dropped
        Metric("c", -1.5, T, 0),
        Metric("a", 1.0, T + 1, 0),
        Metric("c", 0.0, T, 0),  # kept
        Metric("d", math.nan, T, 0),
    ])  # fmt: skip
    client.log_metric(run_id, "d", math.nan, timestamp=T, step=0)  # NaN is NaN: dropped
    return {key: _history(client, run_id, key) for key in ("a", "b", "c", "d")}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """What ``mlflow server`` on SQLite keeps of the calls."""
    folder = tmp_path_factory.mktemp("mlflow-repeated")
    with mlflow_server(folder) as url:
        yield _log(client_of(url))


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_repeated_points_are_stored_once_as_mlflow_server_does(
    store: str, reference: History, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp(f"repeated-{store}")
    env = {"MLFLOW_DISABLE_TELEMETRY": "true"}
    with server_on(store, folder, "rh_mlflow_repeated", env=env) as process:
        ours = _log(client_of(process.url))
    assert ours == {
        "a": [(0, 1.0, T), (0, 1.0, T + 1), (0, 2.0, T), (1, 1.0, T)],
        "b": [(3, 5.0, T), (3, 5.0, T + 2)],
        "c": [(0, -1.5, T), (0, 0.0, T)],
        "d": [(0, "NaN", T)],
    }
    assert ours == reference
