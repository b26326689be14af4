"""Sampling system metrics for the runs of a process, and logging them through each run's queue.

One background thread per process (the :class:`Hub`) reads the machine's figures every
``RUNHISTORY_SYSTEM_METRICS_INTERVAL`` seconds and hands them to every run being monitored
(a :class:`SystemMonitor` each), which logs them with the run's ordinary ``log``: the values
go through the metric queue with the user's own. Starting or stopping a run's monitor costs no
thread and no reading; a monitor logs nothing once ``stop()`` returned. The thread is a daemon,
stops sampling at the interpreter's exit, and any failure while sampling only ends the
sampling (one line on stderr), never a run.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any

from runhistory import settings
from runhistory.errors import ConfigurationError

PREFIX = "system/"
# This process's id, kept up to date in a forked child: read by every run's monitor (four
# ``os.getpid()`` system calls a run otherwise).
_pid = os.getpid()


def _after_fork_in_child() -> None:
    global _pid
    _pid = os.getpid()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

Log = Callable[[str, float], None]


def metric_prefix(environ: Mapping[str, str] | None = None) -> str:
    """``system/``, or ``system/node<N>/rank<R>/`` in a distributed job (``NODE_RANK``, ``RANK``).

    Each process of a distributed job samples its own figures; the prefix keeps them apart.
    """
    env = os.environ if environ is None else environ
    node, rank = env.get("NODE_RANK", "").strip(), env.get("RANK", "").strip()
    prefix = PREFIX
    if node:
        prefix += f"node{node}/"
    if rank:
        prefix += f"rank{rank}/"
    return prefix


def interval_seconds() -> float:
    """The sampling interval setting, checked.

    Raises:
        ConfigurationError: the interval is not a positive number.
    """
    interval = float(settings.get_fast("RUNHISTORY_SYSTEM_METRICS_INTERVAL"))
    if not interval > 0:
        raise ConfigurationError(
            f"RUNHISTORY_SYSTEM_METRICS_INTERVAL must be a positive number of seconds, got "
            f"{interval}; to turn system metrics off set RUNHISTORY_SYSTEM_METRICS=false"
        )
    return interval


def enabled(wanted: bool | None) -> bool:
    """Whether to sample: ``wanted`` when given, else the ``RUNHISTORY_SYSTEM_METRICS`` setting."""
    return bool(settings.get_fast("RUNHISTORY_SYSTEM_METRICS")) if wanted is None else bool(wanted)


def check_settings(wanted: bool | None) -> bool:
    """Whether to sample; raises ``ConfigurationError`` now if on with a bad interval setting."""
    on = enabled(wanted)
    if on:
        interval_seconds()
    return on


def start_monitor(log: Log, wanted: bool | None = None) -> SystemMonitor | None:
    """Start monitoring into ``log`` unless turned off; returns the monitor (or None).

    Args:
        log: the run's ``log``.
        wanted: True or False as :func:`check_settings` decided, or None to read the settings.
    """
    if wanted is None:
        wanted = check_settings(None)
    if not wanted:
        return None
    monitor = SystemMonitor(log)
    monitor.start()
    return monitor


def _default_sampler() -> Any:
    import psutil  # imported here, in the sampling thread: `import runhistory` stays fast

    from runhistory.sysmetrics.gpu import GpuReader
    from runhistory.sysmetrics.sampler import Sampler

    return Sampler(psutil, GpuReader.open())


class Hub:
    """The thread sampling for every monitored run of the process.

    Args:
        make_sampler: builds the sampler, in the thread (psutil and NVML load there once).
        interval: gives the seconds to wait before each sample (read again each time).
    """

    def __init__(
        self,
        make_sampler: Callable[[], Any] = _default_sampler,
        interval: Callable[[], float] = interval_seconds,
    ) -> None:
        self._make_sampler = make_sampler
        self._interval = interval
        self._monitors: dict[SystemMonitor, None] = {}  # in order of joining; O(1) to leave
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.pid = _pid
        self.prefix = metric_prefix()  # read once: a process keeps its node and rank
        self.error: BaseException | None = None

    def add(self, monitor: SystemMonitor) -> None:
        """Sample for ``monitor`` from the next interval on (the thread starts on first use)."""
        with self._lock:
            if self.error is not None:
                monitor._failed(self.error)
                return
            self._monitors[monitor] = None
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="runhistory-system-metrics", daemon=True
                )
                self._thread.start()

    def remove(self, monitor: SystemMonitor) -> None:
        """Stop sampling for ``monitor``."""
        with self._lock:
            self._monitors.pop(monitor, None)

    def close(self) -> None:
        """Stop sampling for everyone (at the interpreter's exit)."""
        self._stop.set()
        with self._lock:
            monitors, self._monitors = list(self._monitors), {}
        for monitor in monitors:
            monitor.stop()

    def _run(self) -> None:
        try:
            sampler = self._make_sampler()
            baseline = sampler.baseline()
            interval = self._interval()
            while not self._stop.wait(interval):
                with self._lock:
                    monitors = list(self._monitors)
                if monitors:
                    values = sampler.sample(baseline)
                    for monitor in monitors:
                        monitor._deliver(values)
                try:
                    interval = self._interval()
                except ConfigurationError:
                    pass  # keep the last good interval; start_logging says what is wrong
        except Exception as exc:  # sampling must never break a run: it just ends
            print(
                f"runhistory: system metrics stopped: {type(exc).__name__}: {exc}",
                file=sys.stderr,
            )
            with self._lock:
                self.error = exc
                monitors, self._monitors = list(self._monitors), {}
            for monitor in monitors:
                monitor._failed(exc)


_hub: Hub | None = None
_hub_lock = threading.Lock()


def process_hub() -> Hub:
    """The sampling thread of this process (a forked child gets its own)."""
    global _hub
    hub = _hub
    if hub is not None and hub.pid == _pid:  # made already: no lock
        return hub
    with _hub_lock:
        if _hub is None or _hub.pid != _pid:
            _hub = Hub()
        return _hub


class SystemMonitor:
    """One run's share of the sampling: logs each sample under ``prefix`` until stopped.

    Args:
        log: called with ``(name, value)`` for each figure (a run's ``log``).
        prefix: put before each figure's name (default: the hub's, ``system/`` or
            ``system/node<N>/rank<R>/``).
        hub: the sampling thread (default: the process's).
    """

    def __init__(self, log: Log, prefix: str | None = None, hub: Hub | None = None) -> None:
        self._log = log
        self.prefix = prefix
        self._hub = hub
        self._lock = threading.Lock()
        self._active = False
        self._pid = _pid
        self.samples = 0  # samples logged so far
        self.error: BaseException | None = None  # what ended the sampling early, if anything

    def start(self) -> None:
        """Join the sampling."""
        self._active = True
        self._pid = _pid
        if self._hub is None:
            self._hub = process_hub()
        if self.prefix is None:
            self.prefix = self._hub.prefix
        self._hub.add(self)

    @property
    def running(self) -> bool:
        """Whether samples are still logged."""
        return self._active

    def stop(self) -> None:
        """Stop; once this returns, nothing more is logged (a sample being logged is finished)."""
        if _pid != self._pid:  # a forked child: no thread samples here, a lock may be stale
            self._active = False
            return
        with self._lock:
            self._active = False
        if self._hub is not None:
            self._hub.remove(self)

    def _deliver(self, values: Mapping[str, float]) -> None:
        with self._lock:
            if not self._active:
                return
            try:
                log, prefix = self._log, self.prefix or PREFIX
                for name, value in values.items():
                    log(prefix + name, value)
            except Exception as exc:  # the run refused a value: stop sampling for it
                self._active = False
                self.error = exc
                print(
                    f"runhistory: system metrics of this run stopped: {type(exc).__name__}: {exc}",
                    file=sys.stderr,
                )
                return
            self.samples += 1

    def _failed(self, error: BaseException) -> None:
        with self._lock:
            self._active = False
            self.error = error


@atexit.register
def _stop_all() -> None:
    """At exit: no sample is logged while the queue's own exit flush runs (atexit is LIFO)."""
    hub = _hub
    if hub is not None and hub.pid == _pid:
        hub.close()
