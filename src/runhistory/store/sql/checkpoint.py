"""Checkpoints of SQLite's write-ahead log, off the write path.

In WAL mode with ``synchronous=NORMAL`` a commit appends pages to the log without waiting for
the disk; the disk waits happen at checkpoints, when the log is copied into the database file
and both are synced. SQLite runs a checkpoint inside the commit that fills the log past its
threshold, so every few dozen runs one commit paid several milliseconds of ``fsync``
(measured: 133 µs per commit on average with automatic checkpoints, 55 µs without). Here a
background thread checkpoints instead (``PASSIVE``: it never blocks readers or writers), woken
by the store's hot write path and at least every second; the automatic checkpoint stays as a
backstop at a higher threshold, for processes that write without one of these threads.

SQLite starts the log over only when a checkpoint has caught up with it at the moment a write
begins, which a checkpoint running beside a busy writer rarely has. So the writer catches up
itself, after a commit that follows a background checkpoint: only the frames written meanwhile
are left, a small copy, but two syncs. It does so once every :data:`COMMITS_PER_CATCH_UP`
commits, not after every background checkpoint: catching up after each (every 64 commits)
cost B3's run loop 7-9 % of its time, mostly waiting for those syncs, and the log now grows
to about 256 commits (~15 MB for B3's runs) before it starts over. The background checkpoints
in between keep syncing the log every 64 commits, so what a power loss can take is unchanged.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

from runhistory.forking import reset_in_child

# Automatic checkpoint threshold of every connection (pages of the log): the backstop.
BACKSTOP_PAGES = 10_000
# Commits of the hot path between two wake-ups of the checkpointer.
COMMITS_PER_CHECKPOINT = 64
# Commits of the hot path at least between two catch-ups of the writer (see catch_up).
COMMITS_PER_CATCH_UP = 256
_IDLE_SECONDS = 1.0


class Checkpointer:
    """A daemon thread that checkpoints one SQLite database file.

    Args:
        path: the database file.
        busy_timeout_ms: how long the checkpointer's connection waits for a lock.
    """

    def __init__(self, path: str, busy_timeout_ms: int) -> None:
        self._path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._commits = 0
        self._since_catch_up = 0  # commits since the writer last caught up
        self._closed = False
        self._start_lock = threading.Lock()
        self._caught_up = threading.Event()  # set: the thread checkpointed since the writer did
        reset_in_child(self, Checkpointer._forget_after_fork)

    def committed(self) -> bool:
        """Count a commit; every :data:`COMMITS_PER_CHECKPOINT` commits, wake the thread.

        Returns whether the caller should now checkpoint the rest itself (see
        :func:`catch_up`): the thread checkpointed since the caller last did, and
        :data:`COMMITS_PER_CATCH_UP` commits have passed since.
        """
        self._commits += 1
        self._since_catch_up += 1
        if self._thread is None:
            self._start()
        if self._commits >= COMMITS_PER_CHECKPOINT:
            self._commits = 0
            self._wake.set()
        if self._since_catch_up >= COMMITS_PER_CATCH_UP and self._caught_up.is_set():
            self._caught_up.clear()
            self._since_catch_up = 0
            return True
        return False

    def close(self) -> None:
        """Stop the thread (it runs one last checkpoint)."""
        self._closed = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._run, name="runhistory-wal-checkpoint", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error:
            return  # the automatic checkpoint still runs
        try:
            conn.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
            while True:
                self._wake.wait(_IDLE_SECONDS)
                self._wake.clear()
                try:
                    busy, log, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    if not busy and log > 0 and done > 0:
                        self._caught_up.set()
                except sqlite3.Error:
                    pass  # busy or gone: the next round, or the backstop, checkpoints
                if self._closed:
                    return
        finally:
            conn.close()

    @staticmethod
    def catch_up(dbapi_connection: Any) -> None:
        """Checkpoint what is left on the writer's own connection (outside a transaction)."""
        try:
            dbapi_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error:
            pass

    def _forget_after_fork(self) -> None:
        # The thread does not exist in a forked child; its connection must not be used there.
        self._thread = None
        self._wake = threading.Event()
        self._start_lock = threading.Lock()
        self._commits = self._since_catch_up = 0
        self._caught_up = threading.Event()
