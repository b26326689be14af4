"""The remote backend: the tracking service's methods, answered by a runhistory server.

:class:`RemoteBackend` offers the same methods as
:class:`~runhistory.tracking.service.TrackingService` and raises the same exception types, so
the SDK works unchanged against ``http(s)://host:port``. Metric writes never wait for the
network: :meth:`RemoteBackend.log_metrics` appends the batch to a spool file on disk and a
background sender delivers it (see :mod:`runhistory.client.spool`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from runhistory.client.http import HttpClient
from runhistory.client.remote_compute import RemoteComputeMixin
from runhistory.client.remote_environments import RemoteEnvironmentsMixin
from runhistory.client.remote_files import RemoteFilesMixin
from runhistory.client.wire import record, records
from runhistory.errors import RunhistoryError, ValidationError
from runhistory.forking import reset_in_child
from runhistory.store.base import UNCHANGED
from runhistory.tracking import status as st
from runhistory.tracking.entities import (
    ExperimentInfo,
    ExperimentsPage,
    ExperimentSummary,
    KeyCount,
    MetricColumns,
    MetricInfo,
    MetricInfoPage,
    MetricSeries,
    MetricWrite,
    ModelInfo,
    ModelsPage,
    RunChanges,
    RunInfo,
    RunsPage,
)
from runhistory.tracking.models import _pairs_to_dict  # the service's own normalisation
from runhistory.tracking.run_records import check_run_fields, current_user
from runhistory.tracking.validation import check_filter, check_properties, check_tags

_PAGE = 10_000


def _q(value: str) -> str:
    """A path segment, percent-encoded."""
    return quote(value, safe="")


def filter_params(name: str, value: object) -> list[tuple[str, str]]:
    """A tag/property filter as repeated ``name=k`` / ``name=k=v`` query parameters.

    The original SDK's list of keys and ``[key, value]`` pairs is accepted too.
    """
    wanted = check_filter(name, _pairs_to_dict(value)) or {}
    return [(name, key if v is None else f"{key}={v}") for key, v in wanted.items()]


def _run_filters(
    experiment_id: str | None,
    run_type: str | None,
    tags: object,
    properties: object,
    status: str | Sequence[str] | None,
    include_children: bool,
    parent_run_id: str | None,
    root_run_id: str | None,
    created_after: float | None = None,
    created_before: float | None = None,
) -> list[tuple[str, Any]]:
    """The query parameters of a run listing's filters."""
    params: list[tuple[str, Any]] = [
        ("include_children", str(include_children).lower()),
        *filter_params("tag", tags), *filter_params("property", properties),
        *_statuses(status),
    ]  # fmt: skip
    for key, value in (
        ("experiment_id", experiment_id),
        ("run_type", run_type),
        ("parent_run_id", parent_run_id),
        ("root_run_id", root_run_id),
        ("created_after", None if created_after is None else repr(float(created_after))),
        ("created_before", None if created_before is None else repr(float(created_before))),
    ):
        if value is not None:
            params.append((key, value))
    return params


def _model_filters(
    name: str | None, tags: object, properties: object, run_id: str | None, latest: bool,
    model_framework: str | None,
) -> list[tuple[str, Any]]:  # fmt: skip
    """The query parameters of a model listing's filters."""
    params: list[tuple[str, Any]] = [
        ("latest", str(latest).lower()), *filter_params("tag", tags),
        *filter_params("property", properties),
    ]  # fmt: skip
    for key, value in (("name", name), ("run_id", run_id), ("model_framework", model_framework)):
        if value is not None:
            params.append((key, value))
    return params


def _statuses(status: str | Sequence[str] | None) -> list[tuple[str, str]]:
    if status is None:
        return []
    wanted = [status] if isinstance(status, str) else list(status)
    return [("status", s) for s in wanted]


class RemoteBackend(RemoteFilesMixin, RemoteEnvironmentsMixin, RemoteComputeMixin):
    """A runhistory server, reached over HTTP, with the tracking service's methods.

    Args:
        tracking_uri: the server, ``http(s)://host:port``.
        token: bearer token for a server started with ``--auth``.

    Example:
        >>> backend = RemoteBackend("http://127.0.0.1:5000")  # doctest: +SKIP
        >>> backend.get_or_create_experiment("mnist")  # doctest: +SKIP
    """

    def __init__(self, tracking_uri: str, token: str | None = None) -> None:
        from runhistory import settings

        self.tracking_uri = tracking_uri.rstrip("/")
        self._token = token
        self._retry = float(settings.get("RUNHISTORY_HTTP_RETRY_SECONDS"))
        self._connect = float(settings.get("RUNHISTORY_HTTP_CONNECT_SECONDS"))
        self.http = self._http_client()
        self._sender: Any = None
        self._environment_ids: bool | None = None  # the server takes environments by id
        self._server_info: dict[str, Any] | None = None
        reset_in_child(self, RemoteBackend._after_fork)

    def _after_fork(self) -> None:
        # A forked child shares neither the parent's sockets nor its sender thread and spool.
        self.http = self._http_client()
        self._sender = None

    def _http_client(self) -> HttpClient:
        return HttpClient(self.tracking_uri, token=self._token, retry_seconds=self._retry,
                          connect_seconds=self._connect)  # fmt: skip

    # ---- experiments ------------------------------------------------------------------
    def get_or_create_experiment(self, name: str) -> ExperimentInfo:
        """The active experiment called ``name``, created if there is none."""
        return record(ExperimentInfo, self.http.call("POST", "/experiments", {"name": name}))

    def get_experiment(self, experiment_id: str) -> ExperimentInfo:
        """The experiment with this id."""
        return record(ExperimentInfo, self.http.call("GET", f"/experiments/{_q(experiment_id)}"))

    def summarize_experiment(self, experiment_id: str) -> ExperimentSummary:
        """The number of runs and the distinct tag/property keys and metric names, counted."""
        found = self.http.call("GET", f"/experiments/{_q(experiment_id)}/summary")
        return ExperimentSummary(
            found["experiment_id"], found["runs"],
            *([KeyCount(k["key"], k["runs"]) for k in found[part]]
              for part in ("tags", "properties", "metrics")),
        )  # fmt: skip

    def get_experiment_by_name(self, name: str, archived: bool = False) -> ExperimentInfo:
        """The active (or archived) experiment with this name."""
        path = f"/experiments/by-name/{_q(name)}"
        return record(ExperimentInfo, self.http.call("GET", path, params={"archived": archived}))

    def list_experiments(
        self, name: str | None = None, view_type: str = "ActiveOnly", tags: object = None
    ) -> list[ExperimentInfo]:
        """Experiments filtered by name, view type and tags."""
        params = [
            ("view_type", view_type),
            ("with_run_count", "false"),
            *filter_params("tag", tags),
        ]
        if name is not None:
            params.append(("name", name))
        return records(ExperimentInfo, self._all_pages("/experiments", params))

    def list_experiments_page(
        self,
        name: str | None = None,
        view_type: str = "ActiveOnly",
        tags: object = None,
        page_size: int = 100,
        page_token: str | None = None,
    ) -> ExperimentsPage:
        """One page of experiments (one request); ``next_page_token`` continues it."""
        params: list[tuple[str, Any]] = [
            ("view_type", view_type), ("with_run_count", "false"),
            *filter_params("tag", tags), ("limit", page_size),
        ]  # fmt: skip
        if name is not None:
            params.append(("name", name))
        if page_token is not None:
            params.append(("page_token", page_token))
        found = self.http.call("GET", "/experiments", params=params)
        items = records(ExperimentInfo, found["items"])
        return ExperimentsPage(items, found.get("next_page_token"))

    def archive_experiment(self, experiment_id: str) -> ExperimentInfo:
        """Hide an experiment from default listings."""
        path = f"/experiments/{_q(experiment_id)}/archive"
        return record(ExperimentInfo, self.http.call("POST", path))

    def reactivate_experiment(
        self, experiment_id: str, new_name: str | None = None
    ) -> ExperimentInfo:
        """Make an archived experiment active again."""
        path = f"/experiments/{_q(experiment_id)}/reactivate"
        return record(ExperimentInfo, self.http.call("POST", path, {"new_name": new_name}))

    def delete_experiment(self, experiment_id: str) -> None:
        """Delete an experiment with all its runs."""
        self.http.call("DELETE", f"/experiments/{_q(experiment_id)}")

    def set_experiment_tags(self, experiment_id: str, tags: object) -> None:
        """Insert or overwrite experiment tags."""
        body = {"set": check_tags(tags)}
        self.http.call("PATCH", f"/experiments/{_q(experiment_id)}/tags", body)

    def remove_experiment_tags(self, experiment_id: str, keys: Sequence[str]) -> None:
        """Remove experiment tags."""
        body = {"remove": list(keys)}
        self.http.call("PATCH", f"/experiments/{_q(experiment_id)}/tags", body)

    # ---- runs -------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        run_id: str | None = None,
        parent_run_id: str | None = None,
        status: str = st.NOT_STARTED,
        display_name: str | None = None,
        description: str | None = None,
        run_type: str = "experimentrun",
        target: str = "local",
        tags: object = None,
        properties: object = None,
        run_definition: dict[str, Any] | None = None,
        submitted_by: str | None = None,
    ) -> RunInfo:
        """Create a run (a child when ``parent_run_id`` is given); submitted by
        ``submitted_by`` (default: this process's user; a server with --auth uses the token's
        name)."""
        fields = {"display_name": display_name, "description": description, "target": target,
                  "run_definition": run_definition}  # fmt: skip
        check_run_fields(fields)
        body = {
            "experiment_id": experiment_id, "run_id": run_id, "parent_run_id": parent_run_id,
            "status": status, "display_name": display_name, "description": description,
            "run_type": run_type, "target": target, "tags": check_tags(tags or {}),
            "properties": check_properties(properties or {}), "run_definition": run_definition,
            "submitted_by": submitted_by or current_user(),
        }  # fmt: skip
        return record(RunInfo, self.http.call("POST", "/runs", body))

    def get_run(self, run_id: str) -> RunInfo:
        """The run with this id."""
        return record(RunInfo, self.http.call("GET", f"/runs/{_q(run_id)}"))

    def set_status(
        self,
        run_id: str,
        status: str,
        error: dict[str, Any] | None = None,
        expected: Sequence[str] | None = None,
    ) -> RunInfo:
        """Move a run to ``status`` (only from one of ``expected`` when given)."""
        body = {
            "status": status,
            "error": error,
            "expected": None if expected is None else list(expected),
        }
        return record(RunInfo, self.http.call("POST", f"/runs/{_q(run_id)}/status", body))

    def heartbeat(self, run_id: str) -> None:
        """Record that the run's process is alive."""
        self.http.call("POST", f"/runs/{_q(run_id)}/heartbeat")

    def update_run(self, run_id: str, **fields: Any) -> RunInfo:
        """Change ``display_name``, ``description``, ``run_definition`` or ``target``."""
        check_run_fields(fields)
        return record(RunInfo, self.http.call("PATCH", f"/runs/{_q(run_id)}", fields))

    def set_run_tags(self, run_id: str, tags: object) -> None:
        """Insert or overwrite run tags."""
        self.http.call("PATCH", f"/runs/{_q(run_id)}/tags", {"set": check_tags(tags)})

    def remove_run_tags(self, run_id: str, keys: Sequence[str]) -> None:
        """Remove run tags; missing keys are ignored."""
        wanted = [keys] if isinstance(keys, str) else list(keys)
        self.http.call("PATCH", f"/runs/{_q(run_id)}/tags", {"remove": wanted})

    def add_run_properties(self, run_id: str, properties: object) -> None:
        """Add properties (add-only)."""
        body = check_properties(properties)
        self.http.call("POST", f"/runs/{_q(run_id)}/properties", body)

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
        """Runs matching every filter, newest first (without definitions if asked)."""
        params = _run_filters(
            experiment_id, run_type, tags, properties, status, include_children,
            parent_run_id, root_run_id, created_after, created_before,
        )  # fmt: skip
        params.append(("with_definition", str(with_definition).lower()))
        items = self._all_pages("/runs", params, limit=limit, offset=offset)
        return records(RunInfo, items)

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
        """One page of runs (one request); ``next_page_token`` continues the listing."""
        params = _run_filters(
            experiment_id, run_type, tags, properties, status, include_children,
            parent_run_id, root_run_id, created_after, created_before,
        )  # fmt: skip
        params.append(("with_definition", str(with_definition).lower()))
        return self._page("/runs", params, page_size, page_token)

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
        """How many runs match every filter (one request)."""
        params = _run_filters(
            experiment_id, run_type, tags, properties, status, include_children, None, None,
            created_after, created_before,
        )  # fmt: skip
        return int(self.http.call("GET", "/counts/runs", params=params)["count"])

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
        found: list[RunInfo] = []
        token: str | None = None
        while True:
            page = self.get_children_page(
                run_id, recursive, tags, properties, run_type, status, _PAGE, token
            )
            found.extend(page.items)
            token = page.next_page_token
            if token is None:
                return found

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
        """One page of :meth:`get_children` (one request)."""
        params: list[tuple[str, Any]] = [
            ("recursive", str(recursive).lower()), *filter_params("tag", tags),
            *filter_params("property", properties), *_statuses(status),
        ]  # fmt: skip
        if run_type is not None:
            params.append(("run_type", run_type))
        return self._page(f"/runs/{_q(run_id)}/children", params, page_size, page_token)

    def _page(
        self, path: str, params: list[tuple[str, Any]], page_size: int, page_token: str | None
    ) -> RunsPage:
        wanted = [*params, ("limit", page_size)]
        if page_token is not None:
            wanted.append(("page_token", page_token))
        found = self.http.call("GET", path, params=wanted)
        return RunsPage(records(RunInfo, found["items"]), found.get("next_page_token"))

    def delete_run(self, run_id: str) -> None:
        """Delete a run with its children, metrics and files."""
        self.http.call("DELETE", f"/runs/{_q(run_id)}")

    def _all_pages(
        self, path: str, params: list[tuple[str, Any]], limit: int | None = None, offset: int = 0
    ) -> list[Any]:
        """Every page of a listing: continued by token when the server gives one (keyset,
        so no item is skipped or repeated while others are added), else by offset."""
        items: list[Any] = []
        token: str | None = None
        while True:
            size = _PAGE if limit is None else min(_PAGE, limit - len(items))
            position = [("page_token", token)] if token else [("offset", offset)]
            page = self.http.call("GET", path, params=[*params, ("limit", size), *position])
            items.extend(page["items"])
            token = page.get("next_page_token")
            offset = page.get("next_offset") or 0
            if (not token and not offset) or (limit is not None and len(items) >= limit):
                return items

    # ---- runs written behind -----------------------------------------------------------
    def takes_changes(self) -> bool:
        """Whether the server takes batches of run changes (``POST /changes/batches``; asked
        once). Runs are then written behind, through the spool; an older server gets one
        request per run creation and change, as before."""
        from runhistory.client.change_wire import FEATURE

        return FEATURE in (self.get_server_info().get("features") or ())

    def write_changes(self, changes: RunChanges) -> list[RunhistoryError]:
        """Spool a batch of run changes for the background sender and return at once.

        What the server refuses is raised by the run's next ``flush()`` or ``complete()``
        (see :meth:`wait_until_sent`), never here.
        """
        if self._environment_ids is None:
            from runhistory.client.change_wire import ENVIRONMENT_IDS

            features = self.get_server_info().get("features") or ()
            self._environment_ids = ENVIRONMENT_IDS in features
        self.sender().submit_changes(changes, self._environment_ids)
        return []

    def wait_for_changes(self) -> None:
        """Wait until the server stored every batch of run changes spooled so far (at most
        the HTTP retry time: a server that stays away then fails the caller's own request)."""
        if self._sender is not None:
            self._sender.wait_for_changes(max(self._retry, 1.0))

    # ---- metrics ----------------------------------------------------------------------
    def log_metrics(
        self, run_id: str, writes: Sequence[MetricWrite], batch_id: str | None = None
    ) -> bool:
        """Spool a batch for the background sender and return at once (never blocks)."""
        return bool(self.sender().submit(run_id, writes, batch_id))

    def hold_sending(self, held: bool) -> None:
        """A flush begins or ends: its batches are sent by :meth:`wait_until_sent` from the
        flushing thread, not handed to the sender's thread (see ``SpoolSender.hold``)."""
        if self._sender is not None:
            self._sender.hold(held)

    def sender(self) -> Any:
        """The background sender of metric batches (started on first use)."""
        if self._sender is None:
            from runhistory.client.sender import SpoolSender

            self._sender = SpoolSender(self.http, self.tracking_uri)
        return self._sender

    def wait_until_sent(self, timeout_seconds: float, run_id: str | None = None) -> None:
        """Wait until every spooled batch has been stored by the server.

        Raises:
            FlushTimeoutError: some values were still unsent at the timeout (counted).
            RunhistoryError: the server refused a batch of ``run_id`` (of any run when
                ``None``): the first such error.
        """
        if self._sender is not None:
            self._sender.wait_until_sent(timeout_seconds, run_id)

    def take_refusals(self) -> list[RunhistoryError]:
        """Remove and return the batches' refusals no flush has raised (one per run)."""
        return self._sender.take_refusals() if self._sender is not None else []

    def get_metric_infos(self, run_id: str) -> list[MetricInfo]:
        """Every metric of a run with its kind, count and last value."""
        found = self.http.call("GET", f"/runs/{_q(run_id)}/metrics/info")
        return records(MetricInfo, found["items"])

    def get_metric_infos_page(
        self,
        run_id: str,
        page_size: int = 1000,
        page_token: str | None = None,
        search: str | None = None,
    ) -> MetricInfoPage:
        """One page of a run's metrics by name (one request)."""
        params: list[tuple[str, Any]] = [("limit", page_size)]
        if page_token is not None:
            params.append(("page_token", page_token))
        if search is not None:
            params.append(("search", search))
        found = self.http.call("GET", f"/runs/{_q(run_id)}/metrics/info", params=params)
        return MetricInfoPage(records(MetricInfo, found["items"]), found.get("next_page_token"))

    def get_metrics(
        self, run_id: str, name: str | None = None, recursive: bool = False,
        run_type: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Metrics in the original SDK's shapes."""
        params: dict[str, Any] = {"recursive": str(recursive).lower()}
        if name is not None:
            params["name"] = name
        if run_type is not None:
            params["run_type"] = run_type
        result: dict[str, Any] = self.http.call("GET", f"/runs/{_q(run_id)}/metrics", params=params)
        return result

    def get_metric_history(
        self, run_id: str, name: str, min_step: int | None = None, max_step: int | None = None
    ) -> MetricColumns:
        """Every stored point of one metric as columns, in logging order."""
        params: dict[str, Any] = {"name": name}
        if min_step is not None:
            params["min_step"] = min_step
        if max_step is not None:
            params["max_step"] = max_step
        found = self.http.call("GET", f"/runs/{_q(run_id)}/metrics/history", params=params)
        return record(MetricColumns, found)

    def get_metric_series(
        self, run_ids: Sequence[str], names: Sequence[str], max_points: int = 1000,
        min_step: int | None = None, max_step: int | None = None,
    ) -> list[MetricSeries]:  # fmt: skip
        """Chart-ready series (at most ``max_points`` each) for every existing (run, name)."""
        body = {"run_ids": list(run_ids), "names": list(names), "max_points": max_points,
                "min_step": min_step, "max_step": max_step}  # fmt: skip
        return records(MetricSeries, self.http.call("POST", "/metrics/series", body)["series"])

    # ---- models -----------------------------------------------------------------------
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
        """Register a run file or folder as the next version of a model."""
        body = {
            "run_id": run_id, "model_name": model_name, "model_path": model_path,
            "tags": check_tags(tags or {}), "properties": check_properties(properties or {}),
            "model_framework": model_framework, "model_framework_version": model_framework_version,
            "description": description,
        }  # fmt: skip
        return record(ModelInfo, self.http.call("POST", "/models", body))

    def get_model(self, name: str, version: int | None = None) -> ModelInfo:
        """A model version, the latest when ``version`` is None."""
        path = f"/models/{_q(name)}/versions/{'latest' if version is None else int(version)}"
        return record(ModelInfo, self.http.call("GET", path))

    def list_models(
        self, name: str | None = None, tags: object = None, properties: object = None,
        run_id: str | None = None, latest: bool = False, model_framework: str | None = None,
    ) -> list[ModelInfo]:  # fmt: skip
        """Registered models matching every filter."""
        params = _model_filters(name, tags, properties, run_id, latest, model_framework)
        return records(ModelInfo, self._all_pages("/models", params))

    def list_models_page(
        self, name: str | None = None, tags: object = None, properties: object = None,
        run_id: str | None = None, latest: bool = False, model_framework: str | None = None,
        page_size: int = 100, page_token: str | None = None,
    ) -> ModelsPage:  # fmt: skip
        """One page of models (one request); ``next_page_token`` continues the listing."""
        params = _model_filters(name, tags, properties, run_id, latest, model_framework)
        params.append(("limit", page_size))
        if page_token is not None:
            params.append(("page_token", page_token))
        found = self.http.call("GET", "/models", params=params)
        return ModelsPage(records(ModelInfo, found["items"]), found.get("next_page_token"))

    def update_model(
        self, name: str, version: int, tags: object = None, remove_tags: Sequence[str] = (),
        properties: object = None, description: str | None = UNCHANGED,
    ) -> ModelInfo:  # fmt: skip
        """Merge tags, remove tags, add properties and/or set the description."""
        body: dict[str, Any] = {
            "tags": check_tags(tags or {}), "remove_tags": list(remove_tags),
            "properties": check_properties(properties or {}),
        }  # fmt: skip
        if description is not UNCHANGED:
            body["description"] = description
        path = f"/models/{_q(name)}/versions/{int(version)}"
        return record(ModelInfo, self.http.call("PATCH", path, body))

    def delete_model(self, name: str, version: int) -> None:
        """Delete a model version and its files."""
        self.http.call("DELETE", f"/models/{_q(name)}/versions/{int(version)}")

    # ---- secrets ----------------------------------------------------------------------
    def set_secret(self, name: str, value: str) -> None:
        """Store (or replace) a secret."""
        if not isinstance(value, str):
            raise ValidationError(f"secret {name!r}: values must be strings")
        self.http.call("PUT", f"/secrets/{_q(name)}", {"value": value})

    def get_secret(self, name: str) -> str:
        """The value of a secret."""
        return str(self.http.call("GET", f"/secrets/{_q(name)}")["value"])

    def list_secret_names(self) -> list[str]:
        """Names of the stored secrets."""
        return [item["name"] for item in self.http.call("GET", "/secrets")["items"]]

    def delete_secret(self, name: str) -> None:
        """Delete a secret."""
        self.http.call("DELETE", f"/secrets/{_q(name)}")

    # ---- the server itself ------------------------------------------------------------
    def get_server_info(self) -> dict[str, Any]:
        """The server's version and public URL (asked once, then remembered)."""
        if self._server_info is None:
            self._server_info = dict(self.http.call("GET", "/server-info"))
        return self._server_info

    # ---- lifecycle --------------------------------------------------------------------
    def close(self) -> None:
        """Stop the sender (what it could not send stays spooled) and close connections."""
        if self._sender is not None:
            self._sender.close()
        self.http.close()
