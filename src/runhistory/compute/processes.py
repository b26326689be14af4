"""Telling whether a recorded process is still the one we started, and signalling groups."""

from __future__ import annotations

import os
import signal
import socket


def host_name() -> str:
    """This machine's name, recorded next to pids (a pid means nothing on another host)."""
    return socket.gethostname()


def start_ticks(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks since boot, Linux), or None if unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def pid_alive(pid: int | None, started: int | None = None) -> bool:
    """Whether ``pid`` runs and (when ``started`` is known) is the same process as recorded.

    A zombie (exited, not yet reaped) counts as gone; so does a pid reused by a later process.
    """
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    if _is_zombie(pid):
        return False
    if started is not None:
        current = start_ticks(pid)
        if current is not None and current != started:
            return False
    return True


def signal_group(pgid: int, signum: int = signal.SIGTERM) -> bool:
    """Send ``signum`` to process group ``pgid``; False if the group is gone."""
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        return False
    return True
