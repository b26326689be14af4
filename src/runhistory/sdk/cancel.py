"""Cancelling and cleaning runs: interactive runs here, submitted jobs through their target."""

from __future__ import annotations

import os
import shutil
import time
from typing import TYPE_CHECKING

from runhistory.tracking import status as st
from runhistory.tracking.entities import RunInfo

if TYPE_CHECKING:
    from runhistory.sdk.run import Run


def _submitted(info: RunInfo) -> bool:
    return bool((info.run_definition or {}).get("compute"))


def cancel_run(run: Run) -> RunInfo:
    """Cancel ``run``; a finished run raises ``InvalidTransitionError``."""
    info = run._backend.get_run(run.id)
    st.check_transition(run.id, info.status, st.CANCELED)
    if _submitted(info):
        from runhistory.compute import request_cancel

        requested: RunInfo = request_cancel(run._backend, info)
        return _wait_canceled(run, requested)
    try:
        run._queue.flush(run_id=run.id)
    finally:
        run._upload_outputs()
    result: RunInfo = run._backend.set_status(run.id, st.CANCELED)
    return result


def _wait_canceled(run: Run, info: RunInfo) -> RunInfo:
    """Wait for the job to stop (the original reports Canceled when cancel() returns).

    The target stops the job within the cancel grace period (SIGTERM, then SIGKILL);
    a few seconds more cover the supervisor's polling.
    """
    from runhistory import settings

    deadline = time.monotonic() + float(settings.get("RUNHISTORY_CANCEL_GRACE_SECONDS")) + 10
    while not st.is_terminal(info.status) and time.monotonic() < deadline:
        time.sleep(0.1)
        info = run._backend.get_run(run.id)
    return info


def clean_run(run: Run) -> list[str]:
    """Delete the local working copy of a submitted run; returns what was removed."""
    info = run._backend.get_run(run.id)
    folder = (info.run_definition or {}).get("compute", {}).get("working_directory")
    if folder and os.path.isdir(folder):
        shutil.rmtree(folder)
        return [folder]
    return []
