"""The runs table's listing over HTTP: ``sort``, ``where``, ``q`` and ``with_child_counts`` on
``GET /runs``, the same filters on ``GET /counts/runs``, keyset tokens bound to the order, and
gzipped pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from runhistory import Experiment, Workspace

RUNS = "/api/v1/runs"


def _sweep(client: httpx.Client, tmp_path: Path) -> str:
    workspace = Workspace(tracking_uri=str(client.base_url))
    experiment = Experiment(workspace, "sweep")
    for i in range(12):
        run = experiment.start_logging(snapshot_directory=None)
        run.add_properties({"lr": str(10 ** -(i % 4)), "seed": str(i)})
        run.set_tags({"group": f"g{i % 3}"})
        run.log("loss", 1 / (i + 1))
        if i == 0:
            run.child_run().complete()
        run.complete()
    return experiment.id


def _all(client: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    token = None
    while True:
        more = {"page_token": token} if token else {}
        page = client.get(RUNS, params={**params, **more, "limit": 5}).json()
        found.extend(page["items"])
        token = page["next_page_token"]
        if token is None:
            return found


def test_sorted_and_filtered_pages(client: httpx.Client, tmp_path: Path) -> None:
    experiment_id = _sweep(client, tmp_path)
    base = {"experiment_id": experiment_id}
    by_lr = _all(client, **base, sort="-property:lr")
    lrs = [float(r["properties"]["lr"]) for r in by_lr]
    assert lrs == sorted(lrs, reverse=True) and len(by_lr) == 12
    by_loss = _all(client, **base, sort="metric:loss")
    assert [r["properties"]["seed"] for r in by_loss] == [str(i) for i in range(11, -1, -1)]
    where = {**base, "where": ["property:lr<0.05", "metric:loss>0.1"], "tag": "group=g0"}
    found = _all(client, **where)
    assert sorted(int(r["properties"]["seed"]) for r in found) == [3, 6]
    count = client.get("/api/v1/counts/runs", params=where).json()
    assert count == {"count": 2}
    text = _all(client, **base, q="g2", sort="number")
    assert [r["properties"]["seed"] for r in text] == ["2", "5", "8", "11"]


def test_child_counts_and_errors(client: httpx.Client, tmp_path: Path) -> None:
    experiment_id = _sweep(client, tmp_path)
    page = client.get(RUNS, params={"experiment_id": experiment_id, "sort": "number",
                                    "limit": 2, "with_child_counts": "true"}).json()  # fmt: skip
    first = page["items"][0]
    assert page["child_counts"] == {first["run_id"]: 1}
    wrong = client.get(RUNS, params={"experiment_id": experiment_id, "sort": "-number",
                                     "page_token": page["next_page_token"]})  # fmt: skip
    assert wrong.status_code == 400 and "page_token" in wrong.json()["message"]
    for params, message in (
        ({"sort": "colour"}, "cannot sort runs"),
        ({"where": "property:lr<big"}, "needs a number"),
        ({"sort": "name", "offset": 3}, "page with page_token"),
    ):
        answer = client.get(RUNS, params={"experiment_id": experiment_id, **params})
        assert answer.status_code == 400, answer.text
        assert message in answer.json()["message"]


def test_pages_are_gzipped(client: httpx.Client, tmp_path: Path) -> None:
    experiment_id = _sweep(client, tmp_path)
    answer = client.get(RUNS, params={"experiment_id": experiment_id, "sort": "name",
                                      "with_definition": "false"},
                        headers={"Accept-Encoding": "gzip"})  # fmt: skip
    assert answer.status_code == 200
    assert answer.headers.get("content-encoding") == "gzip"
    assert len(answer.json()["items"]) == 12


def test_saved_views_over_http(client: httpx.Client, tmp_path: Path) -> None:
    experiment_id = _sweep(client, tmp_path)
    views = f"/api/v1/experiments/{experiment_id}/views"
    saved = client.put(f"{views}/by loss", json={"state": "sort=metric%3Aloss"})
    assert saved.status_code == 200 and saved.json()["name"] == "by loss"
    assert client.put(f"{views}/x", json={"state": "q" * 9000}).status_code == 400
    assert client.put(f"{views}/x", json={"stat": "q"}).status_code == 400
    listed = client.get(views).json()["items"]
    assert [(v["name"], v["state"]) for v in listed] == [("by loss", "sort=metric%3Aloss")]
    assert client.delete(f"{views}/by loss").status_code == 204
    assert client.delete(f"{views}/by loss").status_code == 404
