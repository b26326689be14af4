"""The metadata store interface.

A :class:`TrackingStore` persists experiments, runs, tags, properties, metrics, the file index,
models and secrets. It stores and fetches; it does not decide. The rules (which transitions
are legal, that properties are add-only, what a valid metric is) live in
:mod:`runhistory.tracking.service`, which is the only caller.

Every method raises :class:`~runhistory.errors.NotFoundError` for a missing entity and
:class:`~runhistory.errors.StorageError` for a failure of the database itself.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from runhistory.errors import ConflictError, NotFoundError
from runhistory.tracking.entities import (
    ComputeTargetInfo,
    EnvironmentVersion,
    ExperimentInfo,
    ExperimentSummary,
    FileInfo,
    MetricColumns,
    MetricInfo,
    MetricPoint,
    MetricSeries,
    ModelInfo,
    RegisteredModelInfo,
    RunGroup,
    RunInfo,
    RunQuery,
    SavedView,
    SeriesX,
    WriteBatch,
    WriteOutcome,
)

if TYPE_CHECKING:
    from runhistory.tracking.run_sorting import SortedRunQuery

# Sentinel meaning "leave this field as it is" in update calls.
UNCHANGED: Any = object()


class TrackingStore(abc.ABC):
    """Persistence for everything but file contents."""

    @abc.abstractmethod
    def ping(self) -> None:
        """Check that the store answers (readiness); StorageError when it does not."""

    # ---- experiments -------------------------------------------------------------------
    @abc.abstractmethod
    def create_experiment(
        self, name: str, tags: dict[str, str | None] | None = None
    ) -> ExperimentInfo:
        """Create an active experiment; ConflictError if an active one has the name."""

    @abc.abstractmethod
    def get_experiment(self, experiment_id: str) -> ExperimentInfo:
        """Return the experiment with this id."""

    @abc.abstractmethod
    def get_experiment_by_name(self, name: str, archived: bool = False) -> ExperimentInfo:
        """Return the active (or, with ``archived``, the newest archived) experiment named so."""

    @abc.abstractmethod
    def list_experiments(
        self, name: str | None = None, view_type: str = "ActiveOnly"
    ) -> list[ExperimentInfo]:
        """List experiments; ``view_type`` is ActiveOnly, ArchivedOnly or All."""

    @abc.abstractmethod
    def list_experiments_page(
        self,
        name: str | None = None,
        view_type: str = "ActiveOnly",
        after: tuple[float, str, str] | None = None,
        limit: int = 100,
    ) -> list[ExperimentInfo]:
        """At most ``limit`` experiments, oldest first (created time, name, id), after the
        position ``after`` (``(created_time, name, experiment_id)``; keyset paging)."""

    @abc.abstractmethod
    def update_experiment(
        self, experiment_id: str, name: str = UNCHANGED, archived_time: float | None = UNCHANGED
    ) -> ExperimentInfo:
        """Rename and/or archive (a time) or reactivate (``None``) an experiment."""

    @abc.abstractmethod
    def set_experiment_tags(self, experiment_id: str, tags: dict[str, str | None]) -> None:
        """Insert or overwrite experiment tags."""

    @abc.abstractmethod
    def remove_experiment_tags(self, experiment_id: str, keys: Sequence[str]) -> None:
        """Remove experiment tags; missing keys are ignored."""

    @abc.abstractmethod
    def summarize_experiment(self, experiment_id: str) -> ExperimentSummary:
        """The number of runs of an experiment (children included) and the distinct tag and
        property keys and metric names of its runs, each with its number of runs."""

    @abc.abstractmethod
    def list_views(self, experiment_id: str) -> list[SavedView]:
        """The saved views of an experiment's runs table, by name."""

    @abc.abstractmethod
    def save_view(self, experiment_id: str, name: str, state: str) -> SavedView:
        """Create the named view of an experiment, or replace its state."""

    @abc.abstractmethod
    def delete_view(self, experiment_id: str, name: str) -> None:
        """Delete a saved view (NotFoundError when the experiment has none of that name)."""

    @abc.abstractmethod
    def delete_experiment(self, experiment_id: str) -> None:
        """Delete an experiment with all its runs, metrics and file index entries."""

    # ---- runs --------------------------------------------------------------------------
    @abc.abstractmethod
    def get_run(self, run_id: str) -> RunInfo:
        """Return the run with this id."""

    @abc.abstractmethod
    def search_runs(self, query: RunQuery) -> list[RunInfo]:
        """Runs matching ``query``, newest first (by ``created_time``, then ``number``, then
        run id); with ``query.after``, only the runs after that position (keyset paging)."""

    @abc.abstractmethod
    def search_runs_ordered(self, query: RunQuery) -> list[tuple[RunInfo, tuple[Any, ...]]]:
        """Runs matching ``query`` in ``query.order``, each with its sort key; with
        ``query.after_key``, only the runs after the run with that key (keyset paging)."""

    @abc.abstractmethod
    def search_runs_sorted(self, query: SortedRunQuery) -> list[tuple[RunInfo, tuple[Any, ...]]]:
        """Runs of ``query.experiment_ids`` in MLflow's order of ``query.terms``, each with its
        sort key; with ``query.after``, only the runs after the run with that key (keyset
        paging, see :mod:`runhistory.tracking.run_sorting`)."""

    @abc.abstractmethod
    def count_matching_runs(self, query: RunQuery) -> int:
        """Number of runs matching the filters of ``query`` (its paging fields are ignored
        but ``after``)."""

    @abc.abstractmethod
    def group_runs(self, query: RunQuery, by: str, metric: str | None) -> list[RunGroup]:
        """The runs matching ``query`` grouped by ``by`` (``property:<key>``, ``tag:<key>``):
        each value with its number of runs and the mean last value of ``metric``, largest
        groups first (at most 1,000)."""

    @abc.abstractmethod
    def count_children(self, run_ids: Sequence[str]) -> dict[str, int]:
        """The number of direct children of each of ``run_ids`` that has any."""

    @abc.abstractmethod
    def count_runs(self, experiment_id: str) -> int:
        """Number of runs in an experiment, children included."""

    @abc.abstractmethod
    def delete_run(self, run_id: str) -> None:
        """Delete a run and its descendants with their metrics and file index entries."""

    def stored_environments(self, ids: Sequence[str], look: bool = True) -> set[str]:
        """Which of the environment ids (see :mod:`runhistory.tracking.run_environments`) are
        stored (``look=False``: among those known without asking the database). A store that
        keeps no environments apart has none."""
        return set()

    @abc.abstractmethod
    def write_changes(self, batch: WriteBatch) -> WriteOutcome:
        """Store changes of many runs in one transaction: the only way runs and metrics are
        written (a single change is a batch of one).

        In this order: creates runs (numbered per experiment, ``root_run_id`` derived from
        the parent), overwrites run fields, applies tag changes, adds properties, appends
        metric points (creating each metric on first use; sequence numbers continue per
        metric; a run whose ``batch_ids`` entry is stored already gets no points) and applies
        status writes (only from their ``expected`` statuses; a ``start_time`` is kept when
        the run has one).

        A property key that already holds another value, and a status write whose run is not
        in its ``expected`` statuses, are left out and returned as refusals; everything else
        is committed. Any other failure rolls the whole batch back and raises: a missing run
        or experiment (NotFoundError), a run id that exists (ConflictError), a metric of
        another kind (InvalidMetricError), a value the database cannot keep.
        """

    def get_runs(self, run_ids: Sequence[str], with_definition: bool = False) -> list[RunInfo]:
        """The runs of these ids that exist, in the order asked (each once); without their
        definitions unless ``with_definition``."""
        found = []
        for run_id in dict.fromkeys(run_ids):
            try:
                run = self.get_run(run_id)
            except NotFoundError:
                continue
            found.append(run if with_definition else replace(run, run_definition=None))
        return found

    # ---- metrics -----------------------------------------------------------------------
    @abc.abstractmethod
    def get_metric_infos(self, run_id: str) -> list[MetricInfo]:
        """Every metric of a run, without points, ordered by name."""

    def get_metric_infos_of(self, run_ids: Sequence[str]) -> list[MetricInfo]:
        """Every metric of the runs of these ids (in the order asked, then by name); an id of
        no run adds nothing."""
        found: list[MetricInfo] = []
        for run_id in dict.fromkeys(run_ids):
            try:
                found.extend(self.get_metric_infos(run_id))
            except NotFoundError:
                continue
        return found

    @abc.abstractmethod
    def get_metric_infos_page(
        self, run_id: str, limit: int, after: str | None = None, search: str | None = None
    ) -> list[MetricInfo]:
        """At most ``limit`` metrics of a run ordered by name: those after the name ``after``,
        and whose name contains ``search`` (any case) when given."""

    @abc.abstractmethod
    def get_metric_points(
        self,
        run_id: str,
        name: str,
        min_step: int | None = None,
        max_step: int | None = None,
    ) -> list[MetricPoint]:
        """Every point of one metric in logging order (sequence), optionally within a step range."""

    @abc.abstractmethod
    def get_metric_columns(
        self,
        run_id: str,
        name: str,
        min_step: int | None = None,
        max_step: int | None = None,
        times: tuple[float, float] | None = None,
    ) -> MetricColumns:
        """Every point of one metric as parallel lists in logging order (the fast read),
        optionally within a step range and a range of logging times (epoch seconds,
        ``(first, last)``)."""

    @abc.abstractmethod
    def get_metric_series(
        self,
        run_ids: Sequence[str],
        names: Sequence[str],
        max_points: int,
        min_step: int | None = None,
        max_step: int | None = None,
        x: SeriesX = "step",
    ) -> list[MetricSeries]:
        """Chart series of every existing (run, name) pair: at most ``max_points`` numeric
        points each, the minimum and maximum of each bucket when downsampled.

        ``x`` is what the points are placed and bucketed by: ``"step"`` (the step, or the
        sequence number without steps) or ``"time"`` (the logging time, seconds since the
        epoch); ``min_step``/``max_step`` limit the steps either way."""

    @abc.abstractmethod
    def get_last_metric_values(
        self, run_ids: Sequence[str], names: Sequence[str] | None = None, value: str = "last"
    ) -> dict[str, dict[str, Any]]:
        """``{run_id: {name: last value}}`` for scalar and list metrics of many runs; with
        ``value`` ``min`` or ``max``, the smallest or largest numeric value logged instead
        (metrics without a numeric value are left out)."""

    # ---- files -------------------------------------------------------------------------
    @abc.abstractmethod
    def put_file_entry(
        self, run_id: str, name: str, size: int, sha256: str, created_time: float
    ) -> None:
        """Insert or overwrite the index entry of a run file.

        Raises:
            ConflictError: the run has a file that is a folder of ``name`` or lies under it
                (see :meth:`find_file_conflict`).
        """

    @abc.abstractmethod
    def find_file_conflict(self, run_id: str, name: str) -> str | None:
        """A file of the run that ``name`` cannot sit beside: a file named like one of
        ``name``'s folders, or a file under the folder ``name``; ``None`` if there is none."""

    @abc.abstractmethod
    def get_file_entry(self, run_id: str, name: str) -> FileInfo:
        """The index entry of one run file."""

    @abc.abstractmethod
    def list_file_entries(self, run_id: str, prefix: str | None = None) -> list[FileInfo]:
        """Index entries of a run's files, ordered by name, optionally under a prefix."""

    @abc.abstractmethod
    def delete_file_entries(self, run_id: str) -> None:
        """Remove every file index entry of a run."""

    # ---- models ------------------------------------------------------------------------
    @abc.abstractmethod
    def create_model_version(
        self,
        name: str,
        created_time: float,
        run_id: str | None = None,
        experiment_name: str | None = None,
        description: str | None = None,
        framework: str | None = None,
        framework_version: str | None = None,
        tags: dict[str, str | None] | None = None,
        properties: dict[str, str] | None = None,
        files: Sequence[str] = (),
        source: str | None = None,
    ) -> ModelInfo:
        """Register the next version of ``name`` (1, 2, …) atomically (and the registered
        model ``name`` with it, when it is the first)."""

    @abc.abstractmethod
    def get_model(self, name: str, version: int | None = None) -> ModelInfo:
        """A model version; the latest when ``version`` is ``None``."""

    @abc.abstractmethod
    def list_models(
        self, name: str | None = None, run_id: str | None = None, latest: bool = False
    ) -> list[ModelInfo]:
        """Models ordered by name then newest version first; ``latest`` keeps one per name."""

    @abc.abstractmethod
    def list_models_page(
        self,
        name: str | None = None,
        run_id: str | None = None,
        after: tuple[str, int] | None = None,
        limit: int = 100,
    ) -> list[ModelInfo]:
        """At most ``limit`` models in :meth:`list_models`' order (name, then newest version
        first) after the model ``after`` (``(name, version)``; keyset paging)."""

    @abc.abstractmethod
    def update_model(
        self,
        name: str,
        version: int,
        tags: dict[str, str | None] | None = None,
        remove_tags: Sequence[str] = (),
        properties: dict[str, str] | None = None,
        description: str | None = UNCHANGED,
        stage: str | None = UNCHANGED,
        updated_time: float | None = None,
    ) -> ModelInfo:
        """Merge tags, remove tags, add properties and/or set the description and stage."""

    @abc.abstractmethod
    def delete_model(self, name: str, version: int) -> None:
        """Delete one model version (and the aliases naming it)."""

    # ---- registered models (the registry as a whole) ------------------------------------
    @abc.abstractmethod
    def create_registered_model(
        self,
        name: str,
        created_time: float,
        description: str | None = None,
        tags: dict[str, str | None] | None = None,
    ) -> RegisteredModelInfo:
        """A new registered model with no versions; ``ConflictError`` when the name is taken."""

    @abc.abstractmethod
    def get_registered_model(self, name: str) -> RegisteredModelInfo:
        """A registered model with its tags and aliases."""

    @abc.abstractmethod
    def list_registered_models(self) -> list[RegisteredModelInfo]:
        """Every registered model, ordered by name."""

    @abc.abstractmethod
    def update_registered_model(
        self,
        name: str,
        updated_time: float,
        description: str | None = UNCHANGED,
        tags: dict[str, str | None] | None = None,
        remove_tags: Sequence[str] = (),
        aliases: dict[str, int] | None = None,
        remove_aliases: Sequence[str] = (),
    ) -> RegisteredModelInfo:
        """Set the description, merge/remove tags, point/remove aliases."""

    @abc.abstractmethod
    def rename_registered_model(
        self, name: str, new_name: str, updated_time: float
    ) -> RegisteredModelInfo:
        """Move a registered model, its versions, tags and aliases to ``new_name``."""

    @abc.abstractmethod
    def delete_registered_model(self, name: str) -> None:
        """Delete a registered model with all its versions, tags and aliases."""

    # ---- environment registry ----------------------------------------------------------
    @abc.abstractmethod
    def create_environment_version(
        self, name: str, definition: dict[str, Any], created_time: float
    ) -> EnvironmentVersion:
        """Store ``definition`` as the next version (1, 2, …) of environment ``name``."""

    @abc.abstractmethod
    def get_environment_version(self, name: str, version: int | None = None) -> EnvironmentVersion:
        """A registered environment version; the latest when ``version`` is ``None``."""

    @abc.abstractmethod
    def list_environment_versions(
        self, name: str | None = None, latest: bool = False
    ) -> list[EnvironmentVersion]:
        """Registered versions ordered by name then newest first; ``latest``: one per name."""

    # ---- compute targets ---------------------------------------------------------------
    @abc.abstractmethod
    def create_compute_target(self, target: ComputeTargetInfo) -> ComputeTargetInfo:
        """Store a new named target (ConflictError if the name is taken)."""

    @abc.abstractmethod
    def get_compute_target(self, name: str) -> ComputeTargetInfo:
        """A named target (NotFoundError if there is none)."""

    @abc.abstractmethod
    def list_compute_targets(self) -> list[ComputeTargetInfo]:
        """Every named target, by name."""

    @abc.abstractmethod
    def delete_compute_target(self, name: str) -> None:
        """Forget a named target (NotFoundError if there is none)."""

    # ---- secrets -----------------------------------------------------------------------
    @abc.abstractmethod
    def set_secret(self, name: str, ciphertext: bytes, updated_time: float) -> None:
        """Insert or overwrite an encrypted secret."""

    @abc.abstractmethod
    def get_secret(self, name: str) -> bytes:
        """The encrypted value of a secret."""

    @abc.abstractmethod
    def list_secret_names(self) -> list[str]:
        """Names of stored secrets, sorted."""

    @abc.abstractmethod
    def delete_secret(self, name: str) -> None:
        """Delete a secret."""

    # ---- lifecycle ---------------------------------------------------------------------
    @abc.abstractmethod
    def close(self) -> None:
        """Release connections."""


def file_conflict(run_id: str, name: str, other: str) -> ConflictError:
    """The error for storing ``name`` in a run that has the file ``other`` (see
    :meth:`TrackingStore.find_file_conflict`)."""
    if other.startswith(name + "/"):
        why = f"{name!r} is already a folder of the run (it holds {other!r})"
    else:
        why = f"{other!r} is already a file of the run"
    return ConflictError(
        f"cannot store {name!r} in run {run_id!r}: {why}, and a name cannot be both a file "
        "and a folder",
        run_id=run_id, name=name, existing=other,
    )  # fmt: skip
