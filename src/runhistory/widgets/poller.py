"""The kernel-side thread that refreshes a widget while its run is live.

It reads the run through the SDK every ``interval`` seconds, hands the state to ``publish``
(which sends only what changed to the browser), and ends by itself once the run and all its
children have ended, after one last read. ``stop()`` ends it at once (the widget was closed).
A failed read (a server restarting, say) is shown and retried with a growing delay.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import Any

from runhistory.widgets.collect import is_live

THREAD_PREFIX = "runhistory-widget"
MAX_BACKOFF = 8  # the delay after failures grows up to this many intervals


class Poller:
    """Calls ``collect()`` then ``publish(state)`` until the run ends or :meth:`stop` is called.

    Args:
        name: the run id, for the thread's name.
        collect: reads the state.
        publish: receives each state.
        report: receives ``""`` after a good read, or the error of a failed one.
        done: called once polling has ended, by itself or by :meth:`stop`.
        interval: seconds between two reads (the first read comes after one interval).
        debug: report failures with their traceback.
    """

    def __init__(
        self,
        name: str,
        collect: Callable[[], dict[str, Any]],
        publish: Callable[[dict[str, Any]], None],
        report: Callable[[str], None],
        done: Callable[[], None],
        interval: float,
        debug: bool = False,
    ) -> None:
        self._collect = collect
        self._publish = publish
        self._report = report
        self._done = done
        self._interval = max(0.05, interval)
        self._debug = debug
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name=f"{THREAD_PREFIX}-{name}", daemon=True
        )

    def start(self) -> None:
        """Start polling in the background."""
        self._thread.start()

    @property
    def running(self) -> bool:
        """Whether the thread is still polling."""
        return self._thread.is_alive()

    def stop(self, timeout: float | None = 10.0) -> None:
        """Stop polling and wait (up to ``timeout`` seconds) for the thread to end."""
        self._stopping.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def join(self, timeout: float | None = None) -> bool:
        """Wait until polling has ended by itself; returns whether it has."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _loop(self) -> None:
        try:
            self._poll()
        finally:
            self._done()

    def _poll(self) -> None:
        failures = 0
        while not self._stopping.wait(self._interval * min(2**failures, MAX_BACKOFF)):
            try:
                state = self._collect()
            except Exception as exc:  # shown in the widget; the next read may succeed
                failures += 1
                self._report(self._describe(exc))
                continue
            failures = 0
            if self._stopping.is_set():
                return
            self._publish(state)
            self._report("")
            if not is_live(state):
                return

    def _describe(self, exc: Exception) -> str:
        if self._debug:
            return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        return f"cannot refresh: {type(exc).__name__}: {exc}"
