"""Metric values: how they are encoded for storage and collated into ``get_metrics`` shapes.

The collation reproduces the original SDK's return shapes, quirks included, because scripts
depend on them: one value comes back bare, several as a list; a one-element ``log_list``
comes back as that element; rows and tables come back as ``{column: value}`` for one row and
``{column: [values]}`` for several.
"""

from __future__ import annotations

import math
from typing import Any

import orjson

from runhistory.errors import InvalidMetricError
from runhistory.tracking.entities import (
    KIND_IMAGE,
    KIND_LIST,
    KIND_ROW,
    KIND_SCALAR,
    KIND_TABLE,
    STRUCTURED_KINDS,
    UNDECODABLE,
    VTYPE_BOOL,
    VTYPE_FLOAT,
    VTYPE_NAN,
    VTYPE_STR,
    MetricColumns,
)
from runhistory.tracking.markers import FLOAT_MARKER, decode_document, escape_key
from runhistory.tracking.validation import (
    MAX_STRING_VALUE,
    TEXT_RULE,
    encode_int,
    has_nul_escape,
    text_problem,
)

__all__ = ["MAX_STRING_VALUE", "UNDECODABLE", "collate", "encode_document", "encode_value"]
Encoded = tuple[int, float | None, str | None]
# The kinds whose every value is a JSON document (stored as its text).
DOCUMENT_KINDS = frozenset((KIND_ROW, KIND_TABLE, KIND_IMAGE, *STRUCTURED_KINDS))


def encode_value(name: str, value: Any) -> Encoded:
    """Encode one scalar metric value as ``(vtype, number, text)``.

    Numbers, strings and bools are accepted; numpy scalars are stored as numbers.
    Raises:
        InvalidMetricError: for lists (use ``log_list``), dicts (use ``log_row``/``log_table``)
            and every other type.
    """
    kind = type(value)
    if kind is float:
        return (VTYPE_NAN, None, None) if value != value else (VTYPE_FLOAT, value, None)
    if kind is int:
        return encode_int(name, value)
    if kind is bool:
        return VTYPE_BOOL, 1.0 if value else 0.0, None
    if kind is str:
        return _encode_string(name, value)
    return _encode_other(name, value)


def _encode_string(name: str, value: str) -> Encoded:
    if len(value) > MAX_STRING_VALUE:
        raise InvalidMetricError(
            f"metric {name!r}: string value of {len(value)} characters is longer than the "
            f"limit of {MAX_STRING_VALUE}; upload long text as a file with upload_file()"
        )
    problem = text_problem(value)
    if problem is not None:
        raise InvalidMetricError(
            f"metric {name!r}: the value {value!r:.120} {problem}; {TEXT_RULE}", metric=name
        )
    return VTYPE_STR, None, value


def _encode_other(name: str, value: Any) -> Encoded:
    if isinstance(value, bool):
        return VTYPE_BOOL, 1.0 if value else 0.0, None
    if isinstance(value, int):
        return encode_int(name, int(value))
    if isinstance(value, float):
        return encode_value(name, float(value))
    if isinstance(value, str):
        return _encode_string(name, str(value))
    item = _numpy_scalar(value)
    if item is not None:
        return encode_value(name, item)
    if isinstance(value, (list, tuple)) or _is_array(value):
        raise InvalidMetricError(
            f"metric {name!r}: log() takes a single number, string or bool; "
            f"to log a list of values use log_list({name!r}, values)"
        )
    if isinstance(value, dict):
        raise InvalidMetricError(
            f"metric {name!r}: log() takes a single number, string or bool; "
            f"to log a dict use log_row({name!r}, **values) or log_table()"
        )
    raise InvalidMetricError(
        f"metric {name!r}: values must be numbers, strings or bools, "
        f"got {type(value).__name__}: {value!r:.80}"
    )


def _numpy_scalar(value: Any) -> Any:
    module = type(value).__module__
    if module == "numpy" and getattr(value, "ndim", 1) == 0 and hasattr(value, "item"):
        return value.item()
    return None


def _is_array(value: Any) -> bool:
    return type(value).__module__ == "numpy" and hasattr(value, "ndim")


def encode_document(document: Any, name: str = "") -> str:
    """Serialise a JSON document (row, table, structured kind): NaN/inf become ``$float``
    markers and keys that look like markers are escaped (:mod:`runhistory.tracking.markers`).

    Raises:
        InvalidMetricError: the document holds what JSON cannot (a lone surrogate, an object)
            or a NUL character (the text rule).
    """
    where = f"metric {name!r}: " if name else ""
    try:
        text = orjson.dumps(_json_safe(document), option=orjson.OPT_SERIALIZE_NUMPY).decode()
    except TypeError as exc:
        raise InvalidMetricError(f"{where}value cannot be stored as JSON: {exc}") from None
    if has_nul_escape(text):
        raise InvalidMetricError(f"{where}the value contains a NUL character; {TEXT_RULE}")
    return text


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return {FLOAT_MARKER: repr(value)}
    if isinstance(value, dict):
        return {escape_key(str(k)): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    item = _numpy_scalar(value)
    if item is not None:
        return _json_safe(item)
    if _is_array(value):
        return _json_safe(value.tolist())
    return value


def decode_documents(values: list[Any]) -> list[Any]:
    """Stored documents (as parsed from their JSON text) as the values they were made from;
    a value read back as the :data:`UNDECODABLE` marker stays the marker."""
    return [v if isinstance(v, dict) and UNDECODABLE in v else decode_document(v) for v in values]


def ordered_values(columns: MetricColumns) -> list[Any]:
    """Values in logging order, or by step (stable) when the metric has steps."""
    steps = columns.steps
    if steps is None or steps == sorted(steps):
        return columns.values
    order = sorted(range(len(steps)), key=steps.__getitem__)
    return [columns.values[i] for i in order]


def collate(kind: str, columns: MetricColumns) -> Any:
    """Turn the stored points of one metric into what ``get_metrics()`` returns for it."""
    if kind in (KIND_SCALAR, KIND_LIST, KIND_IMAGE) or kind in STRUCTURED_KINDS:
        values = ordered_values(columns)
        if kind == KIND_IMAGE or kind in STRUCTURED_KINDS:
            values = decode_documents(values)
        return values[0] if len(values) == 1 else values
    if kind in (KIND_ROW, KIND_TABLE):
        return _collate_rows(columns.values, kind)
    raise InvalidMetricError(f"unknown metric kind {kind!r}")


def _collate_rows(documents: list[Any], kind: str) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for stored in documents:
        if not _readable_row(stored, kind):  # a marker, or a document of another shape
            rows.append({UNDECODABLE: stored})
            continue
        document = decode_document(stored)  # after the check: a user's key may be the marker's
        rows.extend(_table_rows(document) if kind == KIND_TABLE else [document])
    columns: list[str] = []
    for row in rows:
        columns.extend(c for c in row if c not in columns)
    if len(rows) == 1:
        return {c: rows[0].get(c) for c in columns}
    return {c: [row.get(c) for row in rows] for c in columns}


def _readable_row(document: Any, kind: str) -> bool:
    if not isinstance(document, dict) or UNDECODABLE in document:
        return False
    return kind != KIND_TABLE or all(isinstance(v, list) for v in document.values())


def _table_rows(table: dict[str, list[Any]]) -> list[dict[str, Any]]:
    length = max((len(v) for v in table.values()), default=0)
    return [{c: (v[i] if i < len(v) else None) for c, v in table.items()} for i in range(length)]


def check_table(name: str, value: Any) -> dict[str, list[Any]]:
    """Validate a ``log_table`` value: a dict of column name to a list, all of equal length."""
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            raise InvalidMetricError(f"table {name!r}: not valid JSON ({exc})") from None
    if not isinstance(value, dict) or not value:
        raise InvalidMetricError(
            f"table {name!r}: a table is a non-empty dict of column name to list of values"
        )
    lengths = {}
    for column, values in value.items():
        if _is_array(values):
            values = values.tolist()
        if not isinstance(values, (list, tuple)):
            raise InvalidMetricError(
                f"table {name!r}: column {column!r} must be a list, got {type(values).__name__}"
            )
        lengths[str(column)] = len(values)
    if len(set(lengths.values())) > 1:
        raise InvalidMetricError(f"table {name!r}: columns differ in length: {lengths}")
    return {str(c): list(v.tolist() if _is_array(v) else v) for c, v in value.items()}


def check_row(name: str, row: dict[str, Any]) -> dict[str, Any]:
    """Validate a ``log_row`` call: at least one column, each a scalar value."""
    if not row:
        raise InvalidMetricError(f"row {name!r}: log_row needs at least one column=value")
    checked: dict[str, Any] = {}
    for column, value in row.items():
        item = _numpy_scalar(value)
        value = item if item is not None else value
        if not isinstance(value, (int, float, str, bool)) and value is not None:
            raise InvalidMetricError(
                f"row {name!r}: column {column!r} must be a number, string or bool, "
                f"got {type(value).__name__}"
            )
        checked[column] = value
    return checked
