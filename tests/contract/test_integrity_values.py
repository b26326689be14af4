"""Value rules that hold on every storage (issue 11): integers of any size come back exactly,
steps are signed 64-bit, every field has its type, and a stored value that cannot be decoded
never makes a run unreadable.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from runhistory import Experiment, Run, Workspace
from runhistory.errors import ValidationError
from runhistory.tracking.metrics import UNDECODABLE
from support.services import ALL_STORAGES

BIG_INTEGERS = [2**53 + 1, -(2**63) - 1, 2**70, -(2**100), 10**308 * 7, 10**400, -(10**4000)]


@pytest.fixture(params=ALL_STORAGES)
def backend_name(request: pytest.FixtureRequest) -> str:
    """Every storage: embedded SQLite and PostgreSQL, servers on SQLite and PostgreSQL."""
    return str(request.param)


def test_integers_of_any_size_come_back_exactly(experiment: Experiment) -> None:
    run = experiment.start_logging(outputs=False)
    for value in BIG_INTEGERS:
        run.log("big", value)
    run.log("once", 2**70)
    run.log_list("listed", [2**64, 1])
    run.complete()
    metrics = Run(experiment, run.id).get_metrics()
    assert metrics["big"] == BIG_INTEGERS
    assert all(type(v) is int for v in metrics["big"])
    assert metrics["once"] == 2**70 and metrics["listed"] == [2**64, 1]
    history = run.get_metric_history("big")
    assert [p["value"] for p in history] == BIG_INTEGERS


def test_steps_are_signed_64_bit(experiment: Experiment) -> None:
    run = experiment.start_logging(outputs=False)
    run.log("edges", 1.0, step=2**63 - 1)
    run.log("edges", 2.0, step=-(2**63))
    for step in (2**63, -(2**63) - 1, 2**100):
        with pytest.raises(ValidationError, match=str(step)):
            run.log("edges", 3.0, step=step)
    run.complete()
    history = Run(experiment, run.id).get_metric_history("edges")
    assert [p["step"] for p in history] == [2**63 - 1, -(2**63)]


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("description", 5, "description"),
        ("description", "a\x00b", "NUL"),
        ("display_name", ["x"], "display_name"),
        ("display_name", "\udfff", "surrogate"),
    ],
)
def test_run_fields_have_their_types(
    workspace: Workspace, experiment: Experiment, field: str, value: Any, named: str
) -> None:
    run = experiment.start_logging(outputs=False, display_name="kept", description="kept")
    with pytest.raises(ValidationError, match=named):
        setattr(run, field, value)
    run.complete()
    stored = Run.get(workspace, run.id)
    assert (stored.display_name, stored.description) == ("kept", "kept")


def test_text_rules_are_the_same_everywhere(experiment: Experiment) -> None:
    """NUL and lone surrogates are refused in every string the store keeps, on every backend;
    every other character is kept exactly."""
    run = experiment.start_logging(outputs=False)
    kept = "tab\t é ✓ 𝄞 \U0010ffff \u200b end"
    run.log(kept, kept)
    run.set_tags({kept: kept})
    run.add_properties({kept: kept})
    run.log_row("row", **{"column": kept})
    calls: list[Callable[[str], object]] = [
        lambda bad: run.log("text", bad),
        lambda bad: run.log(bad, 1.0),
        lambda bad: run.set_tags({"t": bad}),
        lambda bad: run.set_tags({bad: "v"}),
        lambda bad: run.add_properties({bad: "v"}),
        lambda bad: run.log_row("row2", column=bad),
        lambda bad: run.log_table("table", {"c": [bad]}),
        lambda bad: run.log("m", 1.0, description=bad),
    ]
    for bad in ("a\x00", "\ud800", "x\udc00y"):
        for call in calls:
            with pytest.raises(ValidationError):
                call(bad)
    run.complete()
    stored = Run(experiment, run.id)
    assert stored.get_metrics() == {kept: kept, "row": {"column": kept}}
    assert stored.get_tags()[kept] == kept and stored.get_properties()[kept] == kept


# ---- a poisoned stored value never makes reads fail ----------------------------------------
def _database_url(workspace: Workspace, backend_name: str, request: pytest.FixtureRequest) -> str:
    if backend_name == "server":
        return str(request.getfixturevalue("contract_server").database)
    if backend_name == "server-sqlite":
        return f"sqlite:///{request.getfixturevalue('contract_sqlite_server').database}"
    return str(workspace._connection.location.database_url)


def _poison(url: str, run_id: str) -> None:
    """Break stored values behind runhistory's back: a document that is not JSON in a
    metric's only point, and an unknown value type in a chunk."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "UPDATE metrics SET last_vtype = 5, last_text = '{broken' "
                    "WHERE run_id = :run AND name = 'one'"
                ),
                {"run": run_id},
            )
            conn.execute(
                sa.text("UPDATE metrics SET last_vtype = 9 WHERE run_id = :run AND name = 'many'"),
                {"run": run_id},
            )
            conn.execute(
                sa.text(
                    "UPDATE metric_chunks SET texts = '[not json' WHERE metric_id = "
                    "(SELECT id FROM metrics WHERE run_id = :run AND name = 'many')"
                ),
                {"run": run_id},
            )
    finally:
        engine.dispose()


def test_a_value_that_cannot_be_decoded_is_returned_marked(
    workspace: Workspace,
    experiment: Experiment,
    backend_name: str,
    request: pytest.FixtureRequest,
    caplog: pytest.LogCaptureFixture,
) -> None:
    run = experiment.start_logging(outputs=False)
    run.log("one", 1.0)
    run.log_list("many", ["a", 2.5, "c"])
    run.log("fine", 3.0)
    run.complete()
    _poison(_database_url(workspace, backend_name, request), run.id)
    with caplog.at_level(logging.WARNING, logger="runhistory"):
        metrics = Run.get(workspace, run.id).get_metrics()
        history = Run.get(workspace, run.id).get_metric_history("many")
    assert metrics["fine"] == 3.0
    assert set(metrics["one"]) == {UNDECODABLE, "error"}
    assert metrics["one"][UNDECODABLE] == "{broken"
    assert [type(v) for v in metrics["many"]] == [dict, float, dict]
    assert metrics["many"][1] == 2.5
    assert metrics["many"][0][UNDECODABLE] == "[not json"
    assert [p["value"] for p in history] == metrics["many"]
    listed = Run.get(workspace, run.id).get_status()
    assert listed == "Completed"
    if not backend_name.startswith("server"):  # the server logs to its own log
        assert "cannot be decoded" in caplog.text
    assert not math.isnan(metrics["fine"])
