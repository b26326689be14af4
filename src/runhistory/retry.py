"""The one way runhistory retries: exponential backoff with jitter, bounded by a number of
attempts or by a time budget.

Every retry loop (HTTP requests, metric batches to a server or a store, locked SQLite
transactions, ``runhistory sync``) uses :class:`Backoff` and :func:`retry`, so pauses grow,
are capped, and never synchronise between processes.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    """How long to pause after each failure, and when to give up.

    Args:
        first: the pause after the first failure, in seconds.
        factor: each further pause is this many times the previous one ...
        cap: ... but never longer than this.
        jitter: each pause is stretched by a random factor between 1 and ``1 + jitter``.
        attempts: give up after this many tries in all (None: no limit).
        seconds: give up when the next pause would end later than this after the first try
            (None: no limit).

    Example:
        >>> [round(Backoff(first=0.1, jitter=0).delay(n), 2) for n in (1, 2, 3)]
        [0.1, 0.2, 0.4]
    """

    first: float = 0.1
    factor: float = 2.0
    cap: float = 5.0
    jitter: float = 0.5
    attempts: int | None = None
    seconds: float | None = None

    def delay(self, failures: int) -> float:
        """The pause after ``failures`` failed tries (1 for the first failure)."""
        base = min(self.cap, self.first * self.factor ** max(0, failures - 1))
        return base * (1.0 + random.random() * self.jitter)

    def gives_up(self, failures: int, elapsed: float, pause: float) -> bool:
        """Whether to stop after ``failures`` failed tries, ``elapsed`` seconds in."""
        if self.attempts is not None and failures >= self.attempts:
            return True
        return self.seconds is not None and elapsed + pause > self.seconds


def retry(
    call: Callable[[], T],
    retry_on: Callable[[BaseException], bool],
    backoff: Backoff,
    sleep: Callable[[float], None] | None = None,
) -> T:
    """``call()``, tried again after a pause while it raises an error ``retry_on`` accepts.

    An error with a ``retry_after`` attribute (seconds, e.g. from an HTTP ``Retry-After``)
    makes the pause at least that long (up to ``backoff.cap``). When ``backoff`` gives up,
    the last error propagates; any other error propagates at once.
    """
    started = time.monotonic()
    failures = 0
    while True:
        try:
            return call()
        except Exception as exc:
            if not retry_on(exc):
                raise
            failures += 1
            pause = backoff.delay(failures)
            hint = getattr(exc, "retry_after", None)
            if isinstance(hint, (int, float)) and hint > pause:
                pause = min(float(hint), backoff.cap)
            if backoff.gives_up(failures, time.monotonic() - started, pause):
                raise
            (sleep or time.sleep)(pause)


def on(*kinds: type[BaseException]) -> Callable[[BaseException], bool]:
    """A ``retry_on`` accepting errors of these types."""
    return lambda exc: isinstance(exc, kinds)
