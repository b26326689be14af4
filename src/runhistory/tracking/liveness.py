"""How a stored run is shown: a running run whose heartbeat stopped shows NotResponding."""

from __future__ import annotations

import time
from dataclasses import replace

from runhistory.tracking import status as st
from runhistory.tracking.records import RunInfo


def present(run: RunInfo, heartbeat_timeout: float, now: float | None = None) -> RunInfo:
    """``run`` as readers see it: NotResponding when it is Running and its last heartbeat is
    more than ``heartbeat_timeout`` seconds before ``now`` (default: the current time)."""
    beat = run.heartbeat_time
    if run.status != st.RUNNING or beat is None:
        return run
    if (time.time() if now is None else now) - beat > heartbeat_timeout:
        return replace(run, status=st.NOT_RESPONDING)
    return run


def stored_statuses(wanted: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """The stored statuses to query for runs shown in ``wanted`` (sorted): NotResponding is
    derived from a stale heartbeat of a Running run, so it is queried as Running too."""
    if wanted is None:
        return None
    stored = set(wanted)
    if st.NOT_RESPONDING in stored:
        stored.add(st.RUNNING)
    return tuple(sorted(stored))
