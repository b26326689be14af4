"""The one interface of a tracking backend, as the SDK, the CLI and the job supervisor see it.

Three classes offer it: :class:`~runhistory.tracking.service.TrackingService` (embedded),
:class:`~runhistory.client.remote.RemoteBackend` (a server, over HTTP) and
:class:`~runhistory.client.backend.OrderedBackend` (either, waiting for the run changes queued
before each call). It is structural: mypy checks that each of them has every method with this
signature, so a method that drifts in one of them is a type error, not a surprise at run time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, BinaryIO, Protocol

from runhistory.store.base import UNCHANGED
from runhistory.tracking.entities import (
    ComputeTargetInfo,
    EnvironmentVersion,
    ExperimentInfo,
    ExperimentsPage,
    ExperimentSummary,
    FileInfo,
    MetricColumns,
    MetricInfo,
    MetricInfoPage,
    MetricSeries,
    MetricWrite,
    ModelInfo,
    ModelsPage,
    RunInfo,
    RunsPage,
)


class Backend(Protocol):
    """Experiments, runs, metrics, files, models and secrets: what a workspace talks to."""

    # ---- experiments -------------------------------------------------------------------------
    def get_or_create_experiment(self, name: str) -> ExperimentInfo:
        """The active experiment called ``name``, created if there is none."""

    def get_experiment(self, experiment_id: str) -> ExperimentInfo:
        """The experiment with this id."""

    def summarize_experiment(self, experiment_id: str) -> ExperimentSummary:
        """The number of runs and the distinct tag/property keys and metric names, counted."""

    def get_experiment_by_name(self, name: str, archived: bool = False) -> ExperimentInfo:
        """The active (or archived) experiment with this name."""

    def list_experiments(
        self, name: str | None = None, view_type: str = "ActiveOnly", tags: object = None
    ) -> list[ExperimentInfo]:
        """Experiments filtered by name, view type and tags (key or ``{key: value}``)."""

    def list_experiments_page(
        self,
        name: str | None = None,
        view_type: str = "ActiveOnly",
        tags: object = None,
        page_size: int = 100,
        page_token: str | None = None,
    ) -> ExperimentsPage:
        """One page of :meth:`list_experiments`, oldest first; ``next_page_token`` goes on."""

    def archive_experiment(self, experiment_id: str) -> ExperimentInfo:
        """Hide an experiment from default listings; archiving twice is a no-op."""

    def reactivate_experiment(
        self, experiment_id: str, new_name: str | None = None
    ) -> ExperimentInfo:
        """Make an archived experiment active again, optionally under a new name."""

    def delete_experiment(self, experiment_id: str) -> None:
        """Delete an experiment with all its runs."""

    def set_experiment_tags(self, experiment_id: str, tags: object) -> None:
        """Insert or overwrite experiment tags."""

    def remove_experiment_tags(self, experiment_id: str, keys: Sequence[str]) -> None:
        """Remove experiment tags."""

    # ---- runs --------------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        run_id: str | None = None,
        parent_run_id: str | None = None,
        status: str = "NotStarted",
        display_name: str | None = None,
        description: str | None = None,
        run_type: str = "experimentrun",
        target: str = "local",
        tags: object = None,
        properties: object = None,
        run_definition: dict[str, Any] | None = None,
        submitted_by: str | None = None,
    ) -> RunInfo:
        """Create a run (a child when ``parent_run_id`` is given) in ``status``."""

    def get_run(self, run_id: str) -> RunInfo:
        """The run with this id; a running run whose heartbeat stopped shows NotResponding."""

    def set_status(
        self,
        run_id: str,
        status: str,
        error: dict[str, Any] | None = None,
        expected: Sequence[str] | None = None,
    ) -> RunInfo:
        """Move a run to ``status``; terminal runs refuse every further transition."""

    def heartbeat(self, run_id: str) -> None:
        """Record that the run's process is alive."""

    def update_run(self, run_id: str, **fields: Any) -> RunInfo:
        """Change ``display_name``, ``description``, ``run_definition`` or ``target``."""

    def set_run_tags(self, run_id: str, tags: object) -> None:
        """Insert or overwrite run tags (a tag may have the value ``None``)."""

    def remove_run_tags(self, run_id: str, keys: Sequence[str]) -> None:
        """Remove run tags; keys that are not there are ignored."""

    def add_run_properties(self, run_id: str, properties: object) -> None:
        """Add properties, all or none (a key holding another value raises)."""

    def search_runs(
        self,
        experiment_id: str | None = None,
        run_type: str | None = None,
        tags: object = None,
        properties: object = None,
        status: str | Sequence[str] | None = None,
        include_children: bool = False,
        parent_run_id: str | None = None,
        root_run_id: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        with_definition: bool = True,
        created_after: float | None = None,
        created_before: float | None = None,
    ) -> list[RunInfo]:
        """Runs matching every filter, newest first (created in [``created_after``,
        ``created_before``) when given)."""

    def search_runs_page(
        self,
        experiment_id: str | None = None,
        run_type: str | None = None,
        tags: object = None,
        properties: object = None,
        status: str | Sequence[str] | None = None,
        include_children: bool = False,
        parent_run_id: str | None = None,
        root_run_id: str | None = None,
        with_definition: bool = True,
        page_size: int = 100,
        page_token: str | None = None,
        created_after: float | None = None,
        created_before: float | None = None,
    ) -> RunsPage:
        """One page of runs matching every filter, newest first; ``next_page_token`` goes on."""

    def count_matching_runs(
        self,
        experiment_id: str | None = None,
        run_type: str | None = None,
        tags: object = None,
        properties: object = None,
        status: str | Sequence[str] | None = None,
        include_children: bool = False,
        created_after: float | None = None,
        created_before: float | None = None,
    ) -> int:
        """How many runs match every filter (one count, no rows read)."""

    def get_children(
        self,
        run_id: str,
        recursive: bool = False,
        tags: object = None,
        properties: object = None,
        run_type: str | None = None,
        status: str | Sequence[str] | None = None,
    ) -> list[RunInfo]:
        """Direct children of a run, or all descendants with ``recursive``."""

    def get_children_page(
        self,
        run_id: str,
        recursive: bool = False,
        tags: object = None,
        properties: object = None,
        run_type: str | None = None,
        status: str | Sequence[str] | None = None,
        page_size: int = 100,
        page_token: str | None = None,
    ) -> RunsPage:
        """One page of :meth:`get_children`, newest first."""

    def delete_run(self, run_id: str) -> None:
        """Delete a run with its children, metrics and files."""

    # ---- metrics -----------------------------------------------------------------------------
    def log_metrics(
        self, run_id: str, writes: Sequence[MetricWrite], batch_id: str | None = None
    ) -> bool:
        """Store points of several metrics of one run; returns ``False`` for a repeated batch."""

    def get_metric_infos(self, run_id: str) -> list[MetricInfo]:
        """Every metric of a run with its kind, count and last value."""

    def get_metric_infos_page(
        self,
        run_id: str,
        page_size: int = 1000,
        page_token: str | None = None,
        search: str | None = None,
    ) -> MetricInfoPage:
        """One page of a run's metrics by name (only names containing ``search``)."""

    def get_metrics(
        self,
        run_id: str,
        name: str | None = None,
        recursive: bool = False,
        run_type: str | None = None,
    ) -> dict[str, Any]:
        """Metrics in the original SDK's shapes; keyed by run id over the subtree if recursive."""

    def get_metric_history(
        self, run_id: str, name: str, min_step: int | None = None, max_step: int | None = None
    ) -> MetricColumns:
        """Every stored point of one metric with its step and time, in logging order."""

    def get_metric_series(
        self,
        run_ids: Sequence[str],
        names: Sequence[str],
        max_points: int = 1000,
        min_step: int | None = None,
        max_step: int | None = None,
    ) -> list[MetricSeries]:
        """Chart-ready series for every (run, metric name) pair that exists."""

    # ---- files -------------------------------------------------------------------------------
    def upload_file(self, run_id: str, name: str, source: Any) -> FileInfo:
        """Store a local file or a binary stream as ``name`` among the run's files."""

    def upload_folder(self, run_id: str, name: str, folder: str) -> list[FileInfo]:
        """Upload every file under ``folder`` as ``name/<relative path>``."""

    def list_files(self, run_id: str, prefix: str | None = None) -> list[FileInfo]:
        """Index entries of the run's files, sorted by name."""

    def get_file_info(self, run_id: str, name: str) -> FileInfo:
        """The index entry of one run file."""

    def open_file(self, run_id: str, name: str, offset: int = 0) -> BinaryIO:
        """A binary stream of one run file from byte ``offset`` on (close it when done)."""

    def download_file(self, run_id: str, name: str, local_path: str) -> str:
        """Copy one run file to ``local_path``; returns the path."""

    def take_snapshot(self, run_id: str, path: str, max_bytes: int, max_files: int) -> str:
        """Snapshot a file or folder for the run; a run has at most one snapshot."""

    def restore_snapshot_zip(self, snapshot_id: str, zip_path: str) -> str:
        """Write a snapshot as a zip file at ``zip_path``."""

    # ---- models ------------------------------------------------------------------------------
    def register_model(
        self,
        run_id: str,
        model_name: str,
        model_path: str | None = None,
        tags: object = None,
        properties: object = None,
        model_framework: str | None = None,
        model_framework_version: str | None = None,
        description: str | None = None,
    ) -> ModelInfo:
        """Register the run file (or folder) ``model_path`` as the next version of a model."""

    def register_local_model(
        self,
        model_name: str,
        relatives: Sequence[str],
        sources: Sequence[str],
        tags: object = None,
        properties: object = None,
        model_framework: str | None = None,
        model_framework_version: str | None = None,
        description: str | None = None,
    ) -> ModelInfo:
        """Register local files (``sources``) as ``relatives`` in the next model version."""

    def get_model(self, name: str, version: int | None = None) -> ModelInfo:
        """A model version, the latest when ``version`` is None."""

    def list_models(
        self,
        name: str | None = None,
        tags: object = None,
        properties: object = None,
        run_id: str | None = None,
        latest: bool = False,
        model_framework: str | None = None,
    ) -> list[ModelInfo]:
        """Registered models matching every filter; ``latest`` keeps the newest match per name."""

    def list_models_page(
        self,
        name: str | None = None,
        tags: object = None,
        properties: object = None,
        run_id: str | None = None,
        latest: bool = False,
        model_framework: str | None = None,
        page_size: int = 100,
        page_token: str | None = None,
    ) -> ModelsPage:
        """One page of :meth:`list_models`; ``next_page_token`` goes on."""

    def update_model(
        self,
        name: str,
        version: int,
        tags: object = None,
        remove_tags: Sequence[str] = (),
        properties: object = None,
        description: str | None = UNCHANGED,
    ) -> ModelInfo:
        """Merge tags, remove tags, add properties (add-only) and/or set the description."""

    def delete_model(self, name: str, version: int) -> None:
        """Delete a model version and its files."""

    def download_model(
        self, name: str, version: int, target_dir: str, exist_ok: bool = False
    ) -> str:
        """Copy a model version's files into ``target_dir``; returns the model's path there."""

    # ---- environments ------------------------------------------------------------------------
    def register_environment(self, name: str, definition: dict[str, Any]) -> EnvironmentVersion:
        """Register ``definition`` under ``name``; an unchanged definition keeps its version."""

    def get_environment(self, name: str, version: int | str | None = None) -> EnvironmentVersion:
        """A registered environment; the newest version when ``version`` is None."""

    def list_environments(
        self, name: str | None = None, latest: bool = True
    ) -> list[EnvironmentVersion]:
        """Registered environments by name; every version unless ``latest``."""

    # ---- compute targets ---------------------------------------------------------------------
    def create_compute_target(
        self, name: str, kind: str, config: dict[str, Any]
    ) -> ComputeTargetInfo:
        """Record a new named compute target."""

    def get_compute_target(self, name: str) -> ComputeTargetInfo:
        """A named compute target."""

    def list_compute_targets(self) -> list[ComputeTargetInfo]:
        """Every named compute target, by name."""

    def delete_compute_target(self, name: str) -> None:
        """Forget a named compute target."""

    # ---- secrets -----------------------------------------------------------------------------
    def set_secret(self, name: str, value: str) -> None:
        """Store (or replace) a secret, encrypted."""

    def get_secret(self, name: str) -> str:
        """The decrypted value of a secret."""

    def list_secret_names(self) -> list[str]:
        """Names of the stored secrets (never their values)."""

    def delete_secret(self, name: str) -> None:
        """Delete a secret."""

    # ---- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        """Release the store's connections."""
