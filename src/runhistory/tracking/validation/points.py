"""Metric points: steps, integers, and the check of a whole write (the service's and the
server's, column by column so that a million points cost a few set and min/max passes).

A point is ``(step, vtype, number, text, time)``:

========  ===========================================  =====================================
vtype     number                                       text
========  ===========================================  =====================================
float     a float, not NaN (±inf allowed)              null
int       the integer as a float (exact to 2**53)      null, or the exact decimal digits when
                                                       ``|value| > 2**53`` (number: nearest
                                                       float, ±inf beyond the float range)
bool      0.0 or 1.0                                   null
str       null                                         the string (text rule, ≤ 65,536 chars)
nan       null                                         null
json      null                                         a JSON document (text rule; its shape
                                                       is checked against the metric's kind)
========  ===========================================  =====================================

Steps are null (for every point of a metric) or integers in the signed 64-bit range.
"""

from __future__ import annotations

import math
import re
from array import array
from collections.abc import Sequence
from typing import Any

import orjson

from runhistory.errors import InvalidMetricError
from runhistory.tracking.entities import (
    ALL_KINDS,
    KIND_IMAGE,
    KIND_LIST,
    KIND_ROW,
    KIND_SCALAR,
    KIND_TABLE,
    STRUCTURED_KINDS,
    VTYPE_BOOL,
    VTYPE_FLOAT,
    VTYPE_INT,
    VTYPE_JSON,
    VTYPE_NAN,
    VTYPE_STR,
    MetricWrite,
)
from runhistory.tracking.validation.names import check_metric_name
from runhistory.tracking.validation.text import (
    TEXT_RULE,
    check_text,
    has_nul_escape,
    text_problem,
)

STEP_MIN, STEP_MAX = -(2**63), 2**63 - 1
EXACT_FLOAT_INT = 2**53  # every integer up to this size is exact as a float
MAX_INT_DIGITS = 4300  # Python's own limit for turning an int into decimal text
MAX_STRING_VALUE = 65_536
_SCALAR_VTYPES = frozenset((VTYPE_FLOAT, VTYPE_INT, VTYPE_BOOL, VTYPE_STR, VTYPE_NAN))
_DOCUMENT_VTYPES = frozenset((VTYPE_JSON,))
_NUMBERS = frozenset((VTYPE_FLOAT, VTYPE_INT, VTYPE_BOOL))
_DECIMAL = re.compile(r"-?[1-9][0-9]*")
_FLOAT_MARKER = "$float"


def check_step(name: str, step: Any) -> int:
    """``step`` as an int if it is one (numpy integers too) in the signed 64-bit range."""
    item = step.item() if type(step).__module__ == "numpy" and hasattr(step, "item") else step
    if isinstance(item, bool) or not isinstance(item, int):
        raise InvalidMetricError(
            f"metric {name!r}: step must be an integer, got {type(step).__name__} {step!r:.80}",
            metric=name,
        )
    if not STEP_MIN <= item <= STEP_MAX:
        raise InvalidMetricError(
            f"metric {name!r}: step {item} is outside the signed 64-bit range [-2**63, 2**63 - 1]",
            metric=name,
        )
    return int(item)


def encode_int(name: str, value: int) -> tuple[int, float, str | None]:
    """An integer as ``(vtype, number, text)``: exact text beyond 2**53 (see the table)."""
    if -EXACT_FLOAT_INT <= value <= EXACT_FLOAT_INT:
        return VTYPE_INT, float(value), None
    try:
        text = str(value)
    except ValueError:  # more digits than Python turns into text
        raise InvalidMetricError(
            f"metric {name!r}: an integer of more than {MAX_INT_DIGITS} digits cannot be stored",
            metric=name,
        ) from None
    return VTYPE_INT, _nearest_float(value), text


def _nearest_float(value: int) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def check_write(write: MetricWrite) -> None:
    """Refuse a metric write the store could not keep or read back exactly.

    Raises:
        InvalidMetricError: the name, kind, description or any point breaks a rule; the
            message names the metric and the value.
    """
    name = check_metric_name(write.name)
    if write.kind not in ALL_KINDS:
        raise InvalidMetricError(
            f"metric {name!r}: unknown kind {write.kind!r}; kinds: {', '.join(ALL_KINDS)}",
            metric=name,
        )
    check_text(write.description, f"metric {name!r}: 'description'")
    steps, vtypes, numbers, texts, times = write.columns()
    if not vtypes or (len(vtypes) == 1 and _plain_point(write.kind, write.points[0])):
        return
    allowed = _SCALAR_VTYPES if write.kind in (KIND_SCALAR, KIND_LIST) else _DOCUMENT_VTYPES
    found = set(vtypes)
    if not found <= allowed:
        _refuse_vtypes(name, write.kind, found - allowed)
    if _plain_numbers(found, steps, vtypes, numbers, texts, times):
        return  # the common case, checked column by column at C speed
    _check_steps(name, steps)
    _check_times(name, times)
    for vtype, number, text in zip(vtypes, numbers, texts, strict=True):
        _check_point(name, write.kind, vtype, number, text)


def _plain_point(kind: str, point: tuple[Any, ...]) -> bool:
    """Whether the only point of a write is a plain float breaking no rule (most writes of
    short runs: checked without building columns)."""
    step, vtype, number, text, at = point
    return (
        vtype == VTYPE_FLOAT
        and type(number) is float
        and number == number
        and text is None
        and type(at) is float
        and math.isfinite(at)
        and (step is None or (type(step) is int and STEP_MIN <= step <= STEP_MAX))
        and kind in (KIND_SCALAR, KIND_LIST)
    )


def _plain_numbers(
    found: set[Any],
    steps: Sequence[Any],
    vtypes: Sequence[int],
    numbers: Sequence[Any],
    texts: Sequence[Any],
    times: Sequence[Any],
) -> bool:
    """Whether a write holds only numbers that break no rule (False: look point by point).

    Packing the columns as C arrays checks their types and the step range at once (1,000,000
    points in a few milliseconds, where Python-level checks take a tenth of a second).
    """
    if not found <= _NUMBERS or texts.count(None) != len(texts):
        return False
    missing = steps.count(None)
    if missing not in (0, len(steps)):
        return False
    try:
        packed = array("d", numbers)  # None (or anything but a number) fails here
        if not missing:
            array("q", steps)  # an integer beyond 64 bits, or not an integer, fails here
        stamps = sum(array("d", times))
    except (TypeError, OverflowError):
        return False
    total = sum(packed)
    if total != total and any(n != n for n in packed):  # NaN belongs to its own value type
        return False
    if not math.isfinite(stamps):
        return False
    return found == {VTYPE_FLOAT} or _whole_numbers(found, vtypes, packed)


def _check_steps(name: str, steps: Sequence[Any]) -> None:
    missing = steps.count(None)
    if missing == len(steps):
        return
    if missing:
        raise InvalidMetricError(
            f"metric {name!r}: if any value of a metric has a step, all its values must have one",
            metric=name,
        )
    if set(map(type, steps)) != {int}:
        bad = next(s for s in steps if type(s) is not int)
        raise InvalidMetricError(f"metric {name!r}: step {bad!r:.80} is not an integer")
    if min(steps) < STEP_MIN or max(steps) > STEP_MAX:
        bad = next(s for s in steps if not STEP_MIN <= s <= STEP_MAX)
        check_step(name, bad)


def _check_times(name: str, times: Sequence[Any]) -> None:
    if set(map(type, times)) != {float}:
        raise InvalidMetricError(f"metric {name!r}: point times must be floats (epoch seconds)")
    if times and not math.isfinite(math.fsum(times)):
        raise InvalidMetricError(f"metric {name!r}: point times must be finite")


def _whole_numbers(found: set[Any], vtypes: Sequence[int], numbers: Sequence[Any]) -> bool:
    """Whether the int points are whole numbers within 2**53 and the bools 0 or 1 (else the
    point-by-point check finds and names the bad one)."""
    if VTYPE_INT in found:
        ints = [n for v, n in zip(vtypes, numbers, strict=True) if v == VTYPE_INT]
        if not all(map(float.is_integer, ints)) or max(map(abs, ints)) > EXACT_FLOAT_INT:
            return False
    if VTYPE_BOOL in found:
        bools = {n for v, n in zip(vtypes, numbers, strict=True) if v == VTYPE_BOOL}
        return bools <= {0.0, 1.0}
    return True


def _refuse_vtypes(name: str, kind: str, bad: set[Any]) -> None:
    known = {VTYPE_FLOAT, VTYPE_INT, VTYPE_BOOL, VTYPE_STR, VTYPE_NAN, VTYPE_JSON}
    unknown = sorted(map(repr, bad - known))
    if unknown:
        raise InvalidMetricError(f"metric {name!r}: unknown value types {', '.join(unknown)}")
    if kind in (KIND_SCALAR, KIND_LIST):
        raise InvalidMetricError(
            f"metric {name!r}: a {kind} metric holds numbers, strings and bools, not documents"
        )
    raise InvalidMetricError(f"metric {name!r}: every value of a {kind} must be a JSON document")


def _check_point(name: str, kind: str, vtype: int, number: Any, text: Any) -> None:
    if vtype == VTYPE_JSON:
        _require(name, number is None, "a document has no number", number)
        check_document_text(name, kind, text)
    elif vtype == VTYPE_STR:
        _require(name, number is None, "a string value has no number", number)
        _require(name, type(text) is str, "a string value needs its text", text)
        check_text(text, f"metric {name!r}: the value", MAX_STRING_VALUE)
    elif vtype == VTYPE_NAN:
        _require(name, number is None and text is None, "NaN has no number nor text", number)
    else:
        _require(name, type(number) is float, "the number must be a float", number)
        if vtype == VTYPE_FLOAT:
            _require(name, number == number, "NaN must be sent as the 'nan' value type", number)
            _require(name, text is None, "a float has no text", text)
        elif vtype == VTYPE_BOOL:
            _require(name, number in (0.0, 1.0) and text is None, "a bool is 0.0 or 1.0", number)
        else:
            _check_int(name, number, text)


def _check_int(name: str, number: float, text: Any) -> None:
    if text is None:
        _require(
            name,
            math.isfinite(number) and number.is_integer() and abs(number) <= EXACT_FLOAT_INT,
            f"an integer without text is a whole number of at most 2**53, not {number!r}",
            number,
        )
        return
    _require(name, type(text) is str and _DECIMAL.fullmatch(text) is not None,
             "an integer's text is its decimal digits", text)  # fmt: skip
    _require(name, len(text) <= MAX_INT_DIGITS + 1, "an integer has too many digits", text[:40])
    value = int(text)
    _require(name, abs(value) > EXACT_FLOAT_INT, "only integers beyond 2**53 have text", text)
    _require(name, _nearest_float(value) == number, "the number must be the text's nearest float",
             number)  # fmt: skip


def _require(name: str, ok: bool, rule: str, value: Any) -> None:
    if not ok:
        raise InvalidMetricError(f"metric {name!r}: {rule} (got {value!r:.80})", metric=name)


def check_document_text(name: str, kind: str, text: Any) -> Any:
    """Parse a stored document's JSON text and check its shape for ``kind``; returns it."""
    _require(name, type(text) is str, "a document needs its JSON text", text)
    problem = text_problem(text) or ("contains a NUL character" if has_nul_escape(text) else None)
    if problem is not None:
        raise InvalidMetricError(f"metric {name!r}: the document {problem}; {TEXT_RULE}")
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise InvalidMetricError(
            f"metric {name!r}: the document {text!r:.80} is not valid JSON ({exc})", metric=name
        ) from None
    check_document(name, kind, document)
    return document


def check_document(name: str, kind: str, document: Any) -> None:
    """Refuse a document that does not have the shape its kind is read back with."""
    if kind == KIND_ROW:
        if not isinstance(document, dict) or not document:
            raise InvalidMetricError(f"row {name!r}: a row is a non-empty {{column: value}} object")
        for column, value in document.items():
            if not _is_scalar(value):
                raise InvalidMetricError(
                    f"row {name!r}: column {column!r} must hold a number, string, bool or null, "
                    f"got {value!r:.80}"
                )
    elif kind == KIND_TABLE:
        _check_table_document(name, document)
    elif kind == KIND_IMAGE:
        if not isinstance(document, str):
            raise InvalidMetricError(f"image {name!r}: an image value is a reference string")
    elif kind in STRUCTURED_KINDS:
        from runhistory.tracking.structured import validate_document

        validate_document(kind, document)


def _check_table_document(name: str, document: Any) -> None:
    if not isinstance(document, dict) or not document:
        raise InvalidMetricError(f"table {name!r}: a table is a non-empty {{column: [values]}}")
    lengths = set()
    for column, values in document.items():
        if not isinstance(values, list):
            raise InvalidMetricError(
                f"table {name!r}: column {column!r} must be a list, got {values!r:.80}"
            )
        lengths.add(len(values))
    if len(lengths) > 1:
        raise InvalidMetricError(f"table {name!r}: columns differ in length")


def _is_scalar(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    return isinstance(value, dict) and len(value) == 1 and type(value.get(_FLOAT_MARKER)) is str
