"""The JSON wire format shared by the server and the remote backend.

JSON has no NaN or infinity, and orjson writes them as ``null``. Values that may hold
non-finite floats (metric values, documents, error fields) therefore travel with each such
float replaced by ``{"$float": "inf"}`` — the marker the SQL store already uses inside
documents. Integers beyond 64 bits (metric values are stored exactly whatever their size)
travel as ``{"$int": "<decimal digits>"}``. Metric points travel as columns ``[steps,
vtypes, numbers, texts, times]`` with a non-finite ``number`` written as the string ``"inf"``
or ``"-inf"`` (NaN has its own vtype). An object key that looks like one of these markers (a
user's tag ``$int``, say) is escaped with one more ``$`` (see :mod:`runhistory.tracking.markers`),
so that a map is never read back as a marker.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import orjson

from runhistory.errors import InvalidMetricError, ValidationError
from runhistory.tracking.entities import (
    ExperimentInfo,
    FileInfo,
    MetricInfo,
    MetricWrite,
    ModelInfo,
    PointColumns,
    RunInfo,
)
from runhistory.tracking.markers import (
    FLOAT_MARKER,
    INT_MARKER,
    KEY_LIKE,
    escape_key,
    may_hold_marker,
    unescape_key,
)

T = TypeVar("T")
_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1  # what orjson writes as a JSON number
_RECORD_TYPES = (ExperimentInfo, RunInfo, FileInfo, MetricInfo, ModelInfo)


def dumps(value: Any) -> bytes:
    """Serialise ``value`` (records, dicts, lists) keeping non-finite floats, big ints and
    keys that look like markers (escaped, see :mod:`runhistory.tracking.markers`)."""
    try:
        data = orjson.dumps(value, default=_default)
    except TypeError as exc:
        if "Integer exceeds" not in str(exc):
            raise
        return orjson.dumps(encode(value), default=_default)
    # orjson writes NaN/inf as null; a key like a marker needs escaping: neither, nothing to do.
    # A null is mostly a None (a run creation has several, every run record some): looking
    # for a non-finite float costs a tenth of encoding the whole value again.
    if _has_marker_key(data):
        return orjson.dumps(encode(value), default=_default)
    if b"null" not in data:
        return data
    plain = _plain(value)
    if plain is value:
        return data
    if plain is not _FOREIGN:  # records, written as encode writes them (fields in order)
        return orjson.dumps(plain, default=_default)
    return orjson.dumps(encode(value), default=_default)


# orjson.Fragment: JSON encoded by dumps already (its floats were checked then).
_PLAIN = (str, int, bool, type(None), orjson.Fragment)


def _all_finite(value: Any) -> bool:
    """Whether ``value`` holds no non-finite float (False for values of other types than
    JSON's, which may: :func:`encode` handles those)."""
    isfinite = math.isfinite
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            stack.extend(item)
        elif kind is float:
            if not isfinite(item):
                return False
        elif kind not in _PLAIN:
            return False
    return True


_FOREIGN: Any = object()  # what _plain answers for a value encode alone may write
_LEAVES = frozenset(_PLAIN)  # JSON's values that hold no float
_FIELDS: dict[type, tuple[str, ...] | None] = {}  # a type's dataclass fields (None: not one)


def _plain(value: Any) -> Any:
    """``value`` as :func:`encode` gives it when that changes nothing but the records: every
    dataclass instance replaced by the dict of its fields in order (the containers holding one
    copied, the others kept); :data:`_FOREIGN` if ``value`` holds a non-finite float or a
    value of another type than JSON's (:func:`encode` then writes it)."""
    kind = type(value)
    if kind in _LEAVES:
        return value
    if kind is float:
        return value if math.isfinite(value) else _FOREIGN
    if kind is dict:
        if _LEAVES.issuperset(map(type, value.values())):  # strings, say: nothing to look into
            return value
        items = {}
        changed = False
        for key, item in value.items():
            found = _plain(item)
            if found is _FOREIGN:
                return _FOREIGN
            items[key] = found
            changed = changed or found is not item
        return items if changed else value
    if kind is list or kind is tuple:
        if _LEAVES.issuperset(map(type, value)):
            return value
        found_items = [_plain(item) for item in value]
        if any(found is _FOREIGN for found in found_items):
            return _FOREIGN
        if all(found is item for found, item in zip(found_items, value, strict=True)):
            return value
        return found_items
    if kind not in _FIELDS:
        _FIELDS[kind] = _field_names(kind)
    names = _FIELDS[kind]
    if names is None:
        return _FOREIGN
    return _plain({name: getattr(value, name) for name in names})  # a new dict, or _FOREIGN


def _field_names(kind: type) -> tuple[str, ...] | None:
    """The fields of a dataclass, in order (None for another type)."""
    if not dataclasses.is_dataclass(kind):
        return None
    return tuple(f.name for f in dataclasses.fields(kind))


def loads(data: bytes | str) -> Any:
    """Parse JSON written by :func:`dumps`, restoring non-finite floats, big ints and keys."""
    value = orjson.loads(data)
    raw = data if isinstance(data, bytes) else data.encode()
    return decode(value) if may_hold_marker(raw) else value


def _has_marker_key(data: bytes) -> bool:
    """Whether compact JSON has an object key that looks like a marker (escaped then)."""
    # '$' alone first: a quote is in every other byte of JSON, so searching for '"$' tries
    # nearly every position (10 µs for a run's 7 KB batch), a '$' is rare (0.2 µs).
    return b"$" in data and KEY_LIKE.search(data) is not None


def _default(value: Any) -> Any:
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    item = getattr(value, "item", None)
    if type(value).__module__ == "numpy" and callable(item):
        return item()
    return str(value)


def encode(value: Any) -> Any:
    """``value`` as the wire carries it: every non-finite float replaced by its ``{"$float":
    ...}`` marker, every integer JSON numbers cannot carry by its ``{"$int": ...}`` one, and
    every object key that looks like a marker escaped."""
    return _tag(value, True)


def tag_floats(value: Any) -> Any:
    """``value`` with the ``$float`` and ``$int`` markers of :func:`encode`, keys as they are
    (for JSON read by people, not decoded: the notebook widget)."""
    return _tag(value, False)


def _tag(value: Any, escape: bool) -> Any:
    kind = type(value)
    if kind is float:
        return value if math.isfinite(value) else {FLOAT_MARKER: repr(value)}
    if kind is int:
        return value if _INT_MIN <= value <= _INT_MAX else {INT_MARKER: str(value)}
    if kind is dict or isinstance(value, dict):
        if escape:
            return {escape_key(k) if type(k) is str else k: _tag(v, True) for k, v in value.items()}
        return {k: _tag(v, False) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_tag(v, escape) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _tag({f.name: getattr(value, f.name) for f in dataclasses.fields(value)}, escape)
    return value


def decode(value: Any) -> Any:
    """Undo :func:`encode`."""
    kind = type(value)
    if kind is dict:
        if len(value) == 1:
            if type(value.get(FLOAT_MARKER)) is str:
                return _marked(value[FLOAT_MARKER], float, FLOAT_MARKER)
            if type(value.get(INT_MARKER)) is str:
                return _marked(value[INT_MARKER], int, INT_MARKER)
        return {unescape_key(k): decode(v) for k, v in value.items()}
    if kind is list:
        return [decode(v) for v in value]
    return value


def _marked(text: str, kind: Callable[[str], Any], marker: str) -> Any:
    try:
        return kind(text)
    except ValueError:
        raise ValidationError(
            f"{{{marker!r}: {text!r:.40}}} does not hold a number as text"
        ) from None


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


def decode_write(item: Any) -> MetricWrite:
    """One metric write from its JSON form (the validator checks its rules afterwards).

    Raises:
        ValidationError: not a write object at all.
        InvalidMetricError: a write whose fields or columns have the wrong types.
    """
    if not isinstance(item, dict):
        raise ValidationError(f"each write must be an object, got {item!r:.80}")
    name, kind, columns = item.get("name"), item.get("kind"), item.get("columns")
    if not isinstance(name, str) or not isinstance(kind, str) or not isinstance(columns, list):
        raise ValidationError(
            "each write needs 'name' (string), 'kind' (string) and 'columns' ([steps, vtypes, "
            f"numbers, texts, times]); got keys {sorted(map(str, item))}"
        )
    description = item.get("description", "")
    if not isinstance(description, str):
        raise InvalidMetricError(
            f"metric {name!r}: 'description' must be a string, got {description!r:.80}"
        )
    return MetricWrite.from_columns(name, kind, _check_columns(name, columns), description)


_NONE = type(None)
_COLUMN_TYPES: tuple[tuple[str, set[type]], ...] = (
    ("steps", {int, _NONE}),
    ("vtypes", {int}),
    ("numbers", {float, int, _NONE}),
    ("texts", {str, _NONE}),
    ("times", {float, int}),
)
_INFINITIES = {"inf": math.inf, "-inf": -math.inf}


def _check_columns(name: str, columns: list[Any]) -> PointColumns:
    if len(columns) == 5 and _one_plain_point(columns):
        return tuple(columns)  # type: ignore[return-value]
    if len(columns) != 5 or not all(isinstance(c, list) for c in columns):
        raise InvalidMetricError(f"metric {name!r}: 'columns' must be five lists")
    if len({len(c) for c in columns}) != 1:
        raise InvalidMetricError(f"metric {name!r}: the five columns differ in length")
    steps, vtypes, numbers, texts, times = columns
    if str in set(map(type, numbers)):
        bad = next((n for n in numbers if type(n) is str and n not in _INFINITIES), None)
        if bad is not None:
            raise InvalidMetricError(
                f"metric {name!r}: numbers are numbers, null, 'inf' or '-inf', not {bad!r:.40} "
                f"(NaN is the value type 4 with a null number)"
            )
        numbers = [_INFINITIES[n] if type(n) is str else n for n in numbers]
    for (label, allowed), column in zip(
        _COLUMN_TYPES, (steps, vtypes, numbers, texts, times), strict=True
    ):
        found = set(map(type, column))
        if not found <= allowed:
            types = sorted(t.__name__ for t in found - allowed)
            raise InvalidMetricError(f"metric {name!r}: {label} hold values of type {types}")
    if int in set(map(type, numbers)):
        numbers = [_as_float(name, n) if type(n) is int else n for n in numbers]
    if int in set(map(type, times)):
        times = [_as_float(name, t) for t in times]
    return (steps, vtypes, numbers, texts, times)


def _one_plain_point(columns: list[Any]) -> bool:
    """Whether five columns hold one point of the types the checks below let through as they
    are (a step or null, a value type, a float or null, a text or null, a float time): most
    writes of short runs, checked without the sets of types."""
    steps, vtypes, numbers, texts, times = columns
    return (
        type(steps) is list and type(vtypes) is list and type(numbers) is list
        and type(texts) is list and type(times) is list
        and len(steps) == len(vtypes) == len(numbers) == len(texts) == len(times) == 1
        and type(steps[0]) in _ONE_STEP and type(vtypes[0]) is int
        and type(numbers[0]) in _ONE_NUMBER and type(texts[0]) in _ONE_TEXT
        and type(times[0]) is float
    )  # fmt: skip


_ONE_STEP = frozenset({int, _NONE})
_ONE_NUMBER = frozenset({float, _NONE})  # an int is made a float, a string an infinity: below
_ONE_TEXT = frozenset({str, _NONE})


def _as_float(name: str, number: int) -> float:
    try:
        return float(number)
    except OverflowError:
        raise InvalidMetricError(f"metric {name!r}: the number {number} is beyond floats") from None


def is_record(value: Any) -> bool:
    """Whether ``value`` is one of the tracking records."""
    return isinstance(value, _RECORD_TYPES)
