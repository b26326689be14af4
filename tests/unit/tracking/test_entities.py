"""Records: a run built from its fields without ``__init__`` equals one built with it."""

from __future__ import annotations

import dataclasses

import orjson
import pytest

from runhistory.tracking.entities import RunInfo


def test_run_info_of_equals_the_constructor_and_checks_its_fields() -> None:
    built = RunInfo("r", "e", "exp", 3, "Running", 1.0, tags={"a": None})
    fields = {f.name: getattr(built, f.name) for f in dataclasses.fields(RunInfo)}
    fast = RunInfo.of(dict(fields))
    assert fast == built and orjson.dumps(fast) == orjson.dumps(built)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.status = "Completed"  # type: ignore[misc]
    with pytest.raises(ValueError, match="number"):
        RunInfo.of({k: v for k, v in fields.items() if k != "number"})
    with pytest.raises(ValueError, match="colour"):
        RunInfo.of({**fields, "colour": "red"})
