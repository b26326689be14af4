"""Decoding a batch of run changes: plain creations and one-point metric writes take a short
path, and every value the long path refuses is still refused, with the same message."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest

from runhistory.client.change_wire import by_reference, decode_changes, encode_changes
from runhistory.errors import InvalidMetricError, ValidationError
from runhistory.tracking.entities import RunChanges, RunCreate
from runhistory.tracking.run_environments import KnownEnvironment, environment_document


def _create(**fields: Any) -> dict[str, Any]:
    return {"run_id": "r1", "experiment_id": "e1", "status": "Running", "created_time": 1.5,
            **fields}  # fmt: skip


def _write(columns: list[Any]) -> dict[str, Any]:
    return {"name": "loss", "kind": "scalar", "columns": columns}


def test_a_plain_creation_decodes_as_every_field_is_checked() -> None:
    item = _create(created_time=2, start_time=3, display_name=None, tags={"a": "b"})
    [create] = decode_changes({"creates": [item]}).creates
    assert create == RunCreate("r1", "e1", "Running", 2.0, start_time=3.0, tags={"a": "b"})
    assert type(create.created_time) is float and type(create.start_time) is float


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"created_time": True}, "'created_time' must be int/float, got True"),
        ({"status": None}, "'status' must be str, got None"),
        ({"run_definition": []}, "'run_definition' must be dict or null"),
        ({"colour": "red"}, "unknown fields ['colour']"),
        ({"environment_id": 5}, "'environment_id' must be str or null"),
    ],
)
def test_a_bad_creation_field_is_refused_by_name(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        decode_changes({"creates": [_create(**fields)]})
    assert message in caught.value.message


def test_a_creation_missing_a_field_is_refused() -> None:
    item = _create()
    del item["status"]
    with pytest.raises(ValidationError, match=r"needs \['status'\]"):
        decode_changes({"creates": [item]})


def test_a_one_point_write_decodes_as_a_longer_one() -> None:
    columns = [[None], [0], [0.5], [None], [1.0]]
    [write] = decode_changes({"metrics": {"r1": [_write(columns)]}}).metrics["r1"]
    assert write.columns() == ([None], [0], [0.5], [None], [1.0])
    as_ints = [[3], [0], [2], [None], [7]]  # integers become floats
    [write] = decode_changes({"metrics": {"r1": [_write(as_ints)]}}).metrics["r1"]
    assert write.columns() == ([3], [0], [2.0], [None], [7.0])
    assert type(write.columns()[2][0]) is float and type(write.columns()[4][0]) is float
    infinite = [[None], [0], ["inf"], [None], [1.0]]
    [write] = decode_changes({"metrics": {"r1": [_write(infinite)]}}).metrics["r1"]
    assert write.columns()[2] == [float("inf")]


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ([[True], [0], [0.5], [None], [1.0]], "steps hold values of type ['bool']"),
        ([[None], [0], ["x"], [None], [1.0]], "not 'x'"),
        ([[None], [0], [0.5], [None], [None]], "times hold values of type ['NoneType']"),
        ([[None], [0], [0.5], [3], [1.0]], "texts hold values of type ['int']"),
        ([[None], [0.0], [0.5], [None], [1.0]], "vtypes hold values of type ['float']"),
        ([[None], [0], [0.5], [None]], "'columns' must be five lists"),
        ([[None], [0], [0.5, 1.0], [None], [1.0]], "the five columns differ in length"),
    ],
)
def test_a_bad_one_point_write_is_refused_by_name(columns: list[Any], message: str) -> None:
    with pytest.raises(InvalidMetricError) as caught:
        decode_changes({"metrics": {"r1": [_write(columns)]}})
    assert message in caught.value.message


def test_an_environment_travels_whole_with_its_id_or_by_its_id() -> None:
    environment = {"python": {"version": "3.11", "packages": {"b": "1", "a": "2"}}}
    create = RunCreate("r1", "e1", "Running", time.time(),
                       run_definition={"environment": environment, "script": "x.py"})  # fmt: skip
    encoded = encode_changes(RunChanges(creates=[create]))
    environment_id, document = environment_document(environment)
    assert encoded["creates"][0]["environment_id"] == environment_id
    found = by_reference(encoded)
    assert found is not None
    short, named = found
    assert named == {environment_id}
    assert short["creates"][0]["run_definition"] == {"script": "x.py"}
    assert short["creates"][0]["environment_id"] == environment_id
    [whole] = decode_changes(orjson.loads(orjson.dumps(encoded))).creates
    assert whole.run_definition == {
        "environment": KnownEnvironment(environment_id, document), "script": "x.py"}  # fmt: skip
    [by_id] = decode_changes(orjson.loads(orjson.dumps(short))).creates
    assert by_id.run_definition == {
        "environment": KnownEnvironment(environment_id), "script": "x.py"}  # fmt: skip


def test_an_environment_sent_under_another_id_is_refused() -> None:
    other = environment_document({"platform": "y"})[0]
    item = _create(run_definition={"environment": {"platform": "x"}}, environment_id=other)
    with pytest.raises(ValidationError, match="does not match the environment sent with it"):
        decode_changes({"creates": [item]})
