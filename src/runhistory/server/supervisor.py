"""The parent of the server's worker processes: it forks them, replaces one that dies or hangs,
and stops them all.

Each worker is a fork of the parent, so it starts with every module the parent imported; the
parent must hold no thread and no open connection when it forks. Signals to the parent:

- ``SIGINT``/``SIGTERM``: every worker gets ``SIGTERM`` (it finishes the requests in flight);
  the parent returns once all have exited. A second signal kills the workers at once.
- ``SIGHUP``: the workers are replaced one at a time, each by a fresh fork of the parent (new
  database connections and artifact-store clients), the next one only once the new one serves:
  the port keeps answering. It reloads neither code nor options (the fork is of the parent as
  it started): restart the server for those.

Liveness: a worker's event loop calls :func:`beat` (several times a second); it writes to a
pipe the parent reads at most every :attr:`Supervisor.beat_interval` seconds. A worker silent
for ``timeout`` seconds (its loop blocked, or the process stopped) is killed with ``SIGKILL``
and replaced.

A worker that exits while the parent is not stopping is reported on stderr and replaced after
a delay: ``restart_delay`` seconds, doubled after each worker in a row that failed within
``quick_seconds`` of its start (at most :data:`MAX_RESTART_DELAY_SECONDS`). After
``max_quick_failures`` such failures in a row the parent stops the others and raises
:class:`WorkersFailingError` (a worker that cannot start would otherwise be forked forever).
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

from runhistory.errors import RunhistoryError

RESTART_DELAY_SECONDS = 1.0
MAX_RESTART_DELAY_SECONDS = 30.0
QUICK_FAILURE_SECONDS = 10.0
MAX_QUICK_FAILURES = 5
WORKER_TIMEOUT_SECONDS = 30.0
_STOP = (signal.SIGINT, signal.SIGTERM)
_HANDLED = (*_STOP, signal.SIGHUP, signal.SIGCHLD)


class WorkersFailingError(RunhistoryError):
    """The workers kept failing soon after they started: the supervisor gave up."""


class _Heartbeat:
    """The worker's end of its liveness pipe: one byte every ``interval`` seconds at most."""

    def __init__(self, fd: int, interval: float) -> None:
        self.fd = fd
        self.interval = interval
        self.last = 0.0

    def beat(self) -> None:
        now = time.monotonic()
        if now - self.last < self.interval:
            return
        self.last = now
        try:
            os.write(self.fd, b".")
        except (BlockingIOError, BrokenPipeError):  # the parent reads later, or is gone
            pass


_heartbeat: _Heartbeat | None = None  # set in a forked worker


def beat() -> None:
    """Tell the supervisor that this worker is alive (call it often from the worker's event
    loop; it writes at most once per beat interval). Does nothing outside a worker."""
    if _heartbeat is not None:
        _heartbeat.beat()


def exit_forked(status: int) -> NoReturn:
    """End a forked process with ``status``: its buffered output is written first, then it
    exits at once (no ``atexit`` handlers or finalizers of the parent's objects)."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(status)


class Supervisor:
    """Runs ``target`` in ``workers`` forked processes until SIGINT or SIGTERM.

    Args:
        workers: how many worker processes to keep running.
        target: what a worker does; it returns (or raises) when the worker should exit. It
            runs in the forked process with the default signal handlers, and calls
            :func:`beat` while it is alive.
        on_exit: called in the parent with the pid of every worker that exited.
        restart_delay: seconds between a worker's unexpected exit and its replacement (the
            first time; doubled after each worker in a row that failed soon after its start).
        timeout: seconds a worker may stay silent (no :func:`beat`) before it is killed.
        quick_seconds: a worker exiting sooner than this after its start failed at start.
        max_quick_failures: after this many workers in a row failed at start, give up.

    Raises:
        WorkersFailingError: from :meth:`run`, when the workers kept failing at start.
    """

    def __init__(
        self,
        workers: int,
        target: Callable[[], None],
        on_exit: Callable[[int], None] | None = None,
        restart_delay: float = RESTART_DELAY_SECONDS,
        timeout: float = WORKER_TIMEOUT_SECONDS,
        quick_seconds: float = QUICK_FAILURE_SECONDS,
        max_quick_failures: int = MAX_QUICK_FAILURES,
    ) -> None:
        self.workers = workers
        self.target = target
        self.on_exit = on_exit
        self.restart_delay = restart_delay
        self.timeout = timeout
        self.beat_interval = min(5.0, timeout / 5)
        self.quick_seconds = quick_seconds
        self.max_quick_failures = max_quick_failures
        self.children: set[int] = set()
        self.stopping = False
        self.failure: str | None = None  # why the supervisor gave up
        self._signals: deque[int] = deque()
        self._due: list[float] = []  # when to start the replacements of dead workers
        self._retiring: list[int] = []  # workers to replace one by one (SIGHUP)
        self._awaited: int | None = None  # the replacement whose first beat retires the next
        self._quick_failures = 0  # workers in a row that failed soon after their start
        self._started: dict[int, float] = {}
        self._pipes: dict[int, int] = {}  # pid -> read end of its liveness pipe
        self._seen: dict[int, float] = {}  # pid -> when it was last heard of
        self._killed: set[int] = set()  # silent workers killed by the parent
        self._wake_r = self._wake_w = -1

    def run(self) -> None:
        """Fork the workers and supervise them; returns once they all stopped.

        Raises:
            WorkersFailingError: the workers kept failing at start (the others were stopped).
        """
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
                self._kill_silent()
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
            for fd in self._pipes.values():
                os.close(fd)
            self._pipes.clear()
        if self.failure is not None:
            raise WorkersFailingError(self.failure)

    def _note(self, signum: int, frame: FrameType | None) -> None:
        self._signals.append(signum)

    def _fork(self) -> int:
        sys.stdout.flush()  # else the worker would write the parent's buffered output again
        sys.stderr.flush()
        beat_r, beat_w = os.pipe()
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _HANDLED)
        pid = os.fork()
        if pid == 0:
            os.close(beat_r)
            self._work(blocked, beat_w)
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        os.close(beat_w)
        os.set_blocking(beat_r, False)
        now = time.monotonic()
        self.children.add(pid)
        self._pipes[pid] = beat_r
        self._started[pid] = self._seen[pid] = now  # it has ``timeout`` to start serving
        return pid

    def _work(self, mask: set[int | signal.Signals], beat_w: int) -> NoReturn:
        """The forked worker: default signal handling, then ``target``; never returns."""
        global _heartbeat
        status = 1
        try:
            signal.set_wakeup_fd(-1)
            os.close(self._wake_r)
            os.close(self._wake_w)
            for fd in self._pipes.values():  # the other workers' pipes
                os.close(fd)
            os.set_blocking(beat_w, False)
            _heartbeat = _Heartbeat(beat_w, self.beat_interval)
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
            exit_forked(status)

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
            os.close(self._pipes.pop(pid))
            del self._seen[pid]
            lived = time.monotonic() - self._started.pop(pid)
            killed = pid in self._killed
            self._killed.discard(pid)
            if self.on_exit is not None:
                self.on_exit(pid)
            if self.stopping:
                continue
            if pid in self._retiring:
                self._retiring.remove(pid)
                self._awaited = self._fork()  # its first beat retires the next one
                continue
            self._exited(pid, status, lived, killed)

    def _exited(self, pid: int, status: int, lived: float, killed: bool) -> None:
        """An unexpected exit: schedule the replacement, or give up."""
        if pid == self._awaited:  # a SIGHUP's replacement failed: keep the old workers
            self._awaited = None
            self._retiring.clear()
        how = _describe(status)
        if killed:
            how = f"did not answer for {self.timeout:g} s and was killed"
        if lived < self.quick_seconds:
            self._quick_failures += 1
        else:
            self._quick_failures = 0
        if self._quick_failures >= self.max_quick_failures:
            self.failure = (
                f"{self._quick_failures} server workers in a row failed within "
                f"{self.quick_seconds:g} s of their start (the last one {how}); giving up: "
                "see the errors above"
            )
            print(f"runhistory server: {self.failure}", file=sys.stderr, flush=True)
            self.stopping = True
            self._due.clear()
            self._send(signal.SIGTERM)
            return
        delay = min(
            MAX_RESTART_DELAY_SECONDS,
            self.restart_delay * 2 ** max(0, self._quick_failures - 1),
        )
        print(
            f"runhistory server: worker {pid} {how}; starting another in {delay:g} s",
            file=sys.stderr,
            flush=True,
        )
        self._due.append(time.monotonic() + delay)

    def _kill_silent(self) -> None:
        """Kill the workers that were not heard of for :attr:`timeout` seconds."""
        now = time.monotonic()
        for pid, seen in self._seen.items():
            if now - seen > self.timeout and pid not in self._killed:
                self._killed.add(pid)
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

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
        """Sleep until a signal (a worker's exit included), a worker's beat, the next
        replacement or the next liveness deadline; note the beats."""
        if self._signals:
            return
        now = time.monotonic()
        deadlines = [*self._due]
        deadlines += [s + self.timeout for p, s in self._seen.items() if p not in self._killed]
        timeout = max(0.0, min(deadlines) - now) if deadlines else None
        # A beat wakes the parent at most once per beat interval: its pipe is read only then.
        ready, _, _ = select.select([self._wake_r, *self._pipes.values()], [], [], timeout)
        _drain(self._wake_r)
        now = time.monotonic()
        for pid, fd in list(self._pipes.items()):
            if fd in ready and _drain(fd):
                self._seen[pid] = now
                if pid == self._awaited:
                    self._awaited = None
                    self._retire_next()

    def _send(self, signum: int) -> None:
        for pid in list(self.children):
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass


def _drain(fd: int) -> bool:
    """Read everything waiting in the non-blocking ``fd``; whether anything was."""
    got = False
    try:
        while os.read(fd, 512):
            got = True
    except BlockingIOError:
        pass
    return got


def _describe(status: int) -> str:
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with status {code}"
