"""Many runs in one request: ``POST /runs/lookup`` and ``POST /metrics/infos``."""

from __future__ import annotations

import httpx


def _run(client: httpx.Client, experiment_id: str, name: str) -> str:
    body = {"experiment_id": experiment_id, "display_name": name, "status": "Running",
            "run_definition": {"environment": {"python": {"version": "3"}}}}  # fmt: skip
    created = client.post("/api/v1/runs", json=body)
    assert created.status_code == 200, created.text
    return str(created.json()["run_id"])


def _log(client: httpx.Client, run_id: str, name: str, values: list[float]) -> None:
    n = len(values)
    write = {"name": name, "kind": "scalar",
             "columns": [list(range(n)), [0] * n, values, [None] * n, [1.0] * n]}  # fmt: skip
    answer = client.post(f"/api/v1/runs/{run_id}/metrics", json={"writes": [write]})
    assert answer.status_code == 200, answer.text


def test_runs_and_metric_infos_of_many_runs_in_one_request(client: httpx.Client) -> None:
    experiment = client.post("/api/v1/experiments", json={"name": "lookup"}).json()
    ids = [_run(client, experiment["experiment_id"], f"r{i}") for i in range(3)]
    _log(client, ids[0], "loss", [0.5, 0.25])
    _log(client, ids[2], "acc", [0.9])
    asked = [ids[2], "no-such-run", ids[0], ids[2]]

    found = client.post("/api/v1/runs/lookup", json={"run_ids": asked})
    assert found.status_code == 200
    body = found.json()
    assert [r["run_id"] for r in body["items"]] == [ids[2], ids[0]]  # asked order, once each
    assert body["missing"] == ["no-such-run"]
    assert all(r["run_definition"] is None for r in body["items"])
    full = client.post("/api/v1/runs/lookup", json={"run_ids": ids, "with_definition": True})
    assert full.json()["items"][0]["run_definition"]["environment"]["python"]["version"] == "3"

    infos = client.post("/api/v1/metrics/infos", json={"run_ids": asked}).json()["items"]
    assert sorted((i["run_id"], i["name"], i["count"]) for i in infos) == sorted(
        [(ids[0], "loss", 2), (ids[2], "acc", 1)]
    )


def test_many_runs_requests_are_checked(client: httpx.Client) -> None:
    for path in ("/api/v1/runs/lookup", "/api/v1/metrics/infos"):
        assert client.post(path, json={"run_ids": []}).status_code == 400
        assert client.post(path, json={"ids": ["x"]}).status_code == 400
