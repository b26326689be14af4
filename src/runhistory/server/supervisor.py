"""The parent of the server's worker processes: it forks them, replaces one that dies, and
stops them all.

Each worker is a fork of the parent, so it starts with every module the parent imported; the
parent must hold no thread and no open connection when it forks. Signals to the parent:

- ``SIGINT``/``SIGTERM``: every worker gets ``SIGTERM`` (it finishes the requests in flight);
  the parent returns once all have exited. A second signal kills the workers at once.
- ``SIGHUP``: the workers are replaced one at a time (each by a fresh fork of the parent).

A worker that exits while the parent is not stopping is reported on stderr and replaced after
a short delay (so a worker failing at once does not spin).
"""

from __future__ import annotations

import os
import select
import signal
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable
from types import FrameType
from typing import NoReturn

RESTART_DELAY_SECONDS = 1.0
_STOP = (signal.SIGINT, signal.SIGTERM)
_HANDLED = (*_STOP, signal.SIGHUP, signal.SIGCHLD)


class Supervisor:
    """Runs ``target`` in ``workers`` forked processes until SIGINT or SIGTERM.

    Args:
        workers: how many worker processes to keep running.
        target: what a worker does; it returns (or raises) when the worker should exit. It
            runs in the forked process with the default signal handlers.
        on_exit: called in the parent with the pid of every worker that exited.
        restart_delay: seconds between a worker's unexpected exit and its replacement.
    """

    def __init__(
        self,
        workers: int,
        target: Callable[[], None],
        on_exit: Callable[[int], None] | None = None,
        restart_delay: float = RESTART_DELAY_SECONDS,
    ) -> None:
        self.workers = workers
        self.target = target
        self.on_exit = on_exit
        self.restart_delay = restart_delay
        self.children: set[int] = set()
        self.stopping = False
        self._signals: deque[int] = deque()
        self._due: list[float] = []  # when to start the replacements of dead workers
        self._retiring: list[int] = []  # workers to replace one by one (SIGHUP)
        self._wake_r = self._wake_w = -1

    def run(self) -> None:
        """Fork the workers and supervise them; returns once they all stopped."""
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        previous_wakeup = signal.set_wakeup_fd(self._wake_w)
        previous = {sig: signal.signal(sig, self._note) for sig in _HANDLED}
        try:
            for _ in range(self.workers):
                self._fork()
            while self.children or (self._due and not self.stopping):
                self._wait()
                self._reap()
                self._handle_signals()
                self._start_due()
        finally:
            if self.children:  # an error in the parent: leave no worker behind
                self._send(signal.SIGKILL)
                for pid in self.children:
                    os.waitpid(pid, 0)
            signal.set_wakeup_fd(previous_wakeup)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            os.close(self._wake_r)
            os.close(self._wake_w)

    def _note(self, signum: int, frame: FrameType | None) -> None:
        self._signals.append(signum)

    def _fork(self) -> None:
        sys.stdout.flush()  # else the worker would write the parent's buffered output again
        sys.stderr.flush()
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _HANDLED)
        pid = os.fork()
        if pid == 0:
            self._work(blocked)
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        self.children.add(pid)

    def _work(self, mask: set[int | signal.Signals]) -> NoReturn:
        """The forked worker: default signal handling, then ``target``; never returns."""
        status = 1
        try:
            signal.set_wakeup_fd(-1)
            os.close(self._wake_r)
            os.close(self._wake_w)
            for sig in _HANDLED:
                signal.signal(sig, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            self.target()
            status = 0
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else 1
        except KeyboardInterrupt:
            status = 0
        except BaseException:
            traceback.print_exc()
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(status)

    def _reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.children.clear()
                return
            if pid == 0:
                return
            if pid not in self.children:
                continue
            self.children.discard(pid)
            if self.on_exit is not None:
                self.on_exit(pid)
            if self.stopping:
                continue
            if pid in self._retiring:
                self._retiring.remove(pid)
                self._fork()
                self._retire_next()
                continue
            print(
                f"runhistory server: worker {pid} {_describe(status)}; "
                f"starting another in {self.restart_delay:g} s",
                file=sys.stderr,
                flush=True,
            )
            self._due.append(time.monotonic() + self.restart_delay)

    def _handle_signals(self) -> None:
        while self._signals:
            signum = self._signals.popleft()
            if signum in _STOP:
                if self.stopping:  # asked twice: do not wait for requests in flight
                    self._send(signal.SIGKILL)
                else:
                    self.stopping = True
                    self._due.clear()
                    self._send(signal.SIGTERM)
            elif signum == signal.SIGHUP and not self.stopping and not self._retiring:
                self._retiring = sorted(self.children)
                self._retire_next()

    def _retire_next(self) -> None:
        while self._retiring:
            if self._retiring[0] in self.children:
                os.kill(self._retiring[0], signal.SIGTERM)
                return
            self._retiring.pop(0)

    def _start_due(self) -> None:
        now = time.monotonic()
        for when in [t for t in self._due if t <= now]:
            self._due.remove(when)
            self._fork()

    def _wait(self) -> None:
        """Sleep until a signal (a worker's exit included) or the next replacement is due."""
        if self._signals:
            return
        timeout = max(0.0, min(self._due) - time.monotonic()) if self._due else None
        select.select([self._wake_r], [], [], timeout)
        try:
            while os.read(self._wake_r, 512):
                pass
        except BlockingIOError:
            pass

    def _send(self, signum: int) -> None:
        for pid in list(self.children):
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass


def _describe(status: int) -> str:
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with status {code}"
