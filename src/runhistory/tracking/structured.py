"""Validation of the structured metric documents (accuracy table, confusion matrix, ...).

``log_accuracy_table``, ``log_confusion_matrix``, ``log_predictions`` and ``log_residuals`` store
a JSON document ``{"schema_type": kind, "schema_version": version, "data": {...}}``.
:func:`validate_document` checks a document against the rules of its kind and returns it in
normal form; every broken rule raises :class:`~runhistory.errors.InvalidMetricError` with a
message that names the kind, the rule and where it broke (class, threshold, row, index).
"""

from __future__ import annotations

import json
import math
import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from runhistory.errors import InvalidMetricError

__all__ = ["DATA_KEYS", "SCHEMA_VERSIONS", "validate_document"]

SCHEMA_VERSIONS: dict[str, str] = {
    "accuracy_table": "1.0.1",
    "confusion_matrix": "1.0.0",
    "predictions": "1.0.0",
    "residuals": "1.0.0",
}

# Keys of ``data`` per kind, in the order the normal form lists them.
DATA_KEYS: dict[str, tuple[str, ...]] = {
    "accuracy_table": (
        "class_labels",
        "probability_tables",
        "percentile_tables",
        "probability_thresholds",
        "percentile_thresholds",
    ),
    "confusion_matrix": ("class_labels", "matrix"),
    "predictions": ("bin_averages", "bin_errors", "bin_counts", "bin_edges"),
    "residuals": ("bin_edges", "bin_counts"),
}

_HEADER_KEYS = ("schema_type", "schema_version", "data")
# Every version of schema 1 the original SDK's documentation and samples use: "1.0.0",
# "1.0.1", and "v1" (its documented examples of log_predictions and log_confusion_matrix).
_ACCEPTED_VERSION = re.compile(r"^v?1(\.\d+){0,2}$")
_CONFUSION_VALUES = ("TP", "FP", "TN", "FN")
Number = int | float


def validate_document(kind: str, value: Mapping[str, Any] | str) -> dict[str, Any]:
    """Check a structured metric document and return it in normal form.

    Args:
        kind: ``"accuracy_table"``, ``"confusion_matrix"``, ``"predictions"`` or ``"residuals"``.
        value: the document as a dict or as a JSON string. ``schema_type`` and
            ``schema_version`` may be left out; when given, the type must match ``kind`` and
            the version be one of schema 1 (``"1.0.0"``, ``"1.0.1"``, ``"v1"``, …).

    Returns:
        A new dict ``{"schema_type": kind, "schema_version": ..., "data": {...}}`` (the version
        given, else :data:`SCHEMA_VERSIONS`'s). In ``data``
        class labels are strings (integer labels are turned into strings), counts of the
        accuracy table are ``int`` and thresholds ``float``; other numbers keep their type.

    Raises:
        InvalidMetricError: the kind is unknown, the JSON is malformed, or a rule is broken;
            the message names the rule and where it broke.

    Example::

        >>> doc = validate_document("residuals", '{"data": {"bin_edges": [0, 1, 2], '
        ...                         '"bin_counts": [3, 4]}}')
        >>> doc["schema_version"]
        '1.0.0'
    """
    if kind not in SCHEMA_VERSIONS:
        raise InvalidMetricError(
            f"unknown structured metric kind {kind!r}; "
            f"expected one of {', '.join(SCHEMA_VERSIONS)}",
            kind=kind,
        )
    document = _parse(kind, value)
    _check_header(kind, document)
    data = _check_data_keys(kind, document["data"])
    normal = _VALIDATORS[kind](data)
    version = document.get("schema_version", SCHEMA_VERSIONS[kind])
    return {"schema_type": kind, "schema_version": version, "data": normal}


def _error(kind: str, message: str) -> InvalidMetricError:
    return InvalidMetricError(f"{kind}: {message}", kind=kind)


def _parse(kind: str, value: object) -> Mapping[str, Any]:
    if isinstance(value, (str, bytes)):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise _error(kind, f"the value is not valid JSON: {exc}") from None
    if not isinstance(value, Mapping):
        raise _error(
            kind,
            "the document must be a JSON object with schema_type, schema_version and data, "
            f"got {type(value).__name__}",
        )
    return value


def _check_header(kind: str, document: Mapping[str, Any]) -> None:
    for key in document:
        if key not in _HEADER_KEYS:
            raise _error(
                kind,
                f"unexpected key {key!r} in the document; "
                "expected only schema_type, schema_version and data",
            )
    if "schema_type" in document and document["schema_type"] != kind:
        raise _error(
            kind, f"schema_type is {document['schema_type']!r}, expected {kind!r} (or leave it out)"
        )
    version = document.get("schema_version", SCHEMA_VERSIONS[kind])
    if not isinstance(version, str) or not _ACCEPTED_VERSION.match(version):
        raise _error(
            kind,
            f"schema_version is {version!r}; the accepted versions are those of schema 1 "
            f"({SCHEMA_VERSIONS[kind]!r}, 'v1', '1.0', …), or leave it out",
        )
    if "data" not in document:
        raise _error(kind, "the document has no 'data'")


def _check_data_keys(kind: str, data: object) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise _error(kind, f"'data' must be a JSON object, got {type(data).__name__}")
    keys = DATA_KEYS[kind]
    for key in keys:
        if key not in data:
            raise _error(kind, f"data is missing key {key!r} (expected keys: {', '.join(keys)})")
    for key in data:
        if key not in keys:
            raise _error(
                kind, f"data has unexpected key {key!r} (expected keys: {', '.join(keys)})"
            )
    return data


# ---- shared element rules -------------------------------------------------------------------


def _list(kind: str, where: str, value: object) -> Sequence[Any]:
    if not isinstance(value, (list, tuple)):
        raise _error(kind, f"{where} must be a list, got {type(value).__name__}")
    return value


def _number(kind: str, where: str, value: object) -> Number:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _error(kind, f"{where} = {value!r} is not a number")
    number: Number = int(value) if isinstance(value, numbers.Integral) else float(value)
    if not math.isfinite(number):
        raise _error(kind, f"{where} = {number!r} is not finite")
    return number


def _non_negative(kind: str, where: str, value: object) -> Number:
    number = _number(kind, where, value)
    if number < 0:
        raise _error(kind, f"{where} = {number!r} is negative")
    return number


def _numbers(kind: str, key: str, value: object, check: Callable[..., Number]) -> list[Number]:
    items = _list(kind, key, value)
    if not items:
        raise _error(kind, f"{key} is empty")
    return [check(kind, f"{key}[{i}]", item) for i, item in enumerate(items)]


def _increasing(kind: str, key: str, values: list[Number], strict: bool) -> None:
    for i in range(1, len(values)):
        previous, current = values[i - 1], values[i]
        if current < previous or (strict and current == previous):
            rule = "strictly increasing" if strict else "non-decreasing"
            relation = "not greater than" if strict else "less than"
            raise _error(
                kind,
                f"{key}[{i}] = {current!r} is {relation} {key}[{i - 1}] = {previous!r}; "
                f"{key} must be {rule}",
            )


def _labels(kind: str, value: object) -> list[str]:
    items = _list(kind, "class_labels", value)
    if not items:
        raise _error(kind, "class_labels is empty; at least one class is needed")
    labels = []
    for i, label in enumerate(items):
        # Labels are strings in the original schema; integer labels are accepted and converted.
        if isinstance(label, numbers.Integral) and not isinstance(label, bool):
            label = str(label)
        if not isinstance(label, str):
            raise _error(kind, f"class_labels[{i}] = {label!r} is not a string")
        if label in labels:
            raise _error(kind, f"class_labels[{i}] = {label!r} repeats an earlier label")
        labels.append(label)
    return labels


def _class(c: int, labels: list[str]) -> str:
    return f"class {c} ({labels[c]!r})"


# ---- accuracy table -------------------------------------------------------------------------

_TABLES = (
    ("probability_tables", "probability_thresholds"),
    ("percentile_tables", "percentile_thresholds"),
)
_ACC = "accuracy_table"


def _accuracy_table(data: Mapping[str, Any]) -> dict[str, Any]:
    labels = _labels(_ACC, data["class_labels"])
    thresholds = {key: _thresholds(key, data[key]) for _, key in _TABLES}
    tables = {
        name: _table(name, data[name], labels, key, len(thresholds[key])) for name, key in _TABLES
    }
    _check_sums(tables, labels)
    return {"class_labels": labels, **tables, **thresholds}


def _thresholds(key: str, value: object) -> list[float]:
    values = [float(v) for v in _numbers(_ACC, key, value, _number)]
    for i, threshold in enumerate(values):
        if not 0.0 <= threshold <= 1.0:
            raise _error(_ACC, f"{key}[{i}] = {threshold!r} is outside [0, 1]")
    _increasing(_ACC, key, list(values), strict=False)
    return values


def _table(name: str, value: object, labels: list[str], key: str, m: int) -> list[list[list[int]]]:
    classes = _list(_ACC, name, value)
    if len(classes) != len(labels):
        raise _error(
            _ACC,
            f"{name} has {len(classes)} classes, expected C = {len(labels)} "
            "(one per class label); tables have shape [C, M, 4]",
        )
    table = []
    for c, rows in enumerate(classes):
        where = f"{name}, {_class(c, labels)}"
        rows = _list(_ACC, where, rows)
        if len(rows) != m:
            raise _error(
                _ACC,
                f"{where} has {len(rows)} thresholds, expected M = {m} (len({key})); "
                "tables have shape [C, M, 4]",
            )
        table.append([_cell(f"{where}, threshold {t}", row) for t, row in enumerate(rows)])
    return table


def _cell(where: str, value: object) -> list[int]:
    cell = _list(_ACC, where, value)
    if len(cell) != len(_CONFUSION_VALUES):
        raise _error(_ACC, f"{where} has {len(cell)} values, expected 4: TP, FP, TN, FN")
    return [
        _count(f"{where}, {name}", item) for name, item in zip(_CONFUSION_VALUES, cell, strict=True)
    ]


def _count(where: str, value: object) -> int:
    number = _non_negative(_ACC, where, value)
    if isinstance(number, float):
        if not number.is_integer():
            raise _error(_ACC, f"{where} = {number!r} is not an integer count")
        return int(number)
    return number


def _check_sums(tables: dict[str, list[list[list[int]]]], labels: list[str]) -> None:
    # References are the first threshold of the probability table: the class's own first row
    # for TP+FN and TN+FP, class 0's first row for N. Per-class sums are checked before N so
    # that each of the three rules can be the one reported.
    first = tables["probability_tables"]
    n_ref = f"probability_tables, {_class(0, labels)}, threshold 0"
    n = sum(first[0][0])
    for name, table in tables.items():
        for c, rows in enumerate(table):
            ref = first[c][0]
            ref_where = f"probability_tables, {_class(c, labels)}, threshold 0"
            for t, (tp, fp, tn, fn) in enumerate(rows):
                where = f"{name}, {_class(c, labels)}, threshold {t}"
                _same(where, "TP+FN", tp + fn, ref[0] + ref[3], ref_where)
                _same(where, "TN+FP", tn + fp, ref[2] + ref[1], ref_where)
                _same(where, "TP+FP+TN+FN", tp + fp + tn + fn, n, n_ref, expected_name="N")


def _same(
    where: str, rule: str, got: int, expected: int, ref_where: str, expected_name: str = ""
) -> None:
    if got == expected:
        return
    label = f"{expected_name} = {expected}" if expected_name else f"{expected}"
    scope = (
        "the same N at every class and threshold"
        if expected_name
        else "constant across the thresholds of a class"
    )
    raise _error(
        _ACC,
        f"{where}: {rule} = {got}, expected {label} (as at {ref_where}); {rule} must be {scope}",
    )


# ---- confusion matrix -----------------------------------------------------------------------

_CM = "confusion_matrix"


def _confusion_matrix(data: Mapping[str, Any]) -> dict[str, Any]:
    labels = _labels(_CM, data["class_labels"])
    rows = _list(_CM, "matrix", data["matrix"])
    size = len(labels)
    if len(rows) != size:
        raise _error(_CM, f"matrix has {len(rows)} rows, expected {size} (one per class label)")
    matrix = []
    for r, row in enumerate(rows):
        where = f"matrix row {r} ({labels[r]!r})"
        row = _list(_CM, where, row)
        if len(row) != size:
            raise _error(
                _CM,
                f"{where} has {len(row)} columns, expected {size}: the matrix must be square "
                "with one row and one column per class label",
            )
        matrix.append(
            [
                _non_negative(_CM, f"{where}, column {k} ({labels[k]!r})", item)
                for k, item in enumerate(row)
            ]
        )
    return {"class_labels": labels, "matrix": matrix}


# ---- residuals and predictions --------------------------------------------------------------


def _residuals(data: Mapping[str, Any]) -> dict[str, Any]:
    kind = "residuals"
    counts = _numbers(kind, "bin_counts", data["bin_counts"], _non_negative)
    edges = _edges(kind, data["bin_edges"], len(counts), "bin_counts")
    return {"bin_edges": edges, "bin_counts": counts}


def _predictions(data: Mapping[str, Any]) -> dict[str, Any]:
    kind = "predictions"
    averages = _numbers(kind, "bin_averages", data["bin_averages"], _number)
    errors = _numbers(kind, "bin_errors", data["bin_errors"], _non_negative)
    counts = _numbers(kind, "bin_counts", data["bin_counts"], _non_negative)
    for key, values in (("bin_errors", errors), ("bin_counts", counts)):
        if len(values) != len(averages):
            raise _error(
                kind,
                f"{key} has {len(values)} bins but bin_averages has {len(averages)}; "
                "bin_averages, bin_errors and bin_counts must have equal length",
            )
    edges = _edges(kind, data["bin_edges"], len(averages), "bin_averages")
    return {
        "bin_averages": averages,
        "bin_errors": errors,
        "bin_counts": counts,
        "bin_edges": edges,
    }


def _edges(kind: str, value: object, bins: int, bins_key: str) -> list[Number]:
    edges = _numbers(kind, "bin_edges", value, _number)
    if len(edges) != bins + 1:
        raise _error(
            kind,
            f"bin_edges has {len(edges)} edges but {bins_key} has {bins} bins; "
            "there must be one more edge than bins",
        )
    _increasing(kind, "bin_edges", edges, strict=True)
    return edges


_VALIDATORS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "accuracy_table": _accuracy_table,
    "confusion_matrix": _confusion_matrix,
    "predictions": _predictions,
    "residuals": _residuals,
}
