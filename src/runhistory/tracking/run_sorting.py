"""Listings of runs in MLflow's ``order_by`` order, paged by keyset.

A :class:`SortedRunQuery` names experiments and sort terms; the store answers each run with
its sort key (:func:`key_layout` says what the key holds), and the next page continues strictly
after the key of the last run shown, never at an offset. The order is MLflow's: each term sorts
runs that have the value first (for a metric: numbers, then NaN, then runs without it, in both
directions), then the run's start time, newest first (unless a term sorts by it), then the run
id, ascending.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runhistory.tracking.run_matching import RunFilter

ATTRIBUTE = "attribute"
METRIC = "metric"
PARAM = "param"
TAG = "tag"
KINDS = (ATTRIBUTE, METRIC, PARAM, TAG)
# The run attributes MLflow sorts by, and whether their values are numbers (epoch millis).
SORT_ATTRIBUTES = {
    "start_time": True, "end_time": True, "run_id": False, "run_name": False,
    "status": False, "user_id": False, "artifact_uri": False, "lifecycle_stage": False,
}  # fmt: skip
START_TIME = "start_time"


@dataclass(frozen=True)
class SortTerm:
    """One term of the order: ``kind`` is ``attribute``, ``metric`` (its latest value),
    ``param`` or ``tag``; ``key`` the attribute's or value's name."""

    kind: str
    key: str
    descending: bool = False

    @property
    def numeric(self) -> bool:
        """Whether the term sorts numbers (metrics, times), not texts."""
        return self.kind == METRIC or (
            self.kind == ATTRIBUTE and SORT_ATTRIBUTES.get(self.key, False)
        )


@dataclass(frozen=True)
class SortedRunQuery:
    """Runs of ``experiment_ids`` in the order of ``terms``, at most ``limit`` of them,
    starting strictly after the run whose sort key is ``after`` (from the start without),
    that pass every one of ``filters`` (see :mod:`runhistory.tracking.run_matching`)."""

    experiment_ids: tuple[str, ...]
    terms: tuple[SortTerm, ...]
    limit: int
    after: tuple[Any, ...] | None = None
    filters: tuple[RunFilter, ...] = ()


def key_layout(terms: tuple[SortTerm, ...]) -> tuple[type, ...]:
    """The types of the parts of a sort key of ``terms``: per term a rank (``int``: 0 for a
    value, 1 for NaN, 2 for none) and a value (``float`` or ``str``), then, unless a term sorts
    by start time, the start time (``float``), and the run id (``str``)."""
    layout: list[type] = []
    for term in terms:
        layout += [int, float if term.numeric else str]
    if not any(t.kind == ATTRIBUTE and t.key == START_TIME for t in terms):
        layout.append(float)
    layout.append(str)
    return tuple(layout)


__all__ = [
    "ATTRIBUTE",
    "KINDS",
    "METRIC",
    "PARAM",
    "SORT_ATTRIBUTES",
    "TAG",
    "SortTerm",
    "SortedRunQuery",
    "key_layout",
]
