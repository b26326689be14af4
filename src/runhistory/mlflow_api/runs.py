"""MLflow's run calls on the tracking service: create, get, update, delete, log, search.

Every change goes through the service's one write path (``write_changes``): a ``log-batch``
is one transaction, its params are checked against the run's properties first, so a batch
that would change a param stores nothing.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from runhistory.errors import NotFoundError
from runhistory.mlflow_api import mapping as mp
from runhistory.mlflow_api.errors import MlflowApiError, not_found
from runhistory.mlflow_api.experiments import MlflowExperiments
from runhistory.mlflow_api.fields import key_of, pairs, refuse_hidden, value_of
from runhistory.mlflow_api.repeated_points import new_points
from runhistory.mlflow_api.run_names import random_run_name
from runhistory.tracking import status as st
from runhistory.tracking.entities import (
    KIND_SCALAR,
    VTYPE_FLOAT,
    VTYPE_NAN,
    MetricInfo,
    MetricWrite,
    PropertyChange,
    RunChanges,
    RunCreate,
    RunInfo,
    RunUpdate,
    StatusChange,
    TagChange,
)
from runhistory.tracking.run_records import new_run_id
from runhistory.tracking.service import TrackingService

# MLflow's limits of one log-batch call.
MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_ENTITIES_PER_BATCH = 1000
MAX_PARAM_KEY = 250
# MLflow's value limits (runhistory's own API keeps 5,000 for both; the store has no limit).
MAX_TAG_VALUE = 8000
MAX_PARAM_VALUE = 6000


class MlflowRuns:
    """The run calls of MLflow's tracking API, answered by ``service``."""

    def __init__(self, service: TrackingService, experiments: MlflowExperiments) -> None:
        self.service = service
        self.experiments = experiments

    # ---- reading ------------------------------------------------------------------------
    def find(self, body: dict[str, Any]) -> RunInfo:
        """The run named by ``run_id`` (or the older ``run_uuid``)."""
        run_id = body.get("run_id") or body.get("run_uuid")
        if not isinstance(run_id, str) or not run_id:
            raise MlflowApiError(f"Missing value for required parameter 'run_id'. got {run_id!r}")
        try:
            return self.service.get_run(run_id)
        except NotFoundError:
            raise not_found(f"Run with id={run_id} not found") from None

    def run_json(
        self, run: RunInfo, metric_infos: Sequence[MetricInfo] | None = None
    ) -> dict[str, Any]:
        """A run as MLflow's ``Run`` message: info, and data with latest metrics, params, tags
        (``metric_infos``: the run's metrics when already read, as a search reads a page's)."""
        if metric_infos is None:
            metric_infos = self.service.get_metric_infos(run.run_id)
        metrics = [
            {
                "key": info.name,
                "value": mp.metric_value_json(info.last_value),
                "timestamp": mp.millis(info.updated_time) or 0,
                "step": info.last_step or 0,
            }
            for info in metric_infos
            if info.kind == KIND_SCALAR and info.count
        ]
        params = [{"key": k, "value": v} for k, v in sorted(run.properties.items())]
        return {
            "info": mp.run_info_json(run),
            "data": {"metrics": metrics, "params": params, "tags": mp.run_tags_json(run)},
            "inputs": {},
            "outputs": {"model_outputs": mp.model_outputs_json(run)},
        }

    def get(self, body: dict[str, Any]) -> dict[str, Any]:
        """``runs/get``."""
        return {"run": self.run_json(self.find(body))}

    # ---- lifecycle ----------------------------------------------------------------------
    def create(self, body: dict[str, Any], user: str | None = None) -> dict[str, Any]:
        """``runs/create``: a RUNNING run; ``mlflow.parentRunId`` makes it a child run. A run
        without a name gets a readable random one (``brisk-heron-417``), as MLflow's server
        gives it, shown as its name and its ``mlflow.runName`` tag."""
        experiment = self.experiments.resolve(body.get("experiment_id") or "0")
        tags = pairs(body.get("tags"), "tags")
        refuse_hidden(tags, mp.HIDDEN_RUN_TAGS)
        parent = tags.pop(mp.PARENT_TAG, None) or None
        name = body.get("run_name") or tags.pop(mp.RUN_NAME_TAG, None) or None
        tags.pop(mp.RUN_NAME_TAG, None)
        if not isinstance(name, str):  # MLflow's server names every run it creates
            name = random_run_name()
        if parent is not None:
            self.find({"run_id": parent})
        start = body.get("start_time")
        started = int(start) / 1000 if start not in (None, "") else time.time()  # type: ignore[arg-type]
        create = RunCreate(
            run_id=new_run_id(experiment.name),
            experiment_id=experiment.experiment_id,
            status=st.RUNNING,
            created_time=started,
            start_time=started,
            parent_run_id=parent,
            display_name=name,
            submitted_by=user or body.get("user_id") or None,
            tags=dict(tags),
        )
        self._write(RunChanges(creates=[create]))
        return {"run": self.run_json(self.service.get_run(create.run_id))}

    def update(self, body: dict[str, Any]) -> dict[str, Any]:
        """``runs/update``: status (and end time) and run name."""
        run = self.find(body)
        changes = RunChanges()
        name = body.get("run_name")
        if isinstance(name, str) and name and name != run.display_name:
            changes.updates.append(RunUpdate(run.run_id, {"display_name": name}))
        status = body.get("status")
        if status not in (None, ""):
            wanted = mp.runhistory_status(status)
            if mp.mlflow_status(run.status) != status:
                end = body.get("end_time")
                at = int(end) / 1000 if end not in (None, "") else time.time()
                changes.statuses.append(StatusChange(run.run_id, wanted, at))
        self._write(changes)
        return {"run_info": mp.run_info_json(self.service.get_run(run.run_id))}

    def delete(self, body: dict[str, Any]) -> dict[str, Any]:
        """``runs/delete``: marks the run deleted (``restore`` unmarks it)."""
        run = self.find(body)
        self._write(RunChanges(tags=[TagChange(run.run_id, {mp.LIFECYCLE_TAG: mp.DELETED})]))
        return {}

    def restore(self, body: dict[str, Any]) -> dict[str, Any]:
        """``runs/restore``."""
        run = self.find(body)
        self._write(RunChanges(tags=[TagChange(run.run_id, remove=(mp.LIFECYCLE_TAG,))]))
        return {}

    # ---- logging ------------------------------------------------------------------------
    def log_metric(self, body: dict[str, Any]) -> dict[str, Any]:
        """``runs/log-metric``: a point the run already has (same value, timestamp and step)
        is not stored again, as MLflow's server does."""
        run = self.find(body)
        writes = new_points(self.service, run.run_id, metric_writes([body]))
        if writes:
            self._write(RunChanges(metrics={run.run_id: writes}))
        return {}

    def log_param(self, body: dict[str, Any]) -> dict[str, Any]:
        """``runs/log-parameter``: write-once (the same value again is fine)."""
        run = self.find(body)
        params = {param_key(body): value_of(body)}
        check_params(run, params)
        self._write(RunChanges(properties=[PropertyChange(run.run_id, params)]))
        return {}

    def set_tag(self, body: dict[str, Any]) -> dict[str, Any]:
        """``runs/set-tag`` (``mlflow.runName`` renames the run)."""
        run = self.find(body)
        self._write(tag_changes(run, {key_of(body): value_of(body)}))
        return {}

    def delete_tag(self, body: dict[str, Any]) -> dict[str, Any]:
        """``runs/delete-tag``."""
        run = self.find(body)
        key = key_of(body)
        refuse_hidden({key: ""}, mp.HIDDEN_RUN_TAGS)
        if key not in run.tags:
            raise not_found(f"No tag with name: {key} in run with id {run.run_id}")
        self._write(RunChanges(tags=[TagChange(run.run_id, remove=(key,))]))
        return {}

    def log_batch(self, body: dict[str, Any]) -> dict[str, Any]:
        """``runs/log-batch``: metrics, params and tags in one transaction, within MLflow's
        limits (1000 metrics, 100 params, 100 tags, 1000 in all). A metric point the run
        already has, or one repeated in the batch, is stored once (see ``repeated_points``)."""
        run = self.find(body)
        metrics = _items(body.get("metrics"), "metrics")
        params = pairs(_unique_params(body.get("params")), "params")
        tags = pairs(body.get("tags"), "tags")
        _check_batch_limits(len(metrics), len(body.get("params") or []), len(tags))
        for key in params:
            param_key({"key": key})
        check_params(run, params)
        changes = tag_changes(run, tags)
        if params:
            changes.properties.append(PropertyChange(run.run_id, params))
        writes = new_points(self.service, run.run_id, metric_writes(metrics)) if metrics else []
        if writes:
            changes.metrics[run.run_id] = writes
        self._write(changes)
        return {}

    def log_inputs(self, body: dict[str, Any]) -> dict[str, Any]:
        """``runs/log-inputs``: each dataset is kept as the run tag
        ``mlflow.dataset.<name>.<digest>`` holding its source type and context."""
        run = self.find(body)
        tags: dict[str, str] = {}
        for item in _items(body.get("datasets"), "datasets"):
            dataset = item.get("dataset") or {}
            context = next(
                (t.get("value", "") for t in item.get("tags") or [] if t.get("key") ==
                 "mlflow.data.context"), "",
            )  # fmt: skip
            key = f"mlflow.dataset.{dataset.get('name', '')}.{dataset.get('digest', '')}"
            tags[key[:255]] = f"{dataset.get('source_type', '')}:{context}"
        if tags:
            self._write(RunChanges(tags=[TagChange(run.run_id, tags)]))  # type: ignore[arg-type]
        return {}

    # ---- helpers ------------------------------------------------------------------------
    def _write(self, changes: RunChanges) -> None:
        """Store the changes in one transaction; a refused change is answered as MLflow would."""
        refused = self.service.write_changes(
            changes, tag_value_limit=MAX_TAG_VALUE, property_value_limit=MAX_PARAM_VALUE
        )
        if refused:
            error = refused[0]
            if error.fields.get("status") is not None:
                raise MlflowApiError(
                    f"{error.message} (a finished runhistory run stays finished: start a new "
                    "run instead of resuming it)"
                )
            raise error


def param_key(body: dict[str, Any]) -> str:
    """A param key within MLflow's length limit."""
    key = key_of(body)
    if len(key) > MAX_PARAM_KEY:
        raise MlflowApiError(
            f"Param key '{key[:40]}…' had length {len(key)}, which exceeded length limit of "
            f"{MAX_PARAM_KEY}"
        )
    return key


def check_params(run: RunInfo, params: dict[str, str]) -> None:
    """Refuse params that would change a value the run already has (MLflow's rule too)."""
    for key, value in params.items():
        old = run.properties.get(key)
        if old is not None and old != value:
            raise MlflowApiError(
                f"Changing param values is not allowed. Param with key='{key}' was already "
                f"logged with value='{old}' for run ID='{run.run_id}'. Attempted logging new "
                f"value '{value}'."
            )


def tag_changes(run: RunInfo, tags: dict[str, str]) -> RunChanges:
    """The changes that set MLflow tags: ``mlflow.runName`` is the display name,
    ``mlflow.parentRunId`` the parent (set when the run is created)."""
    refuse_hidden(tags, mp.HIDDEN_RUN_TAGS)
    changes = RunChanges()
    name = tags.pop(mp.RUN_NAME_TAG, None)
    if name is not None and name != run.display_name:
        changes.updates.append(RunUpdate(run.run_id, {"display_name": name or None}))
    parent = tags.pop(mp.PARENT_TAG, None)
    if parent is not None and parent != (run.parent_run_id or ""):
        raise MlflowApiError(
            f"run {run.run_id} has parent {run.parent_run_id!r}: the parent is given when a "
            f"run is created (tag {mp.PARENT_TAG}) and cannot change"
        )
    if tags:
        changes.tags.append(TagChange(run.run_id, dict(tags)))
    return changes


def metric_writes(metrics: Sequence[dict[str, Any]]) -> list[MetricWrite]:
    """MLflow metrics (key, value, timestamp in ms, step) as one scalar write per key."""
    points: dict[str, list[tuple[int | None, int, float | None, str | None, float]]] = {}
    for metric in metrics:
        key = key_of(metric)
        value = mp.parse_metric_value(metric.get("value"), key)
        stamp = metric.get("timestamp")
        at = int(stamp) / 1000 if stamp not in (None, "") else time.time()
        step = int(metric.get("step") or 0)
        point = (step, VTYPE_NAN, None, None, at) if value != value else (
            step, VTYPE_FLOAT, value, None, at)  # fmt: skip
        points.setdefault(key, []).append(point)
    return [MetricWrite(key, KIND_SCALAR, found) for key, found in points.items()]


def _items(value: object, what: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise MlflowApiError(f"{what} must be a list of objects, got {value!r:.80}")
    return value


def _unique_params(value: object) -> object:
    """Params of one batch: a key twice with two values is refused, as MLflow does."""
    if not isinstance(value, list):
        return value
    seen: dict[Any, Any] = {}
    for item in value:
        if isinstance(item, dict):
            key, found = item.get("key"), item.get("value")
            if key in seen and seen[key] != found:
                raise MlflowApiError(
                    f"Duplicate parameter keys have been submitted: [{key}]. Please ensure the "
                    "request contains only one param value per param key."
                )
            seen[key] = found
    return value


def _check_batch_limits(metrics: int, params: int, tags: int) -> None:
    if metrics > MAX_METRICS_PER_BATCH:
        raise MlflowApiError(
            f"A batch logging request can contain at most {MAX_METRICS_PER_BATCH} metrics. "
            f"Got {metrics} metrics. Please split up metrics across multiple requests and try "
            "again."
        )
    for count, what in ((params, "params"), (tags, "tags")):
        if count > MAX_PARAMS_TAGS_PER_BATCH:
            raise MlflowApiError(
                f"A batch logging request can contain at most {MAX_PARAMS_TAGS_PER_BATCH} "
                f"{what}. Got {count} {what}. Please split up {what} across multiple requests "
                "and try again."
            )
    total = metrics + params + tags
    if total > MAX_ENTITIES_PER_BATCH:
        raise MlflowApiError(
            f"A batch logging request can contain at most {MAX_ENTITIES_PER_BATCH} metrics, "
            f"params, and tags in total. Got {total} in all. Please split up the request."
        )
