"""One bad value never costs another value (issue 11, finding 1), on every storage.

Runs A and B of one process each log 10,000 values; A then makes bad calls; both log 10,000
more and complete. The innocent run B keeps 20,000 of 20,000 values and completes cleanly.
Each bad call the SDK used to accept (and the store then refused, losing whole batches) now
raises a ``ValidationError`` at once; a change only the store can refuse is raised by A's own
``flush()``/``complete()``, naming it — never by B's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from runhistory import Experiment, Run, Workspace
from runhistory.client.spool import SpooledBatch
from runhistory.errors import InvalidMetricError, ValidationError
from runhistory.tracking.entities import VTYPE_FLOAT, MetricWrite
from support.services import ALL_STORAGES

HALF = 10_000


@pytest.fixture(params=ALL_STORAGES)
def backend_name(request: pytest.FixtureRequest) -> str:
    """Every storage: embedded SQLite and PostgreSQL, servers on SQLite and PostgreSQL."""
    return str(request.param)


# Calls the SDK used to accept and the store refused, with the text the error must name.
BAD_CALLS: dict[str, tuple[Callable[[Run], None], str]] = {
    "step 2**63": (lambda run: run.log("stepped", 1.0, step=2**63), "9223372036854775808"),
    "step 2**100": (lambda run: run.log("stepped", 1.0, step=2**100), str(2**100)),
    "non-string description": (lambda run: run.log("described", 1.0, description=5), "5"),
    "lone surrogate in a value": (lambda run: run.log("text", "a\ud800b"), "surrogate"),
    "lone surrogate in a name": (lambda run: run.log("a\ud800b", 1.0), "surrogate"),
    "NUL in a value": (lambda run: run.log("text", "a\x00b"), "NUL"),
    "NUL in a tag": (lambda run: run.set_tags({"tag": "a\x00b"}), "NUL"),
    "surrogate in a property key": (lambda run: run.add_properties({"k\udc00": "v"}), "surrogate"),
    "NUL in a list": (lambda run: run.log_list("listed", ["ok", "a\x00b"]), "NUL"),
    "NUL in a row": (lambda run: run.log_row("row", text="a\x00b"), "NUL"),
}


def _log(a: Run, b: Run, start: int, stop: int) -> None:
    for i in range(start, stop):
        a.log("values", float(i))
        b.log("values", float(i))


def _count(workspace: Workspace, run_id: str) -> int:
    return len(Run.get(workspace, run_id).get_metric_history("values"))


def test_a_bad_value_costs_no_other_value(workspace: Workspace, experiment: Experiment) -> None:
    """Every value the store used to refuse later is now refused at the call, naming it; the
    runs' other values are all stored and both runs complete."""
    a = experiment.start_logging(outputs=False)
    b = experiment.start_logging(outputs=False)
    _log(a, b, 0, HALF)
    for case, (call, named) in BAD_CALLS.items():
        with pytest.raises(ValidationError) as raised:
            call(a)
        assert named in str(raised.value), case
    _log(a, b, HALF, 2 * HALF)
    b.complete()  # the innocent run never raises
    a.complete()  # nothing of A was refused later: every bad call raised at once
    assert _count(workspace, b.id) == 2 * HALF
    assert _count(workspace, a.id) == 2 * HALF
    assert b.get_status() == "Completed"
    assert set(Run.get(workspace, a.id).get_metrics()) == {"values"}


def test_a_value_refused_when_stored_is_raised_by_its_own_run(
    workspace: Workspace, experiment: Experiment
) -> None:
    """A change the store refuses (a metric logged as two kinds through two objects of one
    run, so no single object could see it) costs nothing else and is raised by that run."""
    a = experiment.start_logging(outputs=False)
    b = experiment.start_logging(outputs=False)
    _log(a, b, 0, HALF)
    a.log("kind", 1.0)
    Run(experiment, a.id).log_list("kind", [1.0, 2.0])
    _log(a, b, HALF, 2 * HALF)
    b.flush()  # B's flush never raises A's error
    b.complete()
    with pytest.raises(InvalidMetricError, match="'kind'"):
        a.complete()
    assert _count(workspace, b.id) == 2 * HALF
    assert _count(workspace, a.id) == 2 * HALF
    a.flush()  # reported once: the error is not raised again


def test_a_value_that_slipped_past_the_sdk_costs_nothing_else(
    workspace: Workspace, experiment: Experiment
) -> None:
    """Defence in depth: a point put on the queue without the SDK's checks (a float point
    without a number) is refused by the service's validator; only that point is lost."""
    a = experiment.start_logging(outputs=False)
    b = experiment.start_logging(outputs=False)
    _log(a, b, 0, HALF)
    queue = a._queue
    queue.put((queue.key(a.id, "raw", "scalar"), None, VTYPE_FLOAT, None, None, time.time()))
    _log(a, b, HALF, 2 * HALF)
    b.complete()
    with pytest.raises(ValidationError, match="'raw'"):
        a.flush()
    a.complete()
    assert _count(workspace, b.id) == 2 * HALF
    assert _count(workspace, a.id) == 2 * HALF
    assert "raw" not in Run.get(workspace, a.id).get_metrics()


@pytest.mark.parametrize("backend_name", ["server", "server-sqlite"])
def test_the_sender_splits_a_request_refused_as_a_whole(
    workspace: Workspace, experiment: Experiment, tmp_path: Path
) -> None:
    """A spooled batch that cannot be read (a damaged spool file) makes its whole request
    invalid: the sender sends the group again in halves, and only that batch is lost."""
    a = experiment.start_logging(outputs=False)
    b = experiment.start_logging(outputs=False)
    a.flush()
    b.flush()
    sender = workspace._connection.backend.sender()
    damaged = SpooledBatch(str(tmp_path / "damaged.batch"), 1, b'{"run_id": "x", "wri', a.id)
    with sender._changed:  # the sender thread takes the three batches as one group
        sender.submit(a.id, [MetricWrite("before", "scalar", [(None, 0, 1.0, None, 1.0)])], None)
        sender._pending.append(damaged)
        sender._unsent_points += 1
        sender.submit(b.id, [MetricWrite("after", "scalar", [(None, 0, 2.0, None, 1.0)])], None)
    b.flush()  # B's batch after the damaged one is stored, and B raises nothing
    with pytest.raises(ValidationError, match="not valid JSON"):
        a.flush()
    assert Run.get(workspace, a.id).get_metrics() == {"before": 1.0}
    assert Run.get(workspace, b.id).get_metrics() == {"after": 2.0}
