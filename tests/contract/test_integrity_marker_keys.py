"""A user's map whose keys look like the wire's value markers comes back as that map.

``{"$float": …}``, ``{"$int": …}`` and ``{"$undecodable": …}`` are how values JSON cannot
carry travel and are stored; a tag, property, row, table, model or run-definition map may use
the same keys, alone, among others, nested, or already looking escaped (``$$int``). On every
storage (embedded and behind a server, on SQLite and PostgreSQL) each comes back exactly.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from runhistory import Experiment, Model, Run, Workspace
from runhistory.client.wire import records
from runhistory.tracking.entities import MetricInfo
from support.services import ALL_STORAGES

MARKERS = ("$float", "$int", "$undecodable")
ESCAPED_LOOKING = ("$$float", "$$int", "$$undecodable", "$$$int", "$$$$float")
# Values a marker would decode (a number as text), and values it could not.
MAPS: list[dict[str, str]] = [
    *({marker: value} for marker in MARKERS for value in ("", "5", "nan", "inf", "x")),
    *({key: "5"} for key in ESCAPED_LOOKING),
    {"$int": "1", "other": "x"},
    {"$float": "nan", "$int": "2", "$undecodable": "3", "$$int": "4", "$": "5", "$x": "6"},
]


@pytest.fixture(params=ALL_STORAGES)
def backend_name(request: pytest.FixtureRequest) -> str:
    """Every storage: embedded SQLite and PostgreSQL, servers on SQLite and PostgreSQL."""
    return str(request.param)


def test_tags_and_properties_keyed_like_markers_round_trip(
    workspace: Workspace, experiment: Experiment
) -> None:
    ids = []
    for found in MAPS:
        run = experiment.start_logging(outputs=False)
        run.set_tags(dict(found))
        run.add_properties(dict(found))
        run.complete()
        ids.append(run.id)
    for run_id, wanted in zip(ids, MAPS, strict=True):
        stored = Run.get(workspace, run_id)
        assert stored.get_tags() == wanted
        assert stored.get_properties() == wanted
        assert stored.get_details()["properties"] == wanted
    listed = {run.id: run for run in experiment.get_runs()}
    for run_id, wanted in zip(ids, MAPS, strict=True):
        assert listed[run_id].get_tags() == wanted
        assert listed[run_id].get_properties() == wanted
    filtered = {run.id for run in experiment.get_runs(tags={"$int": "5"})}
    assert filtered == {ids[MAPS.index({"$int": "5"})]}
    filtered = {run.id for run in experiment.get_runs(properties="$$int")}
    assert filtered == {ids[MAPS.index({"$$int": "5"})], ids[-1]}


def test_rows_and_tables_keyed_like_markers_round_trip(experiment: Experiment) -> None:
    run = experiment.start_logging(outputs=False)
    rows: dict[str, dict[str, Any]] = {}
    for i, found in enumerate(MAPS):
        row = {key: value if i % 2 else float(len(value)) for key, value in found.items()}
        rows[f"row{i}"] = row
        run.log_row(f"row{i}", **row)
    several = [{"$float": 1.5, "$int": "a"}, {"$float": float("inf"), "$$int": "b"}]
    for row in several:
        run.log_row("rows", **row)
    table = {"$float": [1.0, 2.0], "$$undecodable": ["a", "b"], "c": [None, True]}
    run.log_table("table", table)
    run.log_table("one-column", {"$int": [7]})
    run.complete()
    stored = Run.get(run.experiment.workspace, run.id)
    found = stored.get_metrics()
    for name, row in rows.items():
        assert found[name] == row
        assert [p["value"] for p in stored.get_metric_history(name)] == [row]
    assert found["rows"] == {
        "$float": [1.5, float("inf")], "$int": ["a", None], "$$int": [None, "b"]
    }  # fmt: skip
    assert [p["value"] for p in stored.get_metric_history("rows")] == several
    assert found["table"] == {"$float": [1.0, 2.0], "$$undecodable": ["a", "b"], "c": [None, True]}
    assert [p["value"] for p in stored.get_metric_history("table")] == [table]
    assert found["one-column"] == {"$int": 7}


def test_nested_maps_keyed_like_markers_round_trip(
    workspace: Workspace, experiment: Experiment, tmp_path: Path
) -> None:
    definition = {
        "$int": {"$float": {"$$int": "x", "$undecodable": ["$int", {"$int": "9"}]}},
        "arguments": [{"$float": "inf"}, {"$$$float": "nan", "k": 1}],
        "$$undecodable": {"error": "not a marker"},
    }
    run = experiment.start_logging(outputs=False)
    backend = workspace.service_context
    backend.update_run(run.id, run_definition=definition)
    assert backend.get_run(run.id).run_definition == definition
    model_file = tmp_path / "model.txt"
    model_file.write_text("weights")
    run.upload_file("outputs/model.txt", str(model_file))
    run.complete()
    model = run.register_model(
        "marker-keys", model_path="outputs/model.txt", tags={"$int": "1"},
        properties={"$float": "nan", "$$float": "x"},
    )  # fmt: skip
    again = Model(workspace, "marker-keys", version=model.version)
    assert again.tags == {"$int": "1"}
    assert again.properties == {"$float": "nan", "$$float": "x"}


def test_last_values_of_rows_and_tables_are_the_documents_logged(
    workspace: Workspace, experiment: Experiment
) -> None:
    run = experiment.start_logging(outputs=False)
    run.log_row("row", loss=0.5, epoch=1)
    last_row = {"$int": "5", "$$float": 1.5, "n": float("nan"), "big": 2**62, "text": "x"}
    run.log_row("row", **last_row)
    table = {"$float": [float("inf"), 1.0], "$$undecodable": ["a", "b"], "c": [None, True]}
    run.log_table("table", table)
    run.log_list("list", [1.5, float("nan"), 2**70])
    run.log("big", 2**70)
    run.log("nan", float("nan"))
    run.complete()
    wanted = {"row": last_row, "table": table, "list": 2**70, "big": 2**70}

    def check(infos: list[MetricInfo]) -> None:
        found = {info.name: info.last_value for info in infos}
        assert _nan_named({name: found[name] for name in wanted}) == _nan_named(wanted)
        assert math.isnan(found["nan"])

    backend = workspace.service_context
    check(backend.get_metric_infos(run.id))
    paged: list[MetricInfo] = []
    token: str | None = None
    while not paged or token:
        page = backend.get_metric_infos_page(run.id, page_size=2, page_token=token)
        paged.extend(page.items)
        token = page.next_page_token
    check(paged)
    searched = backend.get_metric_infos_page(run.id, search="ROW").items
    assert _nan_named([info.last_value for info in searched]) == _nan_named([last_row])
    if hasattr(backend, "http"):  # the REST answer of several runs' metric summaries
        answer = backend.http.call("POST", "/metrics/infos", json={"run_ids": [run.id]})
        check(records(MetricInfo, answer["items"]))
    else:
        check(backend.store.get_metric_infos_of([run.id]))


def _nan_named(value: Any) -> Any:
    """``value`` with every NaN as the text ``"NaN"`` (NaN equals nothing, itself included)."""
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, dict):
        return {key: _nan_named(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_nan_named(item) for item in value]
    return value
