"""The JSON forms of runs, experiments and models the commands print, with stable keys.

Listings never carry a run's full definition or environment; ``run show`` adds a few fields
to the listing form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runhistory.cli.output import Columns

if TYPE_CHECKING:
    from runhistory.sdk.experiment import Experiment
    from runhistory.sdk.model import Model
    from runhistory.sdk.run import Run
    from runhistory.tracking.entities import RunInfo

RUN_COLUMNS = Columns(
    pairs=(
        ("Run ID", "runId"),
        ("Experiment", "experiment"),
        ("#", "number"),
        ("Name", "displayName"),
        ("Status", "status"),
        ("Started (UTC)", "startTimeUtc"),
        ("Ended (UTC)", "endTimeUtc"),
        ("Tags", "tags"),
    )
)
EXPERIMENT_COLUMNS = Columns(
    pairs=(
        ("Name", "name"),
        ("ID", "experimentId"),
        ("Archived", "archived"),
        ("Created (UTC)", "createdTimeUtc"),
        ("Last activity (UTC)", "lastActivityTimeUtc"),
        ("Tags", "tags"),
    )
)
MODEL_COLUMNS = Columns(
    pairs=(
        ("Name", "name"),
        ("Version", "version"),
        ("Framework", "framework"),
        ("Run ID", "runId"),
        ("Experiment", "experimentName"),
        ("Created (UTC)", "createdTime"),
        ("Tags", "tags"),
    )
)


def _seconds(value: float | None) -> str | None:
    from runhistory.sdk.timefmt import iso_utc

    return iso_utc(value)


def run_record(run: Run) -> dict[str, Any]:
    """A run as listings show it.

    Uses the record the run was loaded with, so listing N runs costs no further queries.
    """
    return run_info_record(run._info)


def run_info_record(info: RunInfo) -> dict[str, Any]:
    """A run record (as the store or a server gives it) as listings show it."""
    return {
        "runId": info.run_id,
        "experiment": info.experiment_name,
        "number": info.number,
        "displayName": info.display_name,
        "status": info.status,
        "type": info.run_type,
        "parentRunId": info.parent_run_id,
        "startTimeUtc": _seconds(info.start_time),
        "endTimeUtc": _seconds(info.end_time),
        "tags": dict(info.tags),
        "properties": dict(info.properties),
        "target": info.target,
        "submittedBy": info.submitted_by,
        "error": info.error,
    }


def run_detail(run: Run) -> dict[str, Any]:
    """A run as ``run show`` prints it: the listing form plus description, timing and links."""
    info = run._info
    record = run_record(run)
    record.update(
        description=info.description,
        createdTimeUtc=_seconds(info.created_time),
        snapshotId=info.snapshot_id,
        portalUrl=run.get_portal_url(),
    )
    return record


def experiment_record(experiment: Experiment) -> dict[str, Any]:
    """An experiment as listings show it."""
    info = experiment._info
    return {
        "experimentId": info.experiment_id,
        "name": info.name,
        "archived": info.archived_time is not None,
        "archivedTimeUtc": _seconds(info.archived_time),
        "createdTimeUtc": _seconds(info.created_time),
        "lastActivityTimeUtc": _seconds(info.last_activity_time),
        "tags": dict(info.tags),
    }


def model_record(model: Model) -> dict[str, Any]:
    """A registered model version as listings show it (the SDK's serialized form)."""
    return model.serialize()
