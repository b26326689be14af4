"""Waiting for a run to finish, optionally streaming its log."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

from runhistory.errors import NotFoundError
from runhistory.tracking import status as st

if TYPE_CHECKING:
    from runhistory.sdk.run import Run

LOG_FILE = "logs/std_log.txt"
_POLL = 0.25


def wait_for_run(
    run: Run, show_output: bool = False, wait_post_processing: bool = False
) -> dict[str, Any]:
    """Block until ``run`` is terminal; with ``show_output`` print its log as it grows."""
    offset = 0
    if show_output:
        print(f"RunId: {run.id}\nWeb View: {run.get_portal_url()}\n", flush=True)
    while True:
        status = run.get_status()
        if show_output:
            offset = _print_new_log(run, offset)
        if st.is_terminal(status):
            break
        time.sleep(_POLL)
    details = run.get_details()
    if show_output:
        offset = _print_new_log(run, offset)
        _print_summary(run, details)
    return details


def _print_new_log(run: Run, offset: int) -> int:
    try:
        with run._backend.open_file(run.id, LOG_FILE) as handle:
            handle.seek(offset)
            data = handle.read()
    except NotFoundError:
        return offset
    if data:
        if offset == 0:
            print(f"Streaming {LOG_FILE}\n{'=' * (10 + len(LOG_FILE))}\n", flush=True)
        sys.stdout.write(data.decode("utf-8", errors="replace"))
        sys.stdout.flush()
    return offset + len(data)


def _print_summary(run: Run, details: dict[str, Any]) -> None:
    print("\nExecution Summary\n=================", flush=True)
    print(f"RunId: {run.id}\nWeb View: {run.get_portal_url()}", flush=True)
    print(f"Status: {details['status']}", flush=True)
    if "error" in details:
        print(f"Error: {details['error'].get('message')}", flush=True)
