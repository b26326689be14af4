"""Records of runs about to be written: new runs and their ids, field checks, status moves,
and the errors of refused changes. Shared by the service and the SDK (runs written behind).
"""

from __future__ import annotations

import getpass
import os
import time
from functools import cache
from typing import Any

from runhistory.errors import (
    InvalidTransitionError,
    PropertyImmutableError,
    RunhistoryError,
    ValidationError,
)
from runhistory.tracking import status as st
from runhistory.tracking.entities import Refusal, RunCreate, RunInfo, StatusWrite
from runhistory.tracking.validation import (
    check_optional_text,
    check_properties,
    check_tags,
    check_text,
)


def new_run_id(prefix: str) -> str:
    """A run id in the original SDK's style: ``<prefix>_<unix time>_<16 hex digits>``.

    The 64 random bits make a clash impossible in practice: among a million runs made in the
    same second, two share an id with a probability of about 3 in 100 million.
    """
    return f"{prefix}_{int(time.time())}_{os.urandom(8).hex()}"


def check_run_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Refuse run fields of the wrong type or breaking the text rule (``None`` clears)."""
    for name, value in fields.items():
        check_run_field(name, value)
    return fields


def check_run_field(name: str, value: Any) -> None:
    """Refuse one run field of the wrong type or breaking the text rule (``None`` clears)."""
    if name == "run_definition":
        if value is not None and not isinstance(value, dict):
            raise ValidationError(
                f"run_definition must be a dict, got {type(value).__name__}", field=name
            )
    elif name == "target":
        check_text(value, name, 255)
    else:
        check_optional_text(value, name)


@cache
def current_user() -> str:
    """Who is submitting, for ``submittedBy`` (looked up once per process)."""
    try:
        return getpass.getuser()
    except Exception:
        return os.environ.get("USER", "unknown")


def new_run(
    experiment_id: str,
    experiment_name: str,
    status: str,
    run_id: str | None = None,
    parent_run_id: str | None = None,
    display_name: str | None = None,
    description: str | None = None,
    run_type: str = "experimentrun",
    target: str = "local",
    tags: object = None,
    properties: object = None,
    run_definition: dict[str, Any] | None = None,
    submitted_by: str | None = None,
) -> RunCreate:
    """A run about to be created: its id (made here unless given), creation and start times,
    who submits it (default: this process's user), and its checked fields, tags and
    properties."""
    st.check_status_name(status)
    check_run_field("display_name", display_name)  # check_run_fields' rules, no dict built
    check_run_field("description", description)
    check_run_field("target", target)
    check_run_field("run_definition", run_definition)
    check_text(run_type, "run_type", 255)
    if run_id is not None:
        check_text(run_id, "run_id", 255)
    now = time.time()
    return RunCreate(
        run_id=run_id or new_run_id(parent_run_id or experiment_name),
        experiment_id=experiment_id,
        status=status,
        created_time=now,
        parent_run_id=parent_run_id,
        display_name=display_name,
        description=description,
        run_type=run_type,
        target=target,
        submitted_by=check_optional_text(submitted_by, "submitted_by", 255) or current_user(),
        start_time=now if status == st.RUNNING else None,
        run_definition=run_definition or None,
        tags=check_tags(tags) if tags else {},
        properties=check_properties(properties) if properties else {},
    )


def pending_info(create: RunCreate, experiment_name: str) -> RunInfo:
    """What a run queued for creation will be once stored (``number`` is 0 until then)."""
    return RunInfo.of(
        {
            "run_id": create.run_id, "experiment_id": create.experiment_id,
            "experiment_name": experiment_name, "number": 0, "status": create.status,
            "created_time": create.created_time, "parent_run_id": create.parent_run_id,
            "root_run_id": None, "display_name": create.display_name,
            "description": create.description, "run_type": create.run_type,
            "target": create.target, "submitted_by": create.submitted_by,
            "start_time": create.start_time, "end_time": None, "heartbeat_time": None,
            "snapshot_id": None, "error": None, "run_definition": create.run_definition,
            "tags": dict(create.tags), "properties": dict(create.properties),
        }
    )  # fmt: skip


def property_conflict(
    run_id: str, key: str, current: str, wanted: str | None
) -> PropertyImmutableError:
    """The error for re-adding a property with another value."""
    return PropertyImmutableError(
        f"property {key!r} of run {run_id!r} is already {current!r}; "
        f"properties cannot be changed (tried {wanted!r}); use a tag for mutable values",
        key=key,
        run_id=run_id,
    )


def status_write(
    run_id: str, status: str, at: float, error: dict[str, Any] | None = None
) -> StatusWrite:
    """How the store applies a move to ``status`` at time ``at``: from which statuses, with
    which fields (a start time when running or finished, an end time when finished)."""
    st.check_status_name(status)
    fields: dict[str, Any] = {}
    if status == st.RUNNING or st.is_terminal(status):
        fields["start_time"] = at  # kept by the store when the run started before
    if st.is_terminal(status):
        fields["end_time"] = at
    if error is not None:
        fields["error"] = error
    expected = (st.NOT_STARTED,) if status == st.NOT_STARTED else st.ACTIVE_STATUSES
    return StatusWrite(run_id, expected, status, fields)


def refusal_error(refusal: Refusal) -> RunhistoryError:
    """The error of a change the store refused (``fields["run_id"]`` names its run)."""
    if refusal.what == "property":
        assert refusal.key is not None and refusal.current is not None
        return property_conflict(refusal.run_id, refusal.key, refusal.current, refusal.wanted)
    try:
        st.check_transition(refusal.run_id, refusal.current or "", refusal.wanted or "")
    except RunhistoryError as exc:
        exc.fields.setdefault("run_id", refusal.run_id)
        return exc
    return InvalidTransitionError(
        f"run {refusal.run_id!r} is {refusal.current}; it cannot become {refusal.wanted} now",
        run_id=refusal.run_id,
    )
