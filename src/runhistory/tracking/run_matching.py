"""Filters an MLflow-ordered run listing applies in the store (see
:class:`~runhistory.tracking.run_sorting.SortedRunQuery`).

A :class:`RunFilter` compares the value MLflow shows for a run, as MLflow's search grammar
does (``runhistory.mlflow_api.search``):

* ``metric``: the latest value of a scalar metric, with ``= != < <= > >=`` and a finite
  number; NaN matches only ``!=``, a run without the metric (or with a text value) never;
* ``param`` and ``tag`` (the tags MLflow shows: the run name, parent and user among them):
  ``= != LIKE ILIKE IS NULL IS NOT NULL`` and a text; a tag without a value is ``""``;
* ``attribute``: ``run_id``, ``run_name``, ``status``, ``user_id``, ``artifact_uri`` and
  ``lifecycle_stage`` with ``= != LIKE ILIKE IN NOT IN``; ``start_time`` and ``end_time``
  (epoch milliseconds, rounded as MLflow's messages show them) with the number comparisons.

``LIKE`` patterns take ``%`` (any text) and ``_`` (one character) and no escape character,
and compare case by case; ``ILIKE`` ignores case as Python's ``re.IGNORECASE`` does. A store
applies each filter exactly, but for an ``ILIKE`` that is not :func:`exact` (its pattern has
a letter that matches letters beyond ASCII: any non-ASCII one, and ``i``, ``k``, ``s``): such
a filter may let more runs through, and its caller checks them again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from runhistory.tracking.run_sorting import ATTRIBUTE, METRIC, PARAM, TAG

NUMBER_OPS = frozenset(("=", "!=", "<", "<=", ">", ">="))
TEXT_OPS = frozenset(("=", "!=", "LIKE", "ILIKE", "IS NULL", "IS NOT NULL"))
LIST_OPS = frozenset(("IN", "NOT IN"))
ATTRIBUTE_OPS = frozenset(("=", "!=", "LIKE", "ILIKE")) | LIST_OPS
TEXT_ATTRIBUTES = frozenset(
    ("run_id", "run_name", "status", "user_id", "artifact_uri", "lifecycle_stage")
)
TIME_ATTRIBUTES = frozenset(("start_time", "end_time"))
# Beyond this a number of milliseconds is no longer an exact double with halves.
_LARGEST_TIME = 2.0**51
# Letters Python's case-insensitive matching pairs with letters outside ASCII (dotless i,
# long s, the Kelvin sign, dotted capital I).
WIDE_LETTERS = frozenset("iksIKS")


@dataclass(frozen=True)
class RunFilter:
    """One comparison: ``kind`` is ``attribute``, ``metric``, ``param`` or ``tag``; ``key``
    the attribute's or value's name; ``op`` a comparator; ``value`` a number, a text, a tuple
    of texts (``IN``) or ``None`` (``IS NULL``)."""

    kind: str
    key: str
    op: str
    value: Any = None


def applicable(found: RunFilter) -> bool:
    """Whether a store can apply ``found`` (else its caller filters the runs itself)."""
    kind, key, op, value = found.kind, found.key, found.op, found.value
    if kind == METRIC:
        return op in NUMBER_OPS and _finite(value, float("inf"))
    if kind in (PARAM, TAG):
        if op in ("IS NULL", "IS NOT NULL"):
            return value is None
        return op in TEXT_OPS and isinstance(value, str)
    if kind != ATTRIBUTE:
        return False
    if key in TIME_ATTRIBUTES:
        return op in NUMBER_OPS and _finite(value, _LARGEST_TIME)
    if key not in TEXT_ATTRIBUTES or op not in ATTRIBUTE_OPS:
        return False
    if op in LIST_OPS:
        return isinstance(value, tuple) and all(isinstance(v, str) for v in value)
    return isinstance(value, str)


def exact(found: RunFilter) -> bool:
    """Whether a store's answer to ``found`` is exact (see the module's text)."""
    if found.op != "ILIKE":
        return True
    return all(c.isascii() and c not in WIDE_LETTERS for c in str(found.value))


def _finite(value: Any, largest: float) -> bool:
    return (
        isinstance(value, float) and not isinstance(value, bool) and math.isfinite(value)
        and abs(value) < largest
    )  # fmt: skip


__all__ = ["RunFilter", "applicable", "exact"]
