"""Run statuses and the transitions between them."""

from __future__ import annotations

from runhistory.errors import InvalidTransitionError, ValidationError

NOT_STARTED = "NotStarted"
STARTING = "Starting"
PROVISIONING = "Provisioning"
PREPARING = "Preparing"
QUEUED = "Queued"
RUNNING = "Running"
FINALIZING = "Finalizing"
CANCEL_REQUESTED = "CancelRequested"
COMPLETED = "Completed"
FAILED = "Failed"
CANCELED = "Canceled"
NOT_RESPONDING = "NotResponding"

ALL_STATUSES = (
    NOT_STARTED,
    STARTING,
    PROVISIONING,
    PREPARING,
    QUEUED,
    RUNNING,
    FINALIZING,
    CANCEL_REQUESTED,
    COMPLETED,
    FAILED,
    CANCELED,
    NOT_RESPONDING,
)
TERMINAL_STATUSES = (COMPLETED, FAILED, CANCELED)
ACTIVE_STATUSES = tuple(s for s in ALL_STATUSES if s not in TERMINAL_STATUSES)
POST_PROCESSING_STATUSES = (CANCEL_REQUESTED, FINALIZING)
# Statuses a run may be in when it starts running.
STARTABLE_STATUSES = (NOT_STARTED, STARTING, PROVISIONING, PREPARING, QUEUED)


def is_terminal(status: str) -> bool:
    """Whether ``status`` is Completed, Failed or Canceled."""
    return status in TERMINAL_STATUSES


def check_status_name(status: str) -> str:
    """Return ``status`` if it is a known run status, else raise ``ValidationError``."""
    if status not in ALL_STATUSES:
        known = ", ".join(ALL_STATUSES)
        raise ValidationError(f"unknown run status {status!r}; known statuses: {known}")
    return status


def check_transition(run_id: str, current: str, target: str) -> None:
    """Raise ``InvalidTransitionError`` unless a run in ``current`` may move to ``target``."""
    check_status_name(target)
    if is_terminal(current):
        raise InvalidTransitionError(
            f"run {run_id!r} is already {current}; a finished run cannot become {target}",
            run_id=run_id,
            status=current,
            requested=target,
        )
    if target == NOT_STARTED and current != NOT_STARTED:
        raise InvalidTransitionError(
            f"run {run_id!r} is {current}; it cannot go back to {NOT_STARTED}",
            run_id=run_id,
            status=current,
            requested=target,
        )
