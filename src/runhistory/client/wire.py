"""The JSON wire format shared by the server and the remote backend.

JSON has no NaN or infinity, and orjson writes them as ``null``. Values that may hold
non-finite floats (metric values, documents, error fields) therefore travel with each such
float replaced by ``{"$float": "inf"}`` — the marker the SQL store already uses inside
documents. Metric points travel as ``[step, vtype, number, text, time]`` with a non-finite
``number`` written as the string ``"inf"`` or ``"-inf"`` (NaN has its own vtype).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any, TypeVar

import orjson

from runhistory.errors import ValidationError
from runhistory.tracking.entities import (
    ExperimentInfo,
    FileInfo,
    MetricInfo,
    MetricWrite,
    ModelInfo,
    PointColumns,
    RunInfo,
)

T = TypeVar("T")
_MARKER = "$float"
_RECORD_TYPES = (ExperimentInfo, RunInfo, FileInfo, MetricInfo, ModelInfo)


def dumps(value: Any) -> bytes:
    """Serialise ``value`` (records, dicts, lists) keeping non-finite floats."""
    data = orjson.dumps(value, default=_default)
    if b"null" not in data:  # orjson writes NaN/inf as null: none there, nothing to tag
        return data
    return orjson.dumps(tag_floats(value), default=_default)


def loads(data: bytes | str) -> Any:
    """Parse JSON written by :func:`dumps`, restoring non-finite floats."""
    value = orjson.loads(data)
    raw = data if isinstance(data, bytes) else data.encode()
    return untag_floats(value) if b'"$float"' in raw else value


def _default(value: Any) -> Any:
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    item = getattr(value, "item", None)
    if type(value).__module__ == "numpy" and callable(item):
        return item()
    return str(value)


def tag_floats(value: Any) -> Any:
    """``value`` with every non-finite float replaced by its ``{"$float": ...}`` marker."""
    kind = type(value)
    if kind is float:
        return value if math.isfinite(value) else {_MARKER: repr(value)}
    if kind is dict:
        return {k: tag_floats(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [tag_floats(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return tag_floats({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    return value


def untag_floats(value: Any) -> Any:
    """Undo :func:`tag_floats`."""
    kind = type(value)
    if kind is dict:
        if len(value) == 1 and _MARKER in value:
            return _marked_float(value[_MARKER])
        return {k: untag_floats(v) for k, v in value.items()}
    if kind is list:
        return [untag_floats(v) for v in value]
    return value


def _marked_float(text: Any) -> float:
    if isinstance(text, str):
        try:
            return float(text)
        except ValueError:
            pass
    raise ValidationError(
        f"{{{_MARKER!r}: {text!r:.40}}} must hold a float as text: 'nan', 'inf' or '-inf'"
    )


# ---- records ------------------------------------------------------------------------------
def record(cls: type[T], data: Any) -> T:
    """Build a record dataclass from its JSON object (unknown keys are ignored)."""
    if not isinstance(data, dict):
        raise ValidationError(f"expected a JSON object for {cls.__name__}, got {data!r:.80}")
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in data.items() if k in names})


def records(cls: type[T], items: Sequence[Any]) -> list[T]:
    """Build a list of records."""
    return [record(cls, item) for item in items]


# ---- metric points ------------------------------------------------------------------------
def encode_writes(writes: Sequence[MetricWrite]) -> list[dict[str, Any]]:
    """Metric writes as JSON-ready objects with their points as five columns.

    ``columns`` is ``[steps, vtypes, numbers, texts, times]``; an infinite number is written
    as the string ``"inf"`` or ``"-inf"``.
    """
    return [
        {
            "name": w.name,
            "kind": w.kind,
            "description": w.description,
            "columns": _encode_columns(w.columns()),
        }
        for w in writes
    ]


def _encode_columns(columns: PointColumns) -> Sequence[Any]:
    numbers = columns[2]
    isfinite = math.isfinite
    if all(n is None or isfinite(n) for n in numbers):
        return columns
    fixed = [n if n is None or isfinite(n) else repr(n) for n in numbers]
    return (columns[0], columns[1], fixed, columns[3], columns[4])


def decode_writes(data: Any) -> list[MetricWrite]:
    """Metric writes from their JSON form.

    Raises:
        ValidationError: the JSON does not have the documented shape or types.
    """
    if not isinstance(data, list):
        raise ValidationError("'writes' must be a list of {name, kind, description, columns}")
    return [_decode_write(item) for item in data]


def _decode_write(item: Any) -> MetricWrite:
    if not isinstance(item, dict):
        raise ValidationError(f"each write must be an object, got {item!r:.80}")
    name, kind, columns = item.get("name"), item.get("kind"), item.get("columns")
    if not isinstance(name, str) or not isinstance(kind, str) or not isinstance(columns, list):
        raise ValidationError(
            "each write needs 'name' (string), 'kind' (string) and 'columns' ([steps, vtypes, "
            f"numbers, texts, times]); got keys {sorted(item)}"
        )
    description = item.get("description") or ""
    if not isinstance(description, str):
        raise ValidationError(f"metric {name!r}: 'description' must be a string")
    return MetricWrite.from_columns(name, kind, _check_columns(name, columns), description)


_NONE = type(None)
_COLUMN_TYPES: tuple[tuple[str, set[type]], ...] = (
    ("steps", {int, _NONE}),
    ("vtypes", {int}),
    ("numbers", {float, int, _NONE}),
    ("texts", {str, _NONE}),
    ("times", {float, int}),
)


def _check_columns(name: str, columns: list[Any]) -> PointColumns:
    if len(columns) != 5 or not all(isinstance(c, list) for c in columns):
        raise ValidationError(f"metric {name!r}: 'columns' must be five lists")
    if len({len(c) for c in columns}) != 1:
        raise ValidationError(f"metric {name!r}: the five columns differ in length")
    steps, vtypes, numbers, texts, times = columns
    if str in {type(n) for n in numbers}:
        try:
            numbers = [float(n) if type(n) is str else n for n in numbers]
        except ValueError:
            raise ValidationError(
                f"metric {name!r}: numbers must be numbers, null, 'inf' or '-inf'"
            ) from None
    for (label, allowed), column in zip(
        _COLUMN_TYPES, (steps, vtypes, numbers, texts, times), strict=True
    ):
        found = {type(v) for v in column}
        if not found <= allowed:
            bad = sorted(t.__name__ for t in found - allowed)
            raise ValidationError(f"metric {name!r}: {label} hold values of type {bad}")
    if int in {type(n) for n in numbers}:
        numbers = [float(n) if type(n) is int else n for n in numbers]
    if int in {type(t) for t in times}:
        times = [float(t) for t in times]
    return (steps, vtypes, numbers, texts, times)


def is_record(value: Any) -> bool:
    """Whether ``value`` is one of the tracking records."""
    return isinstance(value, _RECORD_TYPES)
