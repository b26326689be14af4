"""The wire format keeps nulls and non-finite floats apart, whichever a value holds."""

from __future__ import annotations

import math

from runhistory.client.wire import dumps, loads


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
