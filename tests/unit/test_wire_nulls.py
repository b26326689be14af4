"""The wire format keeps nulls and non-finite floats apart, whichever a value holds."""

from __future__ import annotations

import dataclasses
import math

import orjson

from runhistory.client.wire import dumps, encode, loads
from runhistory.tracking.entities import RunInfo


def test_nulls_without_non_finite_floats_round_trip() -> None:
    value = {"parent_run_id": None, "a": [None, 1.0, {"b": None}], "c": (None, 2), "t": True}
    assert loads(dumps(value)) == {**value, "c": [None, 2]}


def test_non_finite_floats_among_nulls_are_kept() -> None:
    value = {"none": None, "values": [None, math.inf, -math.inf, 1.0], "nested": {"v": math.nan}}
    back = loads(dumps(value))
    assert back["none"] is None
    assert back["values"] == [None, math.inf, -math.inf, 1.0]
    assert math.isnan(back["nested"]["v"])


def test_a_non_finite_float_deep_in_a_tuple_is_kept() -> None:
    back = loads(dumps({"none": None, "deep": ({"x": [[-math.inf]]},)}))
    assert back == {"none": None, "deep": [{"x": [[-math.inf]]}]}


def test_values_of_other_types_with_nulls_are_encoded_as_before() -> None:
    back = loads(dumps({"a": None, "c": {1, 2}, "big": 2**70}))
    assert back["a"] is None and sorted(back["c"]) == [1, 2] and back["big"] == 2**70


def _run(**fields: object) -> RunInfo:
    """A run as the SQL store builds it: its attributes set in another order than its fields."""
    definition = {"environment": {"packages": {"a": "1"}}}
    values = {"number": 1, "run_id": "r1", "experiment_id": "e1", "experiment_name": "exp",
              "status": "Completed", "created_time": 1.5, "error": None, "tags": {},
              "properties": {}, "run_definition": definition}  # fmt: skip
    defaults = {f.name: f.default for f in dataclasses.fields(RunInfo) if f.name not in values}
    return RunInfo.of({**values, **defaults, **fields})  # type: ignore[arg-type]


def test_a_record_with_nulls_is_written_as_encode_writes_it() -> None:
    run = _run(tags={"t": None})
    value = {"items": [run, run], "next_offset": None, "record": run}
    data = dumps(value)
    assert data == orjson.dumps(encode(value))
    assert list(orjson.loads(data)["record"]) == [f.name for f in dataclasses.fields(RunInfo)]


def test_a_non_finite_float_in_a_record_with_nulls_is_kept() -> None:
    run = _run(run_definition={"lr": math.inf, "none": None})
    assert loads(dumps({"run": run}))["run"]["run_definition"] == {"lr": math.inf, "none": None}


def test_a_marker_like_key_in_a_record_is_escaped() -> None:
    run = _run(properties={"$float": "x"}, description=None)
    assert loads(dumps(run))["properties"] == {"$float": "x"}
