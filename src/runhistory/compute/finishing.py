"""Finishing a submitted run from outside its job: what every compute target does alike.

A target asks for a cancel (``CancelRequested``), and ends a run whose job is gone without
ending it: Canceled when a cancel was pending, else Failed with the target's error. The run may
have finished properly meanwhile (another process, the job's last status change): a status
change refused for a finished run then leaves the run as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runhistory.errors import InvalidTransitionError
from runhistory.tracking import status as st
from runhistory.tracking.entities import RunInfo


def set_final(backend: Any, run_id: str, status: str, error: dict[str, Any] | None) -> RunInfo:
    """Set a terminal ``status``; the run as it is if it has finished meanwhile."""
    try:
        info: RunInfo = backend.set_status(run_id, status, error=error)
    except InvalidTransitionError:
        info = backend.get_run(run_id)
    return info


def request_cancel(backend: Any, run_id: str) -> tuple[RunInfo, bool]:
    """Set ``CancelRequested``: the run and True, or the run and False when it cannot be set
    (a cancel already pending).

    Raises:
        InvalidTransitionError: the run has already finished.
    """
    try:
        info: RunInfo = backend.set_status(run_id, st.CANCEL_REQUESTED)
    except InvalidTransitionError:
        latest: RunInfo = backend.get_run(run_id)
        if st.is_terminal(latest.status):
            raise
        return latest, False
    return info, True


def finish_lost_run(
    backend: Any,
    run_id: str,
    error: dict[str, Any],
    canceled: bool = False,
    stop_job: Callable[[], None] | None = None,
) -> RunInfo:
    """End a run whose job ended without ending it: Canceled if ``canceled`` or a cancel was
    pending, else Failed with ``error``; the run as it is if it has finished properly meanwhile.

    ``stop_job`` is called (once the run is known not to have finished) to stop what is left of
    the job.
    """
    latest: RunInfo = backend.get_run(run_id)  # it may have just finished properly
    if st.is_terminal(latest.status):
        return latest
    if stop_job is not None:
        stop_job()
    if canceled or latest.status == st.CANCEL_REQUESTED:
        return set_final(backend, run_id, st.CANCELED, None)
    return set_final(backend, run_id, st.FAILED, error)
