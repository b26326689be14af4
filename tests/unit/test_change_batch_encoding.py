"""A spooled batch of run changes is encoded as the wire's ``dumps`` writes it: non-finite
floats where they may be (times, definitions, errors, metric times) marked, keys looking like
markers escaped, big integers kept — while the run's checked tags and properties are not
walked again."""

from __future__ import annotations

import math
import time
from typing import Any

from runhistory.client.change_wire import dumps_batch, encode_changes
from runhistory.client.wire import dumps, loads
from runhistory.tracking.entities import (
    MetricWrite,
    PropertyChange,
    RunChanges,
    RunUpdate,
    StatusChange,
    TagChange,
)
from runhistory.tracking.run_records import new_run


def _record(changes: RunChanges) -> dict[str, Any]:
    return {"batch_id": "b1", "run_ids": changes.run_ids(), "changes": encode_changes(changes)}


def _batch(definition: dict[str, Any] | None = None, error: Any = None) -> RunChanges:
    create = new_run("e1", "exp", "Running", run_definition=definition)
    run_id = create.run_id
    write = MetricWrite.from_columns("loss", "scalar", ((None,), (0,), (0.5,), (None,),
                                                        (time.time(),)), "")  # fmt: skip
    return RunChanges(
        creates=[create],
        tags=[TagChange(run_id, {"team": "vision", "flag": None})],
        properties=[PropertyChange(run_id, {"lr": "0.1"})],
        metrics={run_id: [write]},
        statuses=[StatusChange(run_id, "Failed", time.time(), error)],
        checked=True,
    )


def test_a_plain_batch_is_the_same_json_as_dumps_writes() -> None:
    record = _record(_batch({"environment": {"python": {"version": "3.11"}}}))
    assert dumps_batch(record, True) == dumps(record)


def test_a_non_finite_float_in_a_definition_or_an_error_is_marked() -> None:
    batch = _batch({"settings": {"limit": math.inf}}, {"message": "x", "score": math.nan})
    record = _record(batch)
    data = dumps_batch(record, True)
    assert data == dumps(record)
    back = loads(data)["changes"]
    assert back["creates"][0]["run_definition"]["settings"]["limit"] == math.inf
    assert math.isnan(back["statuses"][0]["error"]["score"])


def test_a_non_finite_float_in_updated_fields_or_metric_times_is_marked() -> None:
    batch = _batch()
    run_id = batch.creates[0].run_id
    batch.updates = [RunUpdate(run_id, {"run_definition": {"x": -math.inf}})]
    batch.metrics[run_id] = [MetricWrite.from_columns(
        "loss", "scalar", ((None,), (0,), (0.5,), (None,), (math.inf,)), "")]  # fmt: skip
    data = dumps_batch(_record(batch), True)
    back = loads(data)["changes"]
    assert back["updates"][0]["fields"]["run_definition"]["x"] == -math.inf
    assert back["metrics"][run_id][0]["columns"][4] == [math.inf]


def test_unchecked_tags_and_properties_are_walked() -> None:
    batch = _batch()
    batch.checked = False
    batch.tags[0].set["odd"] = math.inf  # type: ignore[assignment]
    data = dumps_batch(_record(batch), False)
    assert loads(data)["changes"]["tags"][0]["set"]["odd"] == math.inf


def test_a_key_like_a_marker_is_escaped_and_a_big_integer_kept() -> None:
    batch = _batch({"$float": "a key, not a marker", "big": 2**70})
    record = _record(batch)
    data = dumps_batch(record, True)
    assert b'"$$float"' in data
    definition = loads(data)["changes"]["creates"][0]["run_definition"]
    assert definition == {"$float": "a key, not a marker", "big": 2**70}
    assert data == dumps(record)


def test_dollars_in_values_and_keys_round_trip() -> None:
    value = {"path": "$HOME/x", "$float": "a key", "$$int": 1, "cost": "12$", "n": None}
    assert loads(dumps(value)) == value
    assert loads(dumps([value, math.inf])) == [value, math.inf]
