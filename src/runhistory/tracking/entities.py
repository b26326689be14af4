"""Plain, frozen records that travel between the store, the service and the SDK.

Rows of the SQL store never leave it: the store turns them into these records. Times are
seconds since the epoch (UTC) as floats; ``None`` means "not yet".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from runhistory.tracking.records import UNDECODABLE as UNDECODABLE
from runhistory.tracking.records import ExperimentInfo as ExperimentInfo
from runhistory.tracking.records import RunCondition as RunCondition
from runhistory.tracking.records import RunCursor as RunCursor
from runhistory.tracking.records import RunInfo as RunInfo
from runhistory.tracking.records import RunOrder as RunOrder
from runhistory.tracking.records import RunQuery as RunQuery

# How a single metric value is encoded in the narrow points table.
VTYPE_FLOAT = 0
VTYPE_INT = 1
VTYPE_BOOL = 2
VTYPE_STR = 3
VTYPE_NAN = 4  # stored with value NULL: SQLite turns NaN into NULL, so NaN gets its own code
VTYPE_JSON = 5  # a document (row, table, structured kind, image reference) in ``text``


# Metric kinds: how the values of one metric name are collated on read.
KIND_SCALAR = "scalar"  # run.log: one value per call
KIND_LIST = "list"  # run.log_list: each element a point
KIND_ROW = "row"  # run.log_row: each call one row document {col: value}
KIND_TABLE = "table"  # run.log_table: each call one document {col: [values]}
KIND_IMAGE = "image"  # run.log_image: each call a reference document
KIND_ACCURACY_TABLE = "accuracy_table"
KIND_CONFUSION_MATRIX = "confusion_matrix"
KIND_PREDICTIONS = "predictions"
KIND_RESIDUALS = "residuals"

STRUCTURED_KINDS = (KIND_ACCURACY_TABLE, KIND_CONFUSION_MATRIX, KIND_PREDICTIONS, KIND_RESIDUALS)
ALL_KINDS = (KIND_SCALAR, KIND_LIST, KIND_ROW, KIND_TABLE, KIND_IMAGE, *STRUCTURED_KINDS)


@dataclass(frozen=True)
class MetricPoint:
    """One stored value of a metric: ``value`` already decoded to its Python type."""

    seq: int
    step: int | None
    value: Any
    time: float


PointColumns = tuple[
    Sequence[int | None],
    Sequence[int],
    Sequence[float | None],
    Sequence[str | None],
    Sequence[float],
]


@dataclass(frozen=True)
class MetricWrite:
    """Points of one metric of one run, sent to the store in one batch.

    ``points`` are ``(step, vtype, number, text, time)`` tuples: ``number`` holds numeric
    values (``None`` for NaN and non-numbers), ``text`` holds strings and JSON documents.
    """

    name: str
    kind: str
    points: list[tuple[int | None, int, float | None, str | None, float]]
    description: str = ""

    def columns(self) -> PointColumns:
        """The points transposed: ``(steps, vtypes, numbers, texts, times)`` (computed once)."""
        cached: PointColumns | None = self.__dict__.get("_columns")
        if cached is None:
            cached = tuple(zip(*self.points, strict=True)) if self.points else ((),) * 5  # type: ignore[assignment]
            object.__setattr__(self, "_columns", cached)
        return cached  # type: ignore[return-value]

    @classmethod
    def from_columns(
        cls, name: str, kind: str, columns: PointColumns, description: str = ""
    ) -> MetricWrite:
        """Build a write from already transposed columns (the writer thread's fast path).

        Its fields are set directly: a frozen dataclass's ``__init__`` sets each through
        ``object.__setattr__`` (2 µs a write, against 0.5, for three writes of a short run).
        """
        write = object.__new__(cls)
        write.__dict__.update(name=name, kind=kind, points=_PointRows(columns),
                              description=description, _columns=columns)  # fmt: skip
        return write


class _PointRows(Sequence[tuple[int | None, int, float | None, str | None, float]]):
    """Point tuples made on demand from columns (most writes are never read point by point)."""

    def __init__(self, columns: PointColumns) -> None:
        self._columns = columns

    def __len__(self) -> int:
        return len(self._columns[1])

    def __getitem__(self, index: Any) -> Any:
        steps, vtypes, numbers, texts, times = self._columns
        if isinstance(index, slice):
            return list(zip(steps[index], vtypes[index], numbers[index], texts[index],
                            times[index], strict=True))  # fmt: skip
        return steps[index], vtypes[index], numbers[index], texts[index], times[index]

    def __iter__(self) -> Any:
        return zip(*self._columns, strict=True)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    def __repr__(self) -> str:
        return f"<{len(self)} points>"


@dataclass(frozen=True)
class MetricInfo:
    """What the store knows of a metric without its points."""

    run_id: str
    name: str
    kind: str
    description: str
    count: int
    has_step: bool | None  # None until the first point arrives
    last_value: Any = None
    last_step: int | None = None
    updated_time: float | None = None


@dataclass(frozen=True)
class FileInfo:
    """One file stored for a run."""

    run_id: str
    name: str
    size: int
    sha256: str
    created_time: float


@dataclass(frozen=True)
class ModelInfo:
    """One registered version of a model."""

    name: str
    version: int
    created_time: float
    run_id: str | None = None
    experiment_name: str | None = None
    description: str | None = None
    framework: str | None = None
    framework_version: str | None = None
    tags: dict[str, str | None] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    updated_time: float | None = None
    stage: str | None = None
    source: str | None = None

    @property
    def model_id(self) -> str:
        """The ``name:version`` identity the original SDK uses."""
        return f"{self.name}:{self.version}"


@dataclass(frozen=True)
class RegisteredModelInfo:
    """A registered model as a whole: its own description and tags, and its aliases."""

    name: str
    created_time: float
    updated_time: float
    description: str | None = None
    tags: dict[str, str | None] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class EnvironmentVersion:
    """One registered version of a named environment (its ``.runconfig`` definition)."""

    name: str
    version: int
    created_time: float
    definition: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ComputeTargetInfo:
    """A named compute target of the workspace: its kind (``local``, ``ray``) and settings."""

    name: str
    kind: str
    created_time: float
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunGroup:
    """Runs that share a property or tag value (``value`` None: runs without it), how many,
    and the mean of a metric's last values over them (None: no numeric value)."""

    value: str | None
    runs: int
    mean: float | None = None


@dataclass(frozen=True)
class SavedView:
    """A named view of an experiment's runs table: ``state`` is the studio's URL query
    (filter, sort, columns …)."""

    experiment_id: str
    name: str
    state: str
    created_time: float
    updated_time: float


@dataclass(frozen=True)
class KeyCount:
    """A tag or property key, or a metric name, and how many runs have it."""

    key: str
    runs: int


@dataclass(frozen=True)
class ExperimentSummary:
    """What the runs of an experiment hold: their number, and the distinct tag and property
    keys and metric names with how many runs have each (sorted by key)."""

    experiment_id: str
    runs: int
    tags: list[KeyCount]
    properties: list[KeyCount]
    metrics: list[KeyCount]


@dataclass(frozen=True)
class MetricInfoPage:
    """One page of a run's metrics by name; ``next_page_token`` is ``None`` on the last page."""

    items: list[MetricInfo]
    next_page_token: str | None


@dataclass(frozen=True)
class ModelsPage:
    """One page of a model listing; ``next_page_token`` is ``None`` on the last page."""

    items: list[ModelInfo]
    next_page_token: str | None


@dataclass(frozen=True)
class ExperimentsPage:
    """One page of an experiment listing; ``next_page_token`` is ``None`` on the last page."""

    items: list[ExperimentInfo]
    next_page_token: str | None


@dataclass(frozen=True)
class RunsPage:
    """One page of a run listing; ``next_page_token`` is ``None`` on the last page."""

    items: list[RunInfo]
    next_page_token: str | None


@dataclass(frozen=True)
class MetricColumns:
    """Every point of one metric as parallel lists, in logging order (fast for big metrics).

    ``steps`` is ``None`` when the metric was logged without steps.
    """

    seqs: list[int]
    steps: list[int] | None
    values: list[Any]
    times: list[float]

    def __len__(self) -> int:
        return len(self.seqs)


SeriesX = Literal["step", "time"]
"""What a chart series' points are placed and bucketed by."""


@dataclass(frozen=True)
class MetricSeries:
    """A metric prepared for a chart: at most ``max_points`` (x, y) pairs.

    ``x`` is the step (or the sequence number when the metric has no steps), or the logging
    time (seconds since the epoch) for a series asked by time. When
    ``downsampled`` is true every bucket contributes its minimum and its maximum, in x order,
    so spikes survive. Non-numeric values are left out.
    """

    run_id: str
    name: str
    kind: str
    count: int
    downsampled: bool
    x: list[Any]
    y: list[float]


# ---- changes written behind: the SDK queues these and the writer stores them in batches ----
# Plain (not frozen) slotted records: one run makes several of them, and a frozen dataclass
# takes four times as long to build (measured: 5 µs against 1.2 µs for RunCreate).
@dataclass(slots=True)
class RunCreate:
    """A run to create, described in full by the process that starts it.

    The SDK builds it (the id is made on the client, like the original SDK's run ids) and
    queues it; the writer thread stores it with the changes that follow in one transaction.
    ``number`` is given by the store.
    """

    run_id: str
    experiment_id: str
    status: str
    created_time: float
    parent_run_id: str | None = None
    display_name: str | None = None
    description: str | None = None
    run_type: str = "experimentrun"
    target: str = "local"
    submitted_by: str | None = None
    start_time: float | None = None
    end_time: float | None = None
    error: dict[str, Any] | None = None
    run_definition: dict[str, Any] | None = None
    tags: dict[str, str | None] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class TagChange:
    """Tags set (a value may be ``None``) and then keys removed, on one run."""

    run_id: str
    set: dict[str, str | None] = field(default_factory=dict)
    remove: tuple[str, ...] = ()


@dataclass(slots=True)
class PropertyChange:
    """Properties added to one run (add-only: a key keeps its first value)."""

    run_id: str
    properties: dict[str, str]


@dataclass(slots=True)
class StatusChange:
    """A run moved to ``status`` at ``time`` (epoch seconds), with an optional error."""

    run_id: str
    status: str
    time: float
    error: dict[str, Any] | None = None


@dataclass(slots=True)
class StatusWrite:
    """A status change as the store applies it: only when the current status is ``expected``.

    ``fields`` are further run fields (``start_time`` is kept when the run has one already).
    """

    run_id: str
    expected: tuple[str, ...]
    status: str
    fields: dict[str, Any]


@dataclass(slots=True)
class RunUpdate:
    """Run fields overwritten: ``display_name``, ``description``, ``run_definition``,
    ``target``, ``heartbeat_time``, ``snapshot_id`` (see ``UPDATABLE_FIELDS``)."""

    run_id: str
    fields: dict[str, Any]


UPDATABLE_FIELDS = frozenset(
    ("display_name", "description", "run_definition", "target", "heartbeat_time", "snapshot_id")
)


@dataclass
class RunChanges:
    """Changes of several runs stored in one transaction.

    They take effect in this order: creations, field updates, tag changes, properties, metric
    points, status changes — the order in which one process makes them, so a batch read back
    equals the same calls made one by one.

    ``checked`` says that the creations, tag and property changes were checked by the rules of
    :mod:`runhistory.tracking.validation` where they were made, in this process (the SDK's
    write queue): the service does not check them again. Batches from elsewhere (a server's
    clients) never have it.
    """

    creates: list[RunCreate] = field(default_factory=list)
    tags: list[TagChange] = field(default_factory=list)
    properties: list[PropertyChange] = field(default_factory=list)
    metrics: dict[str, list[MetricWrite]] = field(default_factory=dict)
    statuses: list[StatusChange] = field(default_factory=list)
    updates: list[RunUpdate] = field(default_factory=list)
    checked: bool = False

    def run_ids(self) -> list[str]:
        """Every run the batch changes, in the order they first appear (creations first)."""
        ids = [c.run_id for c in self.creates]
        ids += [c.run_id for c in self.updates]
        ids += [c.run_id for c in self.tags]
        ids += [c.run_id for c in self.properties]
        ids += self.metrics
        ids += [c.run_id for c in self.statuses]
        return list(dict.fromkeys(ids))


@dataclass
class WriteBatch:
    """What the store writes in one transaction, after the service's rules: every run and
    metric write goes through one of these (a single call is a batch of one).

    ``batch_ids`` names the metric points of a run (``{run id: batch id}``): a batch id
    already stored makes the store skip that run's points (the write was a retry).
    ``claim`` (``(run id, batch id)``) names the whole batch: when that batch id is stored
    already the batch is skipped as a whole (a retried request), else it is recorded with
    the batch; the run must exist once the batch is applied (one it creates will do).
    ``claims`` names the batches of a group stored together (see
    :meth:`~runhistory.tracking.changes.ChangeRules.write_changes_together`): each is
    recorded with the group, and one stored before refuses the group as a whole
    (``ConflictError``: the caller stores its batches one by one).
    """

    creates: Sequence[RunCreate] = ()
    updates: Sequence[RunUpdate] = ()
    tags: Sequence[TagChange] = ()
    properties: Sequence[PropertyChange] = ()
    metrics: dict[str, Sequence[MetricWrite]] = field(default_factory=dict)
    batch_ids: dict[str, str] = field(default_factory=dict)
    statuses: Sequence[StatusWrite] = ()
    claim: tuple[str, str] | None = None
    claims: Sequence[tuple[str, str]] = ()


@dataclass
class WriteOutcome:
    """What a committed :class:`WriteBatch` left out: refused changes, the runs whose
    metric batch id was stored before (their points were not stored again), and whether the
    whole batch was a replay of one stored before (its ``claim`` was found: nothing stored)."""

    refusals: list[Refusal] = field(default_factory=list)
    repeated: set[str] = field(default_factory=set)
    replayed: bool = False


@dataclass(frozen=True)
class Refusal:
    """A change the store left out of an otherwise committed batch, with why.

    ``what`` is ``"property"`` (``key`` already holds ``current``, not ``wanted``) or
    ``"status"`` (the run is ``current`` and cannot become ``wanted``).
    """

    what: str
    run_id: str
    current: str | None
    wanted: str | None
    key: str | None = None
