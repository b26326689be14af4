"""The records of run listings: runs, experiments, the filters and positions of a listing.

Part of :mod:`runhistory.tracking.entities` (which re-exports every name), kept apart so that
reading a listing (the command line's lean reader) does not build the other records' classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# A stored value that cannot be decoded is read back as {UNDECODABLE: <what is stored>,
# "error": <why>}: reads never fail on it (and the fault is logged).
UNDECODABLE = "$undecodable"


@dataclass(frozen=True)
class ExperimentInfo:
    """An experiment as stored."""

    experiment_id: str
    name: str
    created_time: float
    archived_time: float | None = None
    tags: dict[str, str | None] = field(default_factory=dict)
    last_activity_time: float | None = None


@dataclass(frozen=True)
class RunInfo:
    """A run as stored (without its metrics and files)."""

    @classmethod
    def of(cls, fields: dict[str, Any]) -> RunInfo:
        """A run from a dict naming every field, without running ``__init__``.

        Listings build thousands of these and every run written behind two: the frozen
        dataclass's ``__init__`` takes 5 µs for these 21 fields, this 0.4 µs.

        Raises:
            ValueError: ``fields`` does not name exactly the fields of a run.
        """
        if fields.keys() != _RUN_FIELDS:
            raise ValueError(f"run fields differ: {sorted(set(fields) ^ _RUN_FIELDS)}")
        info = object.__new__(cls)
        info.__dict__.update(fields)
        return info

    run_id: str
    experiment_id: str
    experiment_name: str
    number: int
    status: str
    created_time: float
    parent_run_id: str | None = None
    root_run_id: str | None = None
    display_name: str | None = None
    description: str | None = None
    run_type: str = "experimentrun"
    target: str = "local"
    submitted_by: str | None = None
    start_time: float | None = None
    end_time: float | None = None
    heartbeat_time: float | None = None
    snapshot_id: str | None = None
    error: dict[str, Any] | None = None
    run_definition: dict[str, Any] | None = None
    tags: dict[str, str | None] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)


_RUN_FIELDS = frozenset(RunInfo.__dataclass_fields__)


@dataclass(frozen=True)
class RunQuery:
    """Filters for listing runs; every field ``None`` means "no filter".

    ``tags`` / ``properties`` map a key to a required value, or to ``None`` for "has the key".
    ``created_after`` / ``created_before`` bound the creation time (epoch seconds) as a
    half-open range: at or after the one, strictly before the other.
    """

    experiment_id: str | None = None
    parent_run_id: str | None = None
    root_run_id: str | None = None
    run_type: str | None = None
    statuses: tuple[str, ...] | None = None
    tags: dict[str, str | None] | None = None
    properties: dict[str, str | None] | None = None
    include_children: bool = True
    created_after: float | None = None  # only runs created at or after this time
    created_before: float | None = None  # only runs created before this time
    limit: int | None = None
    offset: int = 0
    with_definition: bool = True  # False: listings leave ``run_definition`` out (None)
    after: RunCursor | None = None  # keyset paging: only runs listed after this one
    conditions: tuple[RunCondition, ...] = ()  # comparisons on properties, tags, metrics
    text: str | None = None  # words that must all appear in the run (free-text search)
    order: RunOrder | None = None  # None: newest first (created time, number)
    after_key: tuple[Any, ...] | None = None  # keyset paging of an ``order``ed listing


@dataclass(frozen=True)
class RunCondition:
    """A comparison on one value of a run, as the runs table filters.

    ``kind`` is ``property``, ``tag`` or ``metric`` (its last value); ``op`` one of ``<``,
    ``<=``, ``>``, ``>=``, ``=``, ``!=``. Values that read as numbers compare as numbers;
    ``=`` and ``!=`` compare other values as text; a run without the key never matches.
    """

    kind: str
    key: str
    op: str
    value: str


@dataclass(frozen=True)
class RunOrder:
    """The order of a run listing: ``column`` is ``created``, ``number``, ``name``,
    ``status``, ``start``, ``duration``, ``property:<key>``, ``tag:<key>`` or
    ``metric:<name>`` (its last value); ties are broken by run number in the same direction.
    Runs without a value come last in both directions; numbers come before text."""

    column: str
    desc: bool = True


@dataclass(frozen=True)
class RunCursor:
    """A position in a run listing (newest first): the sort key of the last run listed.

    Runs are ordered by ``created_time``, then ``number``, then ``run_id``, all descending;
    a page continues with the runs strictly after this key, so runs created meanwhile (newer,
    hence before it) never shift the pages still to come.
    """

    created_time: float
    number: int
    run_id: str

    @staticmethod
    def of(run: RunInfo) -> RunCursor:
        """The position just after ``run``."""
        return RunCursor(run.created_time, run.number, run.run_id)
