"""MLflow's ``search_runs`` with an ``order_by`` filters in SQL (SQLite and PostgreSQL): for
every comparator of every kind of key, over runs with ties, NaN, infinities, texts among
metrics, missing and empty values, wildcards and letters whose case goes beyond ASCII, the
ordered search finds exactly the runs the newest-first search finds (which checks every clause
in Python); and the clauses it hands to the store are the ones asked of it."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from runhistory.artifacts import open_artifact_store
from runhistory.mlflow_api.api import MlflowApi
from runhistory.mlflow_api.queries import store_filters
from runhistory.mlflow_api.search import parse_filter
from runhistory.store.sql import SqlTrackingStore
from runhistory.tracking import status as st
from runhistory.tracking.entities import (
    VTYPE_BOOL,
    VTYPE_FLOAT,
    VTYPE_INT,
    VTYPE_NAN,
    VTYPE_STR,
    MetricWrite,
    RunCreate,
    WriteBatch,
)
from runhistory.tracking.service import TrackingService
from support import writes

BASE = 1_700_000_000.0  # seconds; + j/16 makes times whose milliseconds end in exactly .5
STATUSES = [st.RUNNING, st.COMPLETED, st.FAILED, st.CANCELED, st.QUEUED, st.FINALIZING,
            st.NOT_STARTED]  # fmt: skip
NAMES = [None, "", "run-a", "Run-B", "r\u00fcn", "kelvin", "\u212aelvin", "a%b", "x_y",
         "back\\slash", "star*?[", "\u0130stanbul", "\u0131i", "\u017fun", "RUN-A"]  # fmt: skip
GROUPS: list[Any] = ["A", "B", "a", None, "missing", "", "b%", "\u0130"]
ACC: list[tuple[int, float | None, str | None] | None] = [
    (VTYPE_FLOAT, 0.5, None), (VTYPE_NAN, None, None), (VTYPE_FLOAT, math.inf, None),
    (VTYPE_FLOAT, -math.inf, None), (VTYPE_STR, None, "diverged"), (VTYPE_INT, 3.0, None),
    (VTYPE_BOOL, 1.0, None), None, (VTYPE_FLOAT, 0.25, None), (VTYPE_FLOAT, 1e300, None),
]  # fmt: skip
RUNS = 45

FILTERS = [
    "metrics.acc > 0.25",
    "metrics.acc >= 0.25",
    "metrics.acc < 0.5",
    "metrics.acc <= 0.5",
    "metrics.acc = 0.5",
    "metrics.acc != 0.5",
    "metrics.acc = 3",
    "metrics.acc = 1",
    "metrics.acc > -1e999",
    "metrics.acc < 1e999",
    "metrics.acc != 1e999",
    "metrics.acc > 0",
    "metrics.steps >= 2",
    "metrics.table != 0",
    "params.lr = '0.1'",
    "params.lr != '0.1'",
    "params.lr LIKE '0.%'",
    "params.lr LIKE '0._'",
    "params.lr ILIKE '0.1%'",
    "params.lr IS NULL",
    "params.lr IS NOT NULL",
    "params.path LIKE '%\\\\%'",
    "params.path LIKE 'a\\\\b%'",
    "params.path = ''",
    "params.path LIKE '%[%'",
    "params.path LIKE '%*%'",
    "params.path LIKE '%?_'",
    "tags.group = 'A'",
    "tags.group != 'A'",
    "tags.group = ''",
    "tags.group != ''",
    "tags.group LIKE 'a'",
    "tags.group ILIKE 'a'",
    "tags.group ILIKE 'B_'",
    "tags.group ILIKE 'i'",
    "tags.group IS NULL",
    "tags.group IS NOT NULL",
    "tags.`mlflow.runName` = 'run-a'",
    "tags.`mlflow.runName` IS NULL",
    "tags.`mlflow.runName` ILIKE 'RUN%'",
    "tags.`mlflow.user` = 'alice'",
    "tags.`mlflow.user` IS NOT NULL",
    "tags.`mlflow.user` = ''",
    "tags.`mlflow.parentRunId` IS NOT NULL",
    "tags.`mlflow.parentRunId` = 'run-00'",
    "tags.`mlflow.lifecycleStage` IS NULL",
    "tags.note ILIKE '%k%'",
    "tags.note ILIKE '%S%'",
    "tags.note ILIKE '%\u0130%'",
    "tags.note LIKE '%\u0131%'",
    "tags.note ILIKE 'ISTANBUL'",
    "attributes.run_name = ''",
    "attributes.run_name != ''",
    "attributes.run_name LIKE 'run-%'",
    "attributes.run_name LIKE '%\\%%'",
    "attributes.run_name ILIKE 'run-a'",
    "attributes.run_name ILIKE '%ELVIN'",
    "attributes.run_name IN ('run-a', 'RUN-A', '')",
    "attributes.run_name NOT IN ('run-a', '')",
    "attributes.run_name LIKE 'star*?['",
    "attributes.run_name LIKE 'x_y'",
    "attributes.run_name LIKE '_un'",
    "attributes.status = 'RUNNING'",
    "attributes.status != 'RUNNING'",
    "attributes.status = 'SCHEDULED'",
    "attributes.status != 'SCHEDULED'",
    "attributes.status IN ('FAILED', 'KILLED')",
    "attributes.status NOT IN ('SCHEDULED')",
    "attributes.status LIKE 'F%'",
    "attributes.status ILIKE '%ed'",
    "attributes.status = 'x'",
    "attributes.user_id = ''",
    "attributes.user_id = 'alice'",
    "attributes.user_id LIKE 'a%'",
    "attributes.run_id = 'run-03'",
    "attributes.run_id != 'run-03'",
    "attributes.run_id IN ('run-01', 'run-02')",
    "attributes.run_id LIKE 'run-1%'",
    "attributes.artifact_uri LIKE '%/run-04/artifacts'",
    "attributes.lifecycle_stage = 'deleted'",
    "attributes.lifecycle_stage != 'deleted'",
    "attributes.start_time > 1700000000062",
    "attributes.start_time >= 1700000000062",
    "attributes.start_time < 1700000000188",
    "attributes.start_time <= 1700000000188",
    "attributes.start_time = 1700000000062",
    "attributes.start_time = 1700000000188",
    "attributes.start_time != 1700000000062",
    "attributes.start_time > 1700000000062.5",
    "attributes.start_time = 1700000000312.5",
    "attributes.start_time >= 1700000000312.2",
    "attributes.end_time > 0",
    "attributes.end_time != 1700000001062",
    "attributes.end_time <= 1700000001188",
    "attributes.start_time > 1e999",
    "metrics.acc > 0.25 AND params.lr = '0.1' AND tags.group != 'B'",
    "attributes.status = 'FINISHED' AND attributes.run_name ILIKE 'r%'",
]


@pytest.fixture
def api(store: SqlTrackingStore, tmp_path: Path) -> tuple[MlflowApi, str]:
    """MLflow's API over the store, and an experiment of varied runs."""
    service = TrackingService(store, open_artifact_store(str(tmp_path / "files")))
    experiment_id = store.create_experiment("pushdown").experiment_id
    creates = []
    for i in range(RUNS):
        tags: dict[str, str | None] = {}
        group = GROUPS[i % len(GROUPS)]
        if group != "missing":
            tags["group"] = group
        tags["note"] = ["\u0130stanbul", "\u0131i", "\u212aelvin", "\u017fun", "istanbul"][i % 5]
        if i % 6 == 1:
            tags["mlflow.user"] = None if i % 12 == 1 else "bob"
        if i % 7 == 3:
            tags["mlflow.lifecycleStage"] = "deleted"
        if i == 40:
            tags["mlflow.loggedModel"] = "m-1"  # a logged model: never a run of a search
        properties = {"lr": f"0.{i % 3}"} if i % 4 else {}
        properties["path"] = ["a\\b", "", "100%", "x[1]", "*", "a?b", "a\\bc"][i % 7]
        start = BASE + (i % 13) / 16 if i % 5 else None
        creates.append(RunCreate(
            f"run-{i:02d}", experiment_id, STATUSES[i % len(STATUSES)], BASE - 100 + i / 16,
            parent_run_id="run-00" if i % 9 == 8 else None,
            display_name=NAMES[i % len(NAMES)], submitted_by=[None, "", "alice"][i % 3],
            start_time=start, end_time=BASE + 1 + (i % 11) / 16 if i % 3 else None,
            tags=tags, properties=properties,
        ))  # fmt: skip
    store.write_changes(WriteBatch(creates=creates))
    for i in range(RUNS):
        logged = []
        acc = ACC[i % len(ACC)]
        if acc is not None:
            vtype, value, text = acc
            logged.append(MetricWrite("acc", "scalar", [(None, vtype, value, text, 1.0)]))
        logged.append(MetricWrite("steps", "list", [(None, VTYPE_FLOAT, float(i % 4), None, 1.0)]))
        logged.append(MetricWrite("table", "table", [(None, 5, None, '{"a": [1]}', 1.0)]))
        writes.log_metrics(store, f"run-{i:02d}", logged)
    return MlflowApi(service), experiment_id


def _ids(api: MlflowApi, body: dict[str, Any]) -> list[str]:
    found: list[str] = []
    while True:
        page = api.search_runs(body)
        found += [r["info"]["run_id"] for r in page["runs"]]
        if "next_page_token" not in page:
            return found
        body = {**body, "page_token": page["next_page_token"]}


def test_ordered_searches_filter_as_the_newest_first_search(
    api: tuple[MlflowApi, str],
) -> None:
    mlflow, experiment_id = api
    for view in ("ACTIVE_ONLY", "ALL", "DELETED_ONLY"):
        for text in FILTERS:
            body = {"experiment_ids": [experiment_id], "filter": text, "run_view_type": view,
                    "max_results": 7}  # fmt: skip
            checked = _ids(mlflow, body)  # every clause checked in Python
            ordered = _ids(mlflow, {**body, "order_by": ["attributes.run_id ASC"]})
            assert ordered == sorted(checked), (text, view)
    every = _ids(mlflow, {"experiment_ids": [experiment_id], "run_view_type": "ALL"})
    assert len(every) == RUNS - 1  # the logged model is no run


def test_the_store_applies_every_clause_but_loose_ilike_and_infinities() -> None:
    infinite = {"metrics.acc > -1e999", "metrics.acc < 1e999", "metrics.acc != 1e999",
                "attributes.start_time > 1e999"}  # fmt: skip
    for text in FILTERS:
        clauses = parse_filter(text)
        pushed, rest = store_filters(clauses, "active")
        if text in infinite:
            assert rest == clauses and len(pushed) == 1, text
            continue
        assert len(pushed) == len(clauses) + 1  # and the lifecycle stage
        loose = [c for c in clauses if c.op == "ILIKE" and any(
            not ch.isascii() or ch in "iksIKS" for ch in c.value)]  # fmt: skip
        assert rest == loose, text
