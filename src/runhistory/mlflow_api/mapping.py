"""How MLflow's records map onto runhistory's, both ways (see docs/mlflow.md).

* experiment names: a name runhistory's rule accepts is kept as it is; any other MLflow name
  (``"Default"`` fits, ``"/Users/me/my exp"`` does not) is stored as ``mlflow-<29 hex digits>``
  of its SHA-256 with the original in the reserved experiment tag ``mlflow.experimentName``,
  so every MLflow name reads back exactly and two names never share an experiment;
* run statuses: RUNNING, SCHEDULED, FINISHED, FAILED and KILLED in both directions;
* MLflow's ``lifecycle_stage`` of a run: the reserved tag ``mlflow.lifecycleStage``.
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any

from runhistory.mlflow_api.errors import MlflowApiError
from runhistory.tracking.entities import ExperimentInfo, RunInfo
from runhistory.tracking.mlflow_names import (
    ACTIVE,
    DEFAULT_EXPERIMENT_ID,
    DEFAULT_EXPERIMENT_NAME,
    DELETED,
    HIDDEN_EXPERIMENT_TAGS,
    HIDDEN_RUN_TAGS,
    LIFECYCLE_TAG,
    LOGGED_MODEL_TAG,
    LOGGED_MODEL_TYPE_TAG,
    MLFLOW_STATUSES,
    MODEL_OUTPUT_PREFIX,
    NAME_TAG,
    PARENT_TAG,
    RUN_NAME_TAG,
    TO_MLFLOW,
    TO_RUNHISTORY,
    USER_TAG,
    hidden_run_tag,
)
from runhistory.tracking.validation.names import _EXPERIMENT_NAME

# The names of MLflow's fields and statuses live in the tracking layer, where the stores'
# MLflow-ordered listings use them too; the MLflow API reads them from here.
__all__ = [
    "ACTIVE",
    "DEFAULT_EXPERIMENT_ID",
    "DEFAULT_EXPERIMENT_NAME",
    "DELETED",
    "HIDDEN_EXPERIMENT_TAGS",
    "HIDDEN_RUN_TAGS",
    "LIFECYCLE_TAG",
    "LOGGED_MODEL_TAG",
    "LOGGED_MODEL_TYPE_TAG",
    "MLFLOW_STATUSES",
    "MODEL_OUTPUT_PREFIX",
    "NAME_TAG",
    "PARENT_TAG",
    "RUN_NAME_TAG",
    "TO_MLFLOW",
    "TO_RUNHISTORY",
    "USER_TAG",
    "hidden_run_tag",
]

_HASHED = re.compile(r"^mlflow-[0-9a-f]{29}$")


def stored_experiment_name(name: object) -> str:
    """The runhistory name under which the MLflow experiment ``name`` is stored."""
    if not isinstance(name, str) or not name:
        raise MlflowApiError(f"experiment names must be non-empty strings, got {name!r:.80}")
    if _EXPERIMENT_NAME.match(name) and not _HASHED.match(name):
        return name
    return "mlflow-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:29]


def needs_name_tag(name: str) -> bool:
    """Whether the MLflow name is stored under another name (and kept in ``NAME_TAG``)."""
    return stored_experiment_name(name) != name


def mlflow_experiment_name(experiment: ExperimentInfo) -> str:
    """The MLflow name of a stored experiment."""
    original = experiment.tags.get(NAME_TAG)
    if original and _HASHED.match(experiment.name):
        return original
    return experiment.name


def mlflow_status(status: str) -> str:
    """The MLflow status of a runhistory status (a run not yet running is SCHEDULED)."""
    return TO_MLFLOW.get(status, "SCHEDULED")


def runhistory_status(status: object) -> str:
    """The runhistory status of an MLflow status name."""
    if status not in TO_RUNHISTORY:
        raise MlflowApiError(
            f"invalid run status {status!r}; MLflow statuses: {', '.join(TO_RUNHISTORY)}"
        )
    return TO_RUNHISTORY[str(status)]


def millis(seconds: float | None) -> int | None:
    """Epoch seconds as MLflow's epoch milliseconds."""
    return None if seconds is None else round(seconds * 1000)


def experiment_json(experiment: ExperimentInfo) -> dict[str, Any]:
    """An experiment as MLflow's ``Experiment`` message."""
    tags = [
        {"key": k, "value": v or ""}
        for k, v in sorted(experiment.tags.items())
        if k not in HIDDEN_EXPERIMENT_TAGS
    ]
    updated = experiment.last_activity_time or experiment.archived_time
    return {
        "experiment_id": experiment.experiment_id,
        "name": mlflow_experiment_name(experiment),
        "artifact_location": f"mlflow-artifacts:/{experiment.experiment_id}",
        "lifecycle_stage": DELETED if experiment.archived_time is not None else ACTIVE,
        "creation_time": millis(experiment.created_time),
        "last_update_time": millis(max(experiment.created_time, updated or 0)),
        "tags": tags,
    }


def artifact_uri(run: RunInfo) -> str:
    """Where MLflow finds a run's artifacts: the server's ``mlflow-artifacts`` proxy."""
    return f"mlflow-artifacts:/{run.experiment_id}/{run.run_id}/artifacts"


def run_lifecycle(run: RunInfo) -> str:
    """``active`` or ``deleted`` (an MLflow delete marks the run, a restore unmarks it)."""
    return DELETED if run.tags.get(LIFECYCLE_TAG) == DELETED else ACTIVE


def run_info_json(run: RunInfo, artifacts: str | None = None) -> dict[str, Any]:
    """A run as MLflow's ``RunInfo`` message."""
    info: dict[str, Any] = {
        "run_id": run.run_id,
        "run_uuid": run.run_id,
        "run_name": run.display_name or "",
        "experiment_id": run.experiment_id,
        "user_id": run.submitted_by or "",
        "status": mlflow_status(run.status),
        "artifact_uri": artifacts or artifact_uri(run),
        "lifecycle_stage": run_lifecycle(run),
    }
    start = millis(run.start_time if run.start_time is not None else run.created_time)
    info["start_time"] = start
    if run.end_time is not None:
        info["end_time"] = millis(run.end_time)
    return info


def model_outputs_json(run: RunInfo) -> list[dict[str, Any]]:
    """The logged models of a run (``runs/outputs``) as MLflow's ``ModelOutput`` messages."""
    return [
        {"model_id": k.removeprefix(MODEL_OUTPUT_PREFIX), "step": int(v or 0)}
        for k, v in sorted(run.tags.items())
        if k.startswith(MODEL_OUTPUT_PREFIX)
    ]


def run_tags_json(run: RunInfo, own_only: bool = False) -> list[dict[str, str]]:
    """A run's tags as MLflow shows them: its own, plus (unless ``own_only``) the name,
    parent and user tags."""
    tags = {k: v or "" for k, v in run.tags.items() if not hidden_run_tag(k)}
    if own_only:
        return [{"key": k, "value": v} for k, v in sorted(tags.items())]
    if run.display_name:
        tags[RUN_NAME_TAG] = run.display_name
    if run.parent_run_id:
        tags[PARENT_TAG] = run.parent_run_id
    if run.submitted_by and USER_TAG not in tags:
        tags[USER_TAG] = run.submitted_by
    return [{"key": k, "value": v} for k, v in sorted(tags.items())]


def metric_value_json(value: Any) -> Any:
    """A stored scalar as MLflow's double (NaN and infinities as protobuf's JSON writes them)."""
    if value is None:
        return "NaN"
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        number = float(value)
        if math.isnan(number):
            return "NaN"
        if math.isinf(number):
            return "Infinity" if number > 0 else "-Infinity"
        return number
    return "NaN"  # a text value logged through runhistory's own SDK has no MLflow double


def parse_metric_value(value: Any, key: str) -> float:
    """MLflow's double from JSON: a number, or ``"NaN"``, ``"Infinity"``, ``"-Infinity"``."""
    if isinstance(value, bool):
        raise MlflowApiError(f"metric {key!r} must have a numeric value, got {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise MlflowApiError(f"metric {key!r} must have a numeric value, got {value!r:.80}")
