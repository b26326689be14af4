"""The heartbeat of an interactive run: while its process lives, the run says so.

A run started with ``experiment.start_logging()`` beats every
``RUNHISTORY_HEARTBEAT_INTERVAL`` seconds from a daemon thread until it finishes. When the
process is killed the beats stop, and after ``RUNHISTORY_HEARTBEAT_TIMEOUT`` seconds the
server and the studio show the run as ``NotResponding`` instead of ``Running`` forever.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from runhistory import settings
from runhistory.errors import RunhistoryError

_log = logging.getLogger(__name__)


class Heartbeat:
    """Calls ``beat`` every ``interval`` seconds until :meth:`stop` (the first after one
    interval: a run shorter than that never beats, and stays one transaction)."""

    def __init__(
        self, beat: Callable[[], None], interval: float, name: str, alive: Callable[[], bool]
    ) -> None:
        self._beat = beat
        self._alive = alive
        self._interval = max(0.05, interval)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> Heartbeat:
        """Start beating (returns itself)."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop beating (a beat under way finishes; no other follows)."""
        self._stopped.set()

    def _loop(self) -> None:
        while not self._stopped.wait(self._interval):
            if not self._alive():  # the connection was closed: the run is left as it is
                return
            try:
                self._beat()
            except (RunhistoryError, OSError) as exc:  # the next beat tries again
                _log.debug("heartbeat failed: %s", exc)
            except Exception as exc:  # the connection was closed: no more beats
                _log.debug("heartbeat stopped: %s", exc)
                return


def start_heartbeat(beat: Callable[[], None], run_id: str, alive: Callable[[], bool]) -> Heartbeat:
    """A started :class:`Heartbeat` of run ``run_id`` at the configured interval, beating while
    ``alive()`` (its connection is open)."""
    interval = float(settings.get("RUNHISTORY_HEARTBEAT_INTERVAL"))
    return Heartbeat(beat, interval, f"runhistory-heartbeat-{run_id}", alive).start()
