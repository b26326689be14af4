"""The names MLflow gives to run and experiment fields that runhistory keeps in tags, and
MLflow's run statuses, shared by the MLflow API and the stores' MLflow-ordered listings.

These are data conventions of MLflow's records (see docs/mlflow.md), not behaviour: the
mapping of whole records lives in :mod:`runhistory.mlflow_api.mapping`.
"""

from __future__ import annotations

from runhistory.tracking import status as st

NAME_TAG = "mlflow.experimentName"
LIFECYCLE_TAG = "mlflow.lifecycleStage"
RUN_NAME_TAG = "mlflow.runName"
PARENT_TAG = "mlflow.parentRunId"
USER_TAG = "mlflow.user"
LOGGED_MODEL_TAG = "mlflow.loggedModel"  # marks a run that holds an MLflow 3 logged model
LOGGED_MODEL_TYPE_TAG = "mlflow.loggedModel.type"
MODEL_OUTPUT_PREFIX = "mlflow.modelOutput."  # + model id = step: the models a run logged
DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"
ACTIVE = "active"
DELETED = "deleted"
# Tags the mapping itself keeps: never shown to MLflow as tags, never set through it.
HIDDEN_EXPERIMENT_TAGS = frozenset((NAME_TAG,))
HIDDEN_RUN_TAGS = frozenset((LIFECYCLE_TAG, LOGGED_MODEL_TAG, LOGGED_MODEL_TYPE_TAG))

TO_RUNHISTORY = {
    "RUNNING": st.RUNNING,
    "SCHEDULED": st.QUEUED,
    "FINISHED": st.COMPLETED,
    "FAILED": st.FAILED,
    "KILLED": st.CANCELED,
}
TO_MLFLOW = {
    st.COMPLETED: "FINISHED",
    st.FAILED: "FAILED",
    st.CANCELED: "KILLED",
    st.RUNNING: "RUNNING",
    st.FINALIZING: "RUNNING",
    st.CANCEL_REQUESTED: "RUNNING",
    st.NOT_RESPONDING: "RUNNING",
}
MLFLOW_STATUSES = tuple(TO_MLFLOW.items())  # (runhistory status, MLflow status); else SCHEDULED


def hidden_run_tag(key: str) -> bool:
    """Whether a run tag is kept by the mapping itself (never shown to MLflow as a tag)."""
    return key in HIDDEN_RUN_TAGS or key.startswith(MODEL_OUTPUT_PREFIX)
