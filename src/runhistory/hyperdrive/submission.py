"""Submitting a sweep: the parent run (type ``hyperdrive``) and its detached controller.

The parent is created ``Queued`` with the source snapshot, the children's run definition and
the sweep's settings in ``run_definition``; then ``python -m runhistory.hyperdrive.controller
RUN_ID`` starts in a session of its own, so the sweep goes on after the submitting process (a
notebook kernel, a script) ends. The controller's pid goes into ``run_definition["compute"]``
as a local job's supervisor does, so any process on this host can tell a lost controller (the
parent becomes Failed) and ``cancel()`` reaches it.
"""

from __future__ import annotations

import json
import os
import uuid
from typing import TYPE_CHECKING, Any

from runhistory.client.backend import home_folder
from runhistory.compute.definition import COMPUTE, merge_section
from runhistory.compute.detached import start_supervisor
from runhistory.compute.processes import host_name
from runhistory.hyperdrive.suggest import require_optuna
from runhistory.tracking import status as st

if TYPE_CHECKING:
    from runhistory.hyperdrive.config import HyperDriveConfig
    from runhistory.hyperdrive.run import HyperDriveRun
    from runhistory.sdk.experiment import Experiment

HYPERDRIVE_RUN_TYPE = "hyperdrive"
SWEEP = "hyperdrive"
CHILD_DEFINITION = "child_definition"


def submit_sweep(
    config: HyperDriveConfig,
    experiment: Experiment,
    tags: dict[str, str] | None = None,
    **kwargs: Any,
) -> HyperDriveRun:
    """Create the sweep's parent run and start its controller; returns at once."""
    from runhistory.compute import get_target
    from runhistory.compute.envbuild import plan_environment
    from runhistory.hyperdrive.run import HyperDriveRun

    require_optuna()  # fail here, not in the detached controller
    script = config.run_config
    source = script._check()
    child_definition = script._definition()
    backend = experiment.workspace._connection.backend
    target = get_target(script.run_config.target, backend)
    target.validate(child_definition)
    plan_environment(child_definition["environment"]["definition"])
    settings_json = config.to_json()
    info = backend.create_run(
        experiment.id,
        run_id=config.custom_run_id or f"HD_{uuid.uuid4()}",
        status=st.QUEUED,
        run_type=HYPERDRIVE_RUN_TYPE,
        target=target.name or str(script.target),
        tags=tags,
        properties=_parent_properties(settings_json),
        display_name=kwargs.get("display_name"),
        description=kwargs.get("description"),
    )
    run = HyperDriveRun(experiment, info.run_id, hyperdrive_config=config, _info=info)
    try:
        run.take_snapshot(source)
        definition = {SWEEP: settings_json, CHILD_DEFINITION: child_definition}
        backend.update_run(info.run_id, run_definition=definition)
        start_controller(backend, info.run_id, experiment.workspace._connection.location)
    except BaseException as exc:
        error = {"message": f"submitting the sweep failed: {exc}", "code": "SubmissionError"}
        backend.set_status(info.run_id, st.FAILED, error=error)
        raise
    run._refresh()
    return run


def _parent_properties(settings_json: dict[str, Any]) -> dict[str, str]:
    return {
        "primary_metric_config": json.dumps(
            {
                "name": settings_json["primary_metric_name"],
                "goal": settings_json["primary_metric_goal"].lower(),
            }
        ),
        "max_total_jobs": str(settings_json["max_total_runs"]),
        "max_concurrent_jobs": str(settings_json["max_concurrent_runs"]),
        "max_duration_minutes": str(settings_json["max_duration_minutes"]),
        "generator_config": json.dumps(settings_json["sampling"]),
        "policy_config": json.dumps(settings_json["policy"]),
    }


def controller_directory(run_id: str) -> str:
    """Where the controller of a sweep keeps its log and the extracted source."""
    return os.path.join(home_folder(), "jobs", run_id)


def start_controller(backend: Any, run_id: str, location: Any) -> None:
    """Start the sweep's detached controller and record it in the parent's definition."""
    folder = controller_directory(run_id)
    os.makedirs(folder, exist_ok=True)
    merge_section(
        backend,
        run_id,
        COMPUTE,
        {"target": "local", "host": host_name(), "job_directory": folder, "controller": True},
    )
    start_supervisor(  # the controller is no job: it inherits no run identity
        backend, run_id, "runhistory.hyperdrive.controller", folder, location.tracking_uri,
        location.artifact_location, unset=("RUNHISTORY_RUN_ID", "AZUREML_RUN_ID"),
    )  # fmt: skip
