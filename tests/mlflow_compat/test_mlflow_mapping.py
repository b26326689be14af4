"""The MLflow mapping's own rules: lossless experiment names, statuses, the filter grammar."""

from __future__ import annotations

import pytest

from runhistory.mlflow_api import mapping as mp
from runhistory.mlflow_api.errors import MlflowApiError
from runhistory.mlflow_api.search import Clause, matches, parse_filter, parse_order_by
from runhistory.tracking import status as st
from runhistory.tracking.validation import check_experiment_name


@pytest.mark.parametrize(
    "name", ["Default", "/Users/ana/churn model", "a", "x" * 300, "mlflow-" + "0" * 29, "ünï"]
)
def test_every_mlflow_experiment_name_is_stored_under_a_valid_distinct_name(name: str) -> None:
    stored = mp.stored_experiment_name(name)
    assert check_experiment_name(stored) == stored
    assert mp.needs_name_tag(name) == (stored != name)


def test_names_never_collide() -> None:
    names = ["my exp", "my-exp", "My exp", "mlflow-" + "a" * 29, "/a/b", "/a/b "]
    assert len({mp.stored_experiment_name(n) for n in names}) == len(names)


def test_statuses_map_both_ways() -> None:
    for name, status in mp.TO_RUNHISTORY.items():
        assert mp.mlflow_status(status) == name
    assert mp.mlflow_status(st.NOT_STARTED) == "SCHEDULED"
    assert mp.mlflow_status(st.NOT_RESPONDING) == "RUNNING"
    with pytest.raises(MlflowApiError):
        mp.runhistory_status("DONE")


def test_filters_parse_into_clauses() -> None:
    clauses = parse_filter(
        "metrics.acc >= 0.5 and params.`learning rate` = '0.1' AND tags.\"mlflow.runName\" "
        "ILIKE 'R%' and attributes.status IN ('FINISHED', 'FAILED') and tags.x IS NULL "
        "and run_id NOT IN ('a')"
    )
    assert clauses == [
        Clause("metrics", "acc", ">=", 0.5),
        Clause("params", "learning rate", "=", "0.1"),
        Clause("tags", "mlflow.runName", "ILIKE", "R%"),
        Clause("attributes", "status", "IN", ("FINISHED", "FAILED")),
        Clause("tags", "x", "IS NULL", None),
        Clause("attributes", "run_id", "NOT IN", ("a",)),
    ]
    assert matches(clauses[2], "run-1") and not matches(clauses[2], "xr")
    assert matches(clauses[4], None) and not matches(clauses[0], None)


@pytest.mark.parametrize(
    "text",
    ["metrics.acc > 'high'", "params.lr > 1", "foo.bar = 1", "metrics.acc = 1 OR metrics.b = 2",
     "metrics.acc >", "attributes.color = 'red'", "metrics.acc LIKE 'a%'"],
)  # fmt: skip
def test_bad_filters_are_refused_with_a_reason(text: str) -> None:
    with pytest.raises(MlflowApiError):
        parse_filter(text)


def test_order_by_terms() -> None:
    terms = parse_order_by(["metrics.acc DESC", "params.lr", "attributes.start_time asc"])
    assert [(t.entity, t.key, t.descending) for t in terms] == [
        ("metrics", "acc", True), ("params", "lr", False), ("attributes", "start_time", False),
    ]  # fmt: skip
