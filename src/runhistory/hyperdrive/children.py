"""Starting one child of a sweep through the compute target its ScriptRunConfig names.

A child is submitted the way ``ScriptRunConfig`` submits a run: created ``Queued`` (here as a
child of the sweep, id ``<sweep id>_<n>``), snapshotted, given its run definition and handed
to the target, so a child runs wherever the script would run on its own.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from runhistory import settings
from runhistory.compute import JobSpec, get_target
from runhistory.errors import RunhistoryError
from runhistory.tracking import status as st
from runhistory.tracking.entities import RunInfo

SCRIPT_RUN_TYPE = "azureml.scriptrun"
HYPERPARAMETERS = "_hyperparameters"  # the values as JSON, with their types


def argument_name(name: str) -> str:
    """The script argument of a hyper-parameter: ``lr`` and ``--lr`` both give ``--lr``."""
    return name if name.startswith("--") else f"--{name}"


def hyperparameter_arguments(values: dict[str, Any]) -> list[str]:
    """``["--name", "value", …]`` in the order of the search space."""
    arguments: list[str] = []
    for name, value in values.items():
        arguments += [argument_name(name), str(value)]
    return arguments


def child_definition(definition: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The sweep's run definition with the child's hyper-parameters added as arguments."""
    child = copy.deepcopy(definition)
    compute = child.setdefault("compute", {})
    extra = hyperparameter_arguments(values)
    compute["arguments"] = [*compute.get("arguments", []), *extra]
    if compute.get("command"):
        compute["command"] = [*compute["command"], *extra]
    child["arguments"] = compute["arguments"]
    return child


def child_properties(values: dict[str, Any]) -> dict[str, str]:
    """One property per hyper-parameter (``--lr`` as ``lr``; what the studio's sweep view
    plots), and all of them as JSON under ``_hyperparameters`` (read back with their types)."""
    properties = {name.lstrip("-"): str(value) for name, value in values.items()}
    properties[HYPERPARAMETERS] = json.dumps(values)
    return properties


def submit_child(
    backend: Any,
    location: Any,
    parent: RunInfo,
    index: int,
    values: dict[str, Any],
    source: str,
    definition: dict[str, Any],
) -> RunInfo:
    """Create child ``index`` of ``parent`` with ``values`` and hand it to its target."""
    child = child_definition(definition, values)
    target = get_target(child["compute"].get("target"), backend)
    info: RunInfo = backend.create_run(
        parent.experiment_id,
        run_id=f"{parent.run_id}_{index}",
        parent_run_id=parent.run_id,
        status=st.QUEUED,
        run_type=SCRIPT_RUN_TYPE,
        target=target.name or str(child["compute"].get("target") or "local"),
        properties=child_properties(values),
    )
    try:
        backend.take_snapshot(
            info.run_id,
            source,
            max_bytes=int(settings.get("RUNHISTORY_SNAPSHOT_MAX_BYTES")),
            max_files=int(settings.get("RUNHISTORY_SNAPSHOT_MAX_FILES")),
        )
        backend.update_run(info.run_id, run_definition=child)
        target.submit(
            backend, JobSpec(info.run_id, location.tracking_uri, location.artifact_location)
        )
    except RunhistoryError as exc:
        error = {"message": f"submitting the child failed: {exc}", "code": "SubmissionError"}
        return backend.set_status(info.run_id, st.FAILED, error=error)  # type: ignore[no-any-return]
    return backend.get_run(info.run_id)  # type: ignore[no-any-return]
