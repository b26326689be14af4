"""The MLflow variables of a submitted job: MLflow calls in the script log to the job's run.

As on the original service, a job's ``mlflow.log_metric(...)``, ``mlflow.autolog()`` and
``mlflow.start_run()`` need no set-up: ``MLFLOW_TRACKING_URI`` names the job's workspace (the
server's URL, or ``runhistory:<tracking uri>`` for an embedded one, as
``Workspace.get_mlflow_tracking_uri()`` answers) and ``MLFLOW_RUN_ID`` the job's run, which
MLflow's first ``start_run()`` then resumes. Variables the environment already sets are kept;
an environment that sends MLflow elsewhere gets none.
"""

from __future__ import annotations

from collections.abc import Mapping

from runhistory import settings
from runhistory.client.location import resolve_location


def mlflow_uri(tracking_uri: str) -> str:
    """The MLflow tracking URI of the workspace at ``tracking_uri``."""
    if resolve_location(tracking_uri).kind == "remote":
        return tracking_uri
    return f"runhistory:{tracking_uri}"


def mlflow_variables(run_id: str, present: Mapping[str, str]) -> dict[str, str]:
    """The variables to add for run ``run_id`` to a job environment holding ``present``."""
    uri = present.get("RUNHISTORY_TRACKING_URI") or settings.get("RUNHISTORY_TRACKING_URI")
    if not uri:
        return {}  # no workspace named: MLflow keeps its own default
    ours = mlflow_uri(str(uri))
    if present.get("MLFLOW_TRACKING_URI", ours) != ours:
        return {}  # the environment sends MLflow elsewhere: the job's run is not there
    wanted = {"MLFLOW_TRACKING_URI": ours, "MLFLOW_RUN_ID": run_id}
    token = present.get("RUNHISTORY_TRACKING_TOKEN")
    if token:
        wanted["MLFLOW_TRACKING_TOKEN"] = token
    return {name: value for name, value in wanted.items() if not present.get(name)}
