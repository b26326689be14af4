"""The REST metrics API refuses every write that could make a run unreadable (issue 11,
finding 2), on a server over PostgreSQL and one over SQLite.

Each bad write gets 400 with a ``ValidationError`` naming the value, nothing of it is stored,
the run's metrics stay readable and later writes still work. ``POST /metrics/batches``
answers batch by batch: a bad batch costs no other batch.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from runhistory import Experiment, Run, Workspace


@pytest.fixture(params=["server", "server-sqlite"])
def backend_name(request: pytest.FixtureRequest) -> str:
    """The two servers: over PostgreSQL (with auth, S3) and over SQLite."""
    return str(request.param)


def _http(workspace: Workspace) -> httpx.Client:
    client: httpx.Client = workspace._connection.backend.http._client
    return client


def _write(name: str, kind: str, columns: list[list[Any]], **extra: Any) -> dict[str, Any]:
    return {"name": name, "kind": kind, "columns": columns, **extra}


def _points(step: Any = None, vtype: Any = 0, number: Any = 1.0, text: Any = None) -> list[Any]:
    return [[step], [vtype], [number], [text], [1.0]]


# A write the server used to accept (and a run then became unreadable), and what the error names.
BAD_WRITES: dict[str, tuple[dict[str, Any], str]] = {
    "a document that is not JSON": (
        _write("doc", "row", _points(vtype=5, number=None, text="{not json")),
        "not valid JSON",
    ),
    "a row given a list": (
        _write("doc", "row", _points(vtype=5, number=None, text="[1, 2]")),
        "row",
    ),
    "a table given a row": (
        _write("doc", "table", _points(vtype=5, number=None, text='{"a": 1}')),
        "table",
    ),
    "a row with a nested value": (
        _write("doc", "row", _points(vtype=5, number=None, text='{"a": [1]}')),
        "row",
    ),
    "NaN sent as the float 'nan'": (_write("m", "scalar", _points(number="nan")), "nan"),
    "a float without a number": (_write("m", "scalar", _points(number=None)), "number"),
    "a step over 64 bits": (_write("m", "scalar", _points(step=2**63)), str(2**63)),
    "an unknown value type": (_write("m", "scalar", _points(vtype=9)), "9"),
    "an integer with a fraction": (_write("m", "scalar", _points(vtype=1, number=0.5)), "0.5"),
    "a bool that is 2": (_write("m", "scalar", _points(vtype=2, number=2.0)), "2.0"),
    "a string without text": (_write("m", "scalar", _points(vtype=3, number=None)), "text"),
    "a scalar holding a document": (
        _write("m", "scalar", _points(vtype=5, number=None, text="{}")),
        "scalar",
    ),
    "an integer text that is not one": (
        _write("m", "scalar", _points(vtype=1, number=1.0, text="one")),
        "one",
    ),
    "NUL in a text": (_write("m", "scalar", _points(vtype=3, number=None, text="a\x00b")), "NUL"),
    "NUL in a name": (_write("m\x00", "scalar", _points()), "NUL"),
    "a description that is not a string": (
        _write("m", "scalar", _points(), description=5),
        "description",
    ),
    "an unknown kind": (_write("m", "histogram", _points()), "histogram"),
}


@pytest.mark.parametrize("case", list(BAD_WRITES))
def test_a_bad_write_is_refused_and_the_run_stays_readable(
    workspace: Workspace, experiment: Experiment, case: str
) -> None:
    write, named = BAD_WRITES[case]
    run = experiment.start_logging(outputs=False)
    run.log("good", 1.0)
    run.flush()
    http = _http(workspace)
    response = http.post(f"/runs/{run.id}/metrics", json={"writes": [write]})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] in ("ValidationError", "InvalidMetricError", "InvalidNameError")
    assert named in body["message"]
    assert http.get(f"/runs/{run.id}/metrics").status_code == 200
    run.log("good", 2.0)
    run.complete()
    assert Run.get(workspace, run.id).get_metrics() == {"good": [1.0, 2.0]}


def test_batches_are_answered_one_by_one(workspace: Workspace, experiment: Experiment) -> None:
    a = experiment.start_logging(outputs=False)
    b = experiment.start_logging(outputs=False)
    a.flush()
    b.flush()
    good = _write("m", "scalar", _points())
    bad_write, _ = BAD_WRITES["a document that is not JSON"]
    batches = [
        {"run_id": a.id, "batch_id": "a-1", "writes": [bad_write]},
        {"run_id": b.id, "batch_id": "b-1", "writes": [good]},
        {"run_id": a.id, "batch_id": "a-2", "writes": [{"name": 5}]},  # not a write at all
        {"run_id": "no-such-run", "batch_id": "c-1", "writes": [good]},
        {"run_id": b.id, "batch_id": "b-2", "writes": [good]},
    ]
    response = _http(workspace).post("/metrics/batches", json={"batches": batches})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["stored"] for r in results] == [False, True, False, False, True]
    assert [r["errors"][0]["error"] if r["errors"] else None for r in results] == [
        "InvalidMetricError",
        None,
        "ValidationError",
        "NotFoundError",
        None,
    ]
    assert b.get_metrics() == {"m": [1.0, 1.0]}
    assert a.get_metrics() == {}


def test_a_batch_with_a_bad_write_keeps_its_good_writes(
    workspace: Workspace, experiment: Experiment
) -> None:
    run = experiment.start_logging(outputs=False)
    run.flush()
    bad, _ = BAD_WRITES["NaN sent as the float 'nan'"]
    writes = [_write("before", "scalar", _points()), bad, _write("after", "scalar", _points())]
    body = orjson.dumps({"batch_id": "mixed", "writes": writes})
    response = _http(workspace).post(
        f"/runs/{run.id}/metrics", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    assert [e["error"] for e in response.json()["errors"]] == ["InvalidMetricError"]
    assert run.get_metrics() == {"before": 1.0, "after": 1.0}
