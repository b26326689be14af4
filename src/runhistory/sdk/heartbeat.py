"""The heartbeat of an interactive run: while its process lives, the run says so.

A run started with ``experiment.start_logging()`` beats every
``RUNHISTORY_HEARTBEAT_INTERVAL`` seconds until it finishes. When the process is killed the
beats stop, and after ``RUNHISTORY_HEARTBEAT_TIMEOUT`` seconds the server and the studio show
the run as ``NotResponding`` instead of ``Running`` forever.

One daemon thread per process beats for every live run (starting a run only adds it to a
table), so creating thousands of short runs costs no thread each.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from runhistory import settings
from runhistory.errors import RunhistoryError

_log = logging.getLogger(__name__)


@dataclass(eq=False)
class Heartbeat:
    """One run's beat: ``beat`` is called every ``interval`` seconds (the first after one
    interval: a run shorter than that never beats, and stays one transaction) while
    ``alive()`` holds, until :meth:`stop`."""

    run_id: str
    beat: Callable[[], None]
    interval: float
    alive: Callable[[], bool]
    due: float = field(default=0.0)
    _beater: _Beater | None = field(default=None, repr=False)

    def stop(self) -> None:
        """Stop beating (a beat under way finishes; no other follows)."""
        if self._beater is not None:
            self._beater.remove(self)


class _Beater:
    """The process's beating thread and the table of runs it beats for."""

    def __init__(self) -> None:
        self._wake = threading.Condition()
        self._beats: set[Heartbeat] = set()
        self._thread: threading.Thread | None = None
        self._wakes_at = 0.0  # when the thread wakes by itself (monotonic; inf: only if woken)

    def add(self, heartbeat: Heartbeat) -> None:
        with self._wake:
            heartbeat.due = time.monotonic() + heartbeat.interval
            heartbeat._beater = self
            # The thread sleeps until the earliest beat due when it last looked; it needs
            # waking only when this beat is due sooner (the runs of a process share their
            # interval, so a run starting beside others wakes nobody).
            sooner = heartbeat.due < self._wakes_at
            self._beats.add(heartbeat)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="runhistory-heartbeat", daemon=True
                )
                self._thread.start()
            elif sooner:
                self._wakes_at = heartbeat.due
                self._wake.notify()

    def remove(self, heartbeat: Heartbeat) -> None:
        with self._wake:
            self._beats.discard(heartbeat)

    def _due_now(self) -> list[Heartbeat]:
        """Wait until a beat is due; the beats due (empty when none is left to wait for)."""
        with self._wake:
            while True:
                if not self._beats:
                    self._wakes_at = math.inf  # an added beat wakes the thread
                    woken = self._wake.wait(timeout=60)
                    if not woken and not self._beats:  # a minute with no run: the thread ends
                        self._thread = None
                        return []
                    continue
                now = time.monotonic()
                due = [h for h in self._beats if h.due <= now]
                if due:
                    self._wakes_at = 0.0  # beating: what is added meanwhile is seen after
                    for h in due:
                        h.due = now + h.interval
                    return due
                self._wakes_at = min(h.due for h in self._beats)
                self._wake.wait(timeout=self._wakes_at - now)

    def _loop(self) -> None:
        while True:
            due = self._due_now()
            if not due:
                return
            for heartbeat in due:
                with self._wake:
                    if heartbeat not in self._beats:  # stopped while others beat
                        continue
                if not heartbeat.alive():  # the connection was closed: the run is left as it is
                    self.remove(heartbeat)
                    continue
                try:
                    heartbeat.beat()
                except (RunhistoryError, OSError) as exc:  # the next beat tries again
                    _log.debug("heartbeat of %s failed: %s", heartbeat.run_id, exc)
                except Exception as exc:  # the connection was closed: no more beats
                    _log.debug("heartbeat of %s stopped: %s", heartbeat.run_id, exc)
                    self.remove(heartbeat)


_BEATER = _Beater()


def start_heartbeat(beat: Callable[[], None], run_id: str, alive: Callable[[], bool]) -> Heartbeat:
    """A started :class:`Heartbeat` of run ``run_id`` at the configured interval, beating while
    ``alive()`` (its connection is open)."""
    interval = max(0.05, float(settings.get_fast("RUNHISTORY_HEARTBEAT_INTERVAL")))
    heartbeat = Heartbeat(run_id, beat, interval, alive)
    _BEATER.add(heartbeat)
    return heartbeat
