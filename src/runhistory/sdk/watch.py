"""Waiting for a run to finish, optionally streaming its log as it grows."""

from __future__ import annotations

import codecs
import sys
import time
from typing import TYPE_CHECKING, Any

from runhistory.errors import NotFoundError
from runhistory.tracking import status as st

if TYPE_CHECKING:
    from runhistory.sdk.run import Run

LOG_FILE = "logs/std_log.txt"
_POLL = 0.25


class LogTail:
    """Reads what was added to a run file since the last read, as whole UTF-8 characters.

    Each read asks the backend for the bytes after the last offset only (a ``Range`` request
    against a server), so following a long log costs what it grows by.
    """

    def __init__(self, run: Run, name: str = LOG_FILE) -> None:
        self._run = run
        self._name = name
        self.offset = 0
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def read_new(self, final: bool = False) -> str:
        """The text added since the last call ("" if none or the file does not exist yet)."""
        try:
            with self._run._backend.open_file(self._run.id, self._name, self.offset) as handle:
                data = handle.read()
        except NotFoundError:
            data = b""
        self.offset += len(data)
        return self._decoder.decode(data, final=final)


def wait_for_run(
    run: Run, show_output: bool = False, wait_post_processing: bool = False
) -> dict[str, Any]:
    """Block until ``run`` is terminal; with ``show_output`` print its log as it grows."""
    tail = LogTail(run)
    if show_output:
        print(f"RunId: {run.id}\nWeb View: {run.get_portal_url()}\n", flush=True)
    while True:
        status = run.get_status()
        if show_output:
            _print_new_log(tail, final=False)
        if st.is_terminal(status):
            break
        time.sleep(_POLL)
    details = run.get_details()
    if show_output:
        _print_new_log(tail, final=True)
        _print_summary(run, details)
    return details


def _print_new_log(tail: LogTail, final: bool) -> None:
    started = tail.offset > 0
    text = tail.read_new(final=final)
    if text:
        if not started:
            print(f"Streaming {LOG_FILE}\n{'=' * (10 + len(LOG_FILE))}\n", flush=True)
        sys.stdout.write(text)
        sys.stdout.flush()


def _print_summary(run: Run, details: dict[str, Any]) -> None:
    print("\nExecution Summary\n=================", flush=True)
    print(f"RunId: {run.id}\nWeb View: {run.get_portal_url()}", flush=True)
    print(f"Status: {details['status']}", flush=True)
    if "error" in details:
        print(f"Error: {details['error'].get('message')}", flush=True)
