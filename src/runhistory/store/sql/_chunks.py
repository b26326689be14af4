"""Encoding metric points as chunks: packed arrays plus a summary per chunk.

A chunk holds up to ``CHUNK_POINTS`` consecutive points of one metric as little-endian
arrays (steps int64, values float64, times float64), with the value types and texts only when
some value is not a plain float. Its summary (x range, value min/max and where they occur)
lets charts be drawn from summaries alone and lets reads skip chunks outside a step range.
Measured on this project's 2-core machine, appending 1,000,000 points as chunks is about ten
times faster than one row per point, and reading them back about twenty times faster.
"""

from __future__ import annotations

import logging
import math
import sys
from array import array
from collections.abc import Sequence
from typing import Any

import orjson

from runhistory.tracking.entities import (
    UNDECODABLE,
    VTYPE_BOOL,
    VTYPE_FLOAT,
    VTYPE_INT,
    VTYPE_JSON,
    VTYPE_NAN,
    VTYPE_STR,
    PointColumns,
)

CHUNK_POINTS = 128
_NUMERIC = (VTYPE_FLOAT, VTYPE_INT, VTYPE_BOOL)
_KNOWN = frozenset((*_NUMERIC, VTYPE_STR, VTYPE_NAN, VTYPE_JSON))
_log = logging.getLogger("runhistory.store")
_SWAP = sys.byteorder != "little"
Point = tuple[int | None, int, float | None, str | None, float]


def _pack(typecode: str, values: Sequence[Any]) -> bytes:
    packed = array(typecode, values)
    if _SWAP:
        packed.byteswap()
    return packed.tobytes()


def _unpack(typecode: str, data: bytes) -> list[Any]:
    packed = array(typecode)
    packed.frombytes(data)
    if _SWAP:
        packed.byteswap()
    return packed.tolist()


def encode_chunks(metric_id: int, first_seq: int, columns: PointColumns) -> list[dict[str, Any]]:
    """Rows of ``metric_chunks`` for consecutive points starting at ``first_seq``.

    ``columns`` are ``(steps, vtypes, numbers, texts, times)`` of equal length.
    """
    steps: list[int | None] = list(columns[0])
    vtypes: list[int] = list(columns[1])
    numbers: list[float | None] = list(columns[2])
    texts: list[str | None] = list(columns[3])
    times: list[float] = list(columns[4])
    has_steps = steps.count(None) != len(steps)
    rows = []
    for start in range(0, len(vtypes), CHUNK_POINTS):
        end = start + CHUNK_POINTS
        rows.append(
            _chunk_row(metric_id, first_seq + start, steps[start:end] if has_steps else None,
                       vtypes[start:end], numbers[start:end], texts[start:end], times[start:end])
        )  # fmt: skip
    return rows


def _chunk_row(
    metric_id: int,
    first_seq: int,
    steps: list[int | None] | None,
    vtypes: list[int],
    numbers: list[float | None],
    texts: list[str | None],
    times: list[float],
) -> dict[str, Any]:
    count = len(vtypes)
    plain = vtypes.count(VTYPE_FLOAT) == count
    values = numbers if plain else [math.nan if n is None else n for n in numbers]
    if steps is None:
        xs: Sequence[int] = range(first_seq, first_seq + count)
    else:
        xs = steps if None not in steps else [s or 0 for s in steps]  # type: ignore[assignment]
    summary = _summary(xs, values, vtypes, plain)
    return {
        "metric_id": metric_id,
        "first_seq": first_seq,
        "count": count,
        "x_min": min(xs),
        "x_max": max(xs),
        **summary,
        "time_min": min(times),
        "time_max": max(times),
        "steps": None if steps is None else _pack("q", xs),
        "vals": _pack("d", values),
        "times": _pack("d", times),
        "vtypes": None if plain else _pack("b", vtypes),
        "texts": orjson.dumps(texts).decode() if texts.count(None) != count else None,
    }


def _summary(
    xs: Sequence[int], values: list[Any], vtypes: list[int], plain: bool
) -> dict[str, Any]:
    if plain:
        candidates = values
    else:
        candidates = [v if t in _NUMERIC else math.nan for v, t in zip(values, vtypes, strict=True)]
    finite = [v for v in candidates if not math.isnan(v)] if not plain else candidates
    if not finite:
        return {"value_min": None, "value_max": None, "x_at_min": None, "x_at_max": None}
    low, high = min(finite), max(finite)
    return {
        "value_min": low,
        "value_max": high,
        "x_at_min": xs[candidates.index(low)],
        "x_at_max": xs[candidates.index(high)],
    }


def decode_value(vtype: int | None, value: float | None, text: str | None, where: str = "") -> Any:
    """The Python value of a stored point (see the ``VTYPE_*`` codes).

    A value that cannot be decoded (written behind runhistory's back, or by a bug) comes back
    as the :data:`~runhistory.tracking.entities.UNDECODABLE` marker and the fault is logged:
    one bad value never makes a whole read fail.
    """
    if vtype == VTYPE_FLOAT:
        return math.nan if value is None else float(value)
    if vtype == VTYPE_STR and text is not None:
        return text
    if vtype is None:  # a metric without points yet
        return None
    return _decode(vtype, math.nan if value is None else value, text, where)


def decode_into(
    row: Any, seqs: list[int], steps: list[int] | None, values: list[Any], times: list[float]
) -> None:
    """Append the points of one chunk row to the parallel lists."""
    count = int(row.count)
    first = int(row.first_seq)
    seqs.extend(range(first, first + count))
    if steps is not None:
        steps.extend(_unpack("q", row.steps) if row.steps is not None else [0] * count)
    times.extend(_unpack("d", row.times))
    numbers = _unpack("d", row.vals)
    if row.vtypes is None:
        values.extend(numbers)
        return
    vtypes = _unpack("b", row.vtypes)
    where = f"chunk at seq {first}"
    texts = _chunk_texts(row.texts, count, where)
    values.extend(_decode(t, n, s, where) for t, n, s in zip(vtypes, numbers, texts, strict=True))


def _chunk_texts(raw: str | None, count: int, where: str) -> list[Any]:
    if raw is None:
        return [None] * count
    try:
        texts = orjson.loads(raw)
        if isinstance(texts, list) and len(texts) == count:
            return texts
        error = f"expected a list of {count} texts"
    except orjson.JSONDecodeError as exc:
        error = str(exc)
    return [_Unreadable(raw, error)] * count


class _Unreadable:
    """The texts of a chunk that cannot be read: every text value in it is undecodable."""

    __slots__ = ("error", "raw")

    def __init__(self, raw: str, error: str) -> None:
        self.raw = raw
        self.error = error


def _decode(vtype: int | None, number: float, text: Any, where: str = "") -> Any:
    try:
        if type(text) is _Unreadable:
            if vtype in _NUMERIC or vtype == VTYPE_NAN:
                text = None  # numbers do not need the texts
            else:
                return undecodable(text.raw, text.error, where)
        if vtype == VTYPE_FLOAT:
            return number
        if vtype == VTYPE_INT:
            return int(text) if text is not None else int(number)
        if vtype == VTYPE_BOOL:
            return bool(number)
        if vtype == VTYPE_NAN:
            return math.nan
        if vtype == VTYPE_STR and type(text) is str:
            return text
        if vtype == VTYPE_JSON and text is not None:
            return orjson.loads(text)
        error = f"unknown value type {vtype!r}" if vtype not in _KNOWN else "no text"
    except (ValueError, OverflowError, TypeError) as exc:
        error = str(exc)
    return undecodable(text if text is not None else number, error, where)


def undecodable(raw: Any, error: str, where: str = "") -> dict[str, Any]:
    """The marker of a stored value that cannot be decoded (and a warning in the log)."""
    _log.warning("a stored metric value cannot be decoded (%s%s): %.200r", error,
                 f", {where}" if where else "", raw)  # fmt: skip
    return {UNDECODABLE: raw, "error": error}
