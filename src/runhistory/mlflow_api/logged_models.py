"""MLflow 3's logged models (``mlflow.<flavor>.log_model``, autologging's models) as runs.

A logged model is a runhistory run of the experiment, a child of the run that logged it, with
the reserved tag ``mlflow.loggedModel`` holding the model's name: its id is the run id
(``m-<32 hex digits>``), its params are the run's properties, its tags the run's tags, its
artifacts the run's files, its status the run's (PENDING = Running, READY = Completed,
UPLOAD_FAILED = Failed). MLflow's run search leaves these runs out. See docs/mlflow.md.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from runhistory.errors import NotFoundError
from runhistory.mlflow_api import mapping as mp
from runhistory.mlflow_api.errors import MlflowApiError, not_found
from runhistory.mlflow_api.experiments import MlflowExperiments
from runhistory.mlflow_api.fields import key_of, list_of, pairs, refuse_hidden
from runhistory.mlflow_api.paging import page_of
from runhistory.mlflow_api.runs import MlflowRuns, check_params
from runhistory.mlflow_api.search import matches, parse_filter, parse_order_by, sort_records
from runhistory.tracking import status as st
from runhistory.tracking.entities import (
    PropertyChange,
    RunChanges,
    RunCreate,
    RunInfo,
    StatusChange,
    TagChange,
)
from runhistory.tracking.service import TrackingService

_STATUSES = {
    st.RUNNING: "LOGGED_MODEL_PENDING",
    st.COMPLETED: "LOGGED_MODEL_READY",
    st.FAILED: "LOGGED_MODEL_UPLOAD_FAILED",
}
_FINAL = {"LOGGED_MODEL_READY": st.COMPLETED, "READY": st.COMPLETED, "2": st.COMPLETED,
          "LOGGED_MODEL_UPLOAD_FAILED": st.FAILED, "FAILED": st.FAILED, "3": st.FAILED}  # fmt: skip
MODEL_ATTRIBUTES = frozenset(
    ("name", "model_id", "source_run_id", "status", "model_type", "creation_timestamp",
     "creation_time", "last_updated_timestamp")
)  # fmt: skip


def is_logged_model(run: RunInfo) -> bool:
    """Whether the run holds an MLflow logged model."""
    return mp.LOGGED_MODEL_TAG in run.tags


def model_json(run: RunInfo) -> dict[str, Any]:
    """A logged model as MLflow's ``LoggedModel`` message."""
    created = mp.millis(run.created_time)
    info = {
        "model_id": run.run_id,
        "experiment_id": run.experiment_id,
        "name": run.tags.get(mp.LOGGED_MODEL_TAG) or "",
        "creation_timestamp_ms": created,
        "last_updated_timestamp_ms": mp.millis(run.end_time) or created,
        "artifact_uri": mp.artifact_uri(run),
        "status": _STATUSES.get(run.status, "LOGGED_MODEL_PENDING"),
        "model_type": run.tags.get(mp.LOGGED_MODEL_TYPE_TAG) or "",
        "source_run_id": run.parent_run_id or "",
        "tags": mp.run_tags_json(run, own_only=True),
    }
    params = [{"key": k, "value": v} for k, v in sorted(run.properties.items())]
    return {"info": info, "data": {"params": params, "metrics": []}}


class MlflowLoggedModels:
    """The logged-model calls of MLflow 3's REST API, answered by ``service``."""

    def __init__(
        self, service: TrackingService, experiments: MlflowExperiments, runs: MlflowRuns
    ) -> None:
        self.service = service
        self.experiments = experiments
        self.runs = runs

    def find(self, body: dict[str, Any]) -> RunInfo:
        model_id = body.get("model_id")
        if not isinstance(model_id, str) or not model_id:
            raise MlflowApiError(
                f"Missing value for required parameter 'model_id'. got {model_id!r}"
            )
        try:
            run = self.service.get_run(model_id)
        except NotFoundError:
            run = None
        if run is None or not is_logged_model(run) or mp.run_lifecycle(run) == mp.DELETED:
            raise not_found(f"Logged model with ID '{model_id}' not found.")
        return run

    def create(self, body: dict[str, Any], user: str | None = None) -> dict[str, Any]:
        """``logged-models`` (POST): a PENDING model of the experiment, logged by a run."""
        experiment = self.experiments.resolve(body.get("experiment_id") or "0")
        name = body.get("name") or f"model-{uuid.uuid4().hex[:8]}"
        tags = pairs(body.get("tags"), "tags")
        refuse_hidden(tags, mp.HIDDEN_RUN_TAGS)
        tags[mp.LOGGED_MODEL_TAG] = str(name)
        if body.get("model_type"):
            tags[mp.LOGGED_MODEL_TYPE_TAG] = str(body["model_type"])
        parent = body.get("source_run_id") or None
        if parent is not None:
            self.runs.find({"run_id": parent})
        now = time.time()
        create = RunCreate(
            run_id=f"m-{uuid.uuid4().hex}", experiment_id=experiment.experiment_id,
            status=st.RUNNING, created_time=now, start_time=now, parent_run_id=parent,
            display_name=str(name), submitted_by=user, tags=dict(tags),
            properties=pairs(body.get("params"), "params"),
        )  # fmt: skip
        self.runs._write(RunChanges(creates=[create]))
        return {"model": model_json(self.service.get_run(create.run_id))}

    def get(self, body: dict[str, Any]) -> dict[str, Any]:
        """``logged-models/{model_id}`` (GET)."""
        return {"model": model_json(self.find(body))}

    def finalize(self, body: dict[str, Any]) -> dict[str, Any]:
        """``logged-models/{model_id}`` (PATCH): READY or UPLOAD_FAILED."""
        run = self.find(body)
        wanted = _FINAL.get(str(body.get("status")))
        if wanted is None:
            raise MlflowApiError(
                f"a logged model is finalized as LOGGED_MODEL_READY or "
                f"LOGGED_MODEL_UPLOAD_FAILED, got {body.get('status')!r}"
            )
        if run.status != wanted:
            self.runs._write(RunChanges(statuses=[StatusChange(run.run_id, wanted, time.time())]))
        return {"model": model_json(self.service.get_run(run.run_id))}

    def delete(self, body: dict[str, Any]) -> dict[str, Any]:
        """``logged-models/{model_id}`` (DELETE): marked deleted, as a deleted run is."""
        run = self.find(body)
        self.runs._write(RunChanges(tags=[TagChange(run.run_id, {mp.LIFECYCLE_TAG: mp.DELETED})]))
        return {}

    def set_tags(self, body: dict[str, Any]) -> dict[str, Any]:
        """``logged-models/{model_id}/tags`` (PATCH)."""
        run = self.find(body)
        tags = pairs(body.get("tags"), "tags")
        refuse_hidden(tags, mp.HIDDEN_RUN_TAGS)
        if tags:
            self.runs._write(RunChanges(tags=[TagChange(run.run_id, dict(tags))]))  # type: ignore[arg-type]
        return {}

    def delete_tag(self, body: dict[str, Any]) -> dict[str, Any]:
        """``logged-models/{model_id}/tags/{tag_key}`` (DELETE)."""
        run = self.find(body)
        key = key_of({"key": body.get("tag_key")})
        refuse_hidden({key: ""}, mp.HIDDEN_RUN_TAGS)
        if key not in run.tags:
            raise not_found(f"No tag with key {key!r} on logged model {run.run_id}")
        self.runs._write(RunChanges(tags=[TagChange(run.run_id, remove=(key,))]))
        return {}

    def log_params(self, body: dict[str, Any]) -> dict[str, Any]:
        """``logged-models/{model_id}/params`` (POST): write-once, as a run's params."""
        run = self.find(body)
        params = pairs(body.get("params"), "params")
        check_params(run, params)
        if params:
            self.runs._write(RunChanges(properties=[PropertyChange(run.run_id, params)]))
        return {}

    def search(self, body: dict[str, Any]) -> dict[str, Any]:
        """``logged-models/search``: the experiments' logged models, filtered on ``name``,
        ``source_run_id``, ``status``, ``tags.<key>`` and ``params.<key>``, newest first."""
        clauses = parse_filter(body.get("filter"), MODEL_ATTRIBUTES)
        order = parse_order_by(_order_terms(body.get("order_by")), MODEL_ATTRIBUTES)
        records: list[dict[str, Any]] = []
        for experiment_id in list_of(body.get("experiment_ids")):
            experiment = self.experiments.resolve(experiment_id)
            found = self.service.search_runs(
                experiment_id=experiment.experiment_id, include_children=True,
                with_definition=False, tags={mp.LOGGED_MODEL_TAG: None},
            )  # fmt: skip
            for run in found:
                if not is_logged_model(run) or mp.run_lifecycle(run) == mp.DELETED:
                    continue
                info = model_json(run)["info"]
                attributes = {k: info.get(k) for k in ("name", "model_id", "source_run_id",
                                                        "status", "model_type")}  # fmt: skip
                created = float(info["creation_timestamp_ms"] or 0)
                attributes.update(creation_timestamp=created, creation_time=created,
                                  last_updated_timestamp=float(
                                      info["last_updated_timestamp_ms"] or 0))  # fmt: skip
                tags = {t["key"]: t["value"] for t in info["tags"]}
                record = {"attributes": attributes, "params": dict(run.properties),
                          "tags": tags, "run": run}  # fmt: skip
                if all(_matches(c, record) for c in clauses):
                    records.append(record)
        default = parse_order_by(["creation_timestamp DESC", "model_id"], MODEL_ATTRIBUTES)
        ordered = sort_records(records, [*order, *default])
        page, token = page_of(ordered, body.get("max_results"), body.get("page_token"), 100, 1000)
        answer: dict[str, Any] = {"models": [model_json(r["run"]) for r in page]}
        if token:
            answer["next_page_token"] = token
        return answer

    def log_outputs(self, body: dict[str, Any]) -> dict[str, Any]:
        """``runs/outputs``: the models a run logged, kept as its reserved tags
        ``mlflow.modelOutput.<model id>`` = step."""
        run = self.runs.find(body)
        tags: dict[str, str | None] = {}
        for item in body.get("models") or []:
            if not isinstance(item, dict) or not item.get("model_id"):
                raise MlflowApiError(
                    f"models must be a list of {{model_id, step}}, got {item!r:.80}"
                )
            tags[f"{mp.MODEL_OUTPUT_PREFIX}{item['model_id']}"] = str(int(item.get("step") or 0))
        if tags:
            self.runs._write(RunChanges(tags=[TagChange(run.run_id, tags)]))
        return {}


def _order_terms(value: object) -> list[str]:
    """MLflow sends logged-model ``order_by`` as ``[{field_name, ascending}]``."""
    if not isinstance(value, list):
        return list_of(value)
    terms: list[str] = []
    for item in value:
        if isinstance(item, dict):
            direction = "ASC" if item.get("ascending", True) else "DESC"
            terms.append(f"{item.get('field_name')} {direction}")
        elif isinstance(item, str):
            terms.append(item)
    return terms


def _matches(clause: Any, record: dict[str, Any]) -> bool:
    if clause.entity not in ("attributes", "params", "tags"):
        raise MlflowApiError(f"logged models are searched by attributes, params and tags, not "
                             f"{clause.entity}")  # fmt: skip
    return matches(clause, record[clause.entity].get(clause.key))
