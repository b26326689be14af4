"""MLflow's ``search_runs`` in its default order pages on the store's keyset listing: pages
through the real ``mlflow`` client (embedded) are complete, in order and stable while runs are
created, and a page reads only about as many runs as it shows, not the whole experiment."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from runhistory import Workspace
from runhistory.mlflow_api.api import MlflowApi
from runhistory.mlflow_api.queries import STORE_PAGE
from runhistory.tracking import status as st
from runhistory.tracking.entities import RunChanges, RunCreate
from runhistory.tracking.service import TrackingService

# MLflow's client warns about its own deprecations.
pytestmark = pytest.mark.filterwarnings("ignore::Warning")


def test_pages_are_complete_ordered_and_stable(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    workspace = Workspace(path=tmp_path / "ws")
    mlflow.set_tracking_uri(workspace.get_mlflow_tracking_uri())
    client = MlflowClient()
    experiment_id = client.create_experiment("paging")
    made = []
    for index in range(30):
        run = client.create_run(experiment_id, start_time=1_000_000 + index * 1000)
        client.log_param(run.info.run_id, "kind", "a" if index % 2 else "b")
        client.log_metric(run.info.run_id, "acc", index / 30)
        made.append(run.info.run_id)
    wanted = [r for i, r in enumerate(made) if i % 2][::-1]  # kind a, newest first

    first = client.search_runs([experiment_id], "params.kind = 'a' AND metrics.acc > 0",
                               max_results=4)  # fmt: skip
    assert [r.info.run_id for r in first] == wanted[:4] and first.token
    newer = client.create_run(experiment_id, start_time=2_000_000)  # between two pages
    client.log_param(newer.info.run_id, "kind", "a")
    seen, token = [r.info.run_id for r in first], first.token
    while token:
        page = client.search_runs([experiment_id], "params.kind = 'a' AND metrics.acc > 0",
                                  max_results=4, page_token=token)  # fmt: skip
        seen += [r.info.run_id for r in page]
        token = page.token
    assert seen == wanted  # nothing skipped or repeated; the newer run is not in these pages
    again = client.search_runs([experiment_id], "params.kind = 'a'", max_results=100)
    assert [r.info.run_id for r in again] == [newer.info.run_id, *wanted]


def test_a_page_reads_about_as_many_runs_as_it_shows(tmp_path: Path) -> None:
    workspace = Workspace(path=tmp_path / "ws")
    service: TrackingService = workspace._connection.backend
    experiment = service.get_or_create_experiment("many")
    now = time.time()
    creates = [
        RunCreate(run_id=f"run-{i:05d}", experiment_id=experiment.experiment_id,
                  status=st.COMPLETED, created_time=now + i, properties={"kind": "x"})
        for i in range(4 * STORE_PAGE)
    ]  # fmt: skip
    service.write_changes(RunChanges(creates=creates))
    read: list[int] = []
    listing = service.store.search_runs

    def counted(query: Any) -> Any:
        found = listing(query)
        read.append(len(found))
        return found

    service.store.search_runs = counted  # type: ignore[method-assign]
    api = MlflowApi(service)
    body = {"experiment_ids": [experiment.experiment_id], "filter": "params.kind = 'x'",
            "max_results": 5}  # fmt: skip
    page = api.search_runs(body)
    newest = [f"run-{i:05d}" for i in range(4 * STORE_PAGE - 1, 4 * STORE_PAGE - 6, -1)]
    assert [r["info"]["run_id"] for r in page["runs"]] == newest
    assert sum(read) <= STORE_PAGE + 1  # one store page, not the experiment's 2,000 runs
    read.clear()
    later = api.search_runs({**body, "page_token": page["next_page_token"]})
    assert len(later["runs"]) == 5 and sum(read) <= STORE_PAGE + 1
