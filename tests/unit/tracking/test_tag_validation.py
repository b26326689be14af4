"""Tags and properties are checked alike whether a run has a few (checked one by one) or many
(checked column by column): the same values pass, the same are refused or converted."""

from __future__ import annotations

from typing import Any

import pytest

from runhistory.errors import ValidationError
from runhistory.tracking.validation import check_properties, check_tags
from runhistory.tracking.validation.names import MAX_TAG_KEY

CASES: dict[str, tuple[Any, Any]] = {
    # name: (key, value) added to otherwise plain entries
    "plain": ("k", "v"),
    "no value": ("k", None),
    "a number": ("k", 5),
    "a bool": ("k", True),
    "non-ASCII": ("clé", "été"),
    "empty value": ("k", ""),
    "empty key": ("", "v"),
    "longest key": ("k" * MAX_TAG_KEY, "v"),
    "key too long": ("k" * (MAX_TAG_KEY + 1), "v"),
    "value too long": ("k", "v" * 5001),
    "NUL in a value": ("k", "a\x00b"),
    "NUL in a key": ("a\x00b", "v"),
    "lone surrogate": ("k", "a\udcffb"),
    "a list": ("k", ["v"]),
    "a key that is not a string": (3, "v"),
}


def _outcome(check: Any, entries: dict[Any, Any]) -> Any:
    try:
        return check(entries)
    except ValidationError as exc:
        return type(exc)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("check", [check_tags, check_properties])
def test_few_and_many_entries_are_checked_alike(check: Any, case: str) -> None:
    key, value = CASES[case]
    few = {"a": "1", key: value}
    many = {f"filler{i}": "x" for i in range(100)} | {key: value}
    got_few, got_many = _outcome(check, few), _outcome(check, many)
    if isinstance(got_few, dict):
        assert isinstance(got_many, dict)
        assert got_few[key] == got_many[key]
        assert got_few == {"a": "1", key: got_few[key]}
    else:  # refused both ways, with the same error
        assert issubclass(got_few, ValidationError)
        assert got_many is got_few
