"""Cancelling and cleaning runs: interactive runs here, submitted jobs through their target."""

from __future__ import annotations

import os
import shutil
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

        result: RunInfo = request_cancel(run._backend, info)
        return result
    try:
        run._queue.flush(run_id=run.id)
    finally:
        run._upload_outputs()
    result = run._backend.set_status(run.id, st.CANCELED)
    return result


def clean_run(run: Run) -> list[str]:
    """Delete the local working copy of a submitted run; returns what was removed."""
    info = run._backend.get_run(run.id)
    folder = (info.run_definition or {}).get("compute", {}).get("working_directory")
    if folder and os.path.isdir(folder):
        shutil.rmtree(folder)
        return [folder]
    return []
