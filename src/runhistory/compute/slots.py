"""The local job queue: N lock files, one per concurrent job.

A supervisor holds an exclusive ``flock`` on one of ``slot-0.lock … slot-<N-1>.lock`` while its
job runs. The kernel drops the lock when the process ends, however it ends, so a crashed
supervisor never keeps a slot.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from runhistory.errors import ConfigurationError

_POLL = 0.2


class Slot:
    """A held slot; release it with :meth:`release` (or let the process exit)."""

    def __init__(self, fd: int, index: int) -> None:
        self.fd = fd
        self.index = index

    def release(self) -> None:
        """Give the slot back."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _try_slot(folder: str, index: int) -> Slot | None:
    import fcntl

    fd = os.open(os.path.join(folder, f"slot-{index}.lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return Slot(fd, index)


def acquire_slot(folder: str, max_jobs: int, give_up: Callable[[], bool]) -> Slot | None:
    """Wait for a free slot among ``max_jobs``; None when ``give_up()`` turns true first.

    Raises:
        ConfigurationError: ``max_jobs`` is below 1.
    """
    if max_jobs < 1:
        raise ConfigurationError(f"RUNHISTORY_LOCAL_MAX_JOBS must be at least 1, got {max_jobs}")
    os.makedirs(folder, exist_ok=True)
    while True:
        for index in range(max_jobs):
            slot = _try_slot(folder, index)
            if slot is not None:
                return slot
        if give_up():
            return None
        time.sleep(_POLL)
