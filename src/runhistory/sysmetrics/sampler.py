"""One sample of the machine's figures: CPU, memory, disk and network (``psutil``), and GPUs."""

from __future__ import annotations

import contextlib
import os
from typing import Any

from runhistory.sysmetrics.gpu import GpuReader

_MB = 1024 * 1024


class Sampler:
    """Reads the figures logged under ``system/``; I/O counters count from a baseline.

    Names (without the ``system/`` prefix): ``cpu_percent`` (whole machine) and
    ``process_cpu_percent`` (this process, 100 = one core), ``memory_percent``,
    ``memory_used_mb``, ``process_memory_mb`` (resident), ``disk_percent`` (the working
    folder's disk), ``disk_read_mb``/``disk_write_mb`` and ``network_sent_mb``/
    ``network_received_mb`` (since sampling began in this process), and ``gpu<i>/…`` per GPU
    (:class:`~runhistory.sysmetrics.gpu.GpuReader`).

    Args:
        psutil: the ``psutil`` module.
        gpus: a GPU reader, or None for none.
        disk_path: the folder whose disk fullness is reported.
    """

    def __init__(self, psutil: Any, gpus: GpuReader | None, disk_path: str | None = None) -> None:
        self._psutil = psutil
        self.pid = os.getpid()
        self._process = psutil.Process(self.pid)
        self._gpus = gpus
        self._disk_path = disk_path or os.getcwd()
        # CPU percentages are measured between two calls: this first call starts the interval.
        psutil.cpu_percent(interval=None)
        self._process.cpu_percent(interval=None)

    def baseline(self) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
        """The disk and network counters now: ``sample`` reports I/O since this point."""
        return _disk_bytes(self._psutil), _net_bytes(self._psutil)

    def sample(
        self, baseline: tuple[tuple[int, int] | None, tuple[int, int] | None] | None = None
    ) -> dict[str, float]:
        """The figures now, as ``name → number``; a figure the platform lacks is left out.

        Args:
            baseline: what :meth:`baseline` returned when sampling began (None: I/O since
                the machine started).
        """
        psutil = self._psutil
        disk_start, net_start = baseline or ((0, 0), (0, 0))
        values: dict[str, float] = {
            "cpu_percent": float(psutil.cpu_percent(interval=None)),
        }
        with contextlib.suppress(Exception):
            values["process_cpu_percent"] = float(self._process.cpu_percent(interval=None))
            values["process_memory_mb"] = self._process.memory_info().rss / _MB
        memory = psutil.virtual_memory()
        values["memory_percent"] = float(memory.percent)
        values["memory_used_mb"] = (memory.total - memory.available) / _MB
        with contextlib.suppress(OSError):
            values["disk_percent"] = float(psutil.disk_usage(self._disk_path).percent)
        disk = _disk_bytes(psutil)
        if disk is not None and disk_start is not None:
            values["disk_read_mb"] = max(0, disk[0] - disk_start[0]) / _MB
            values["disk_write_mb"] = max(0, disk[1] - disk_start[1]) / _MB
        net = _net_bytes(psutil)
        if net is not None and net_start is not None:
            values["network_sent_mb"] = max(0, net[0] - net_start[0]) / _MB
            values["network_received_mb"] = max(0, net[1] - net_start[1]) / _MB
        if self._gpus is not None:
            values.update(self._gpus.read())
        return values

    def close(self) -> None:
        """Release the GPU reader."""
        if self._gpus is not None:
            self._gpus.close()


def _disk_bytes(psutil: Any) -> tuple[int, int] | None:
    try:
        counters = psutil.disk_io_counters(nowrap=False)  # deltas are clamped at 0
    except Exception:  # some containers have no /proc/diskstats
        return None
    return None if counters is None else (counters.read_bytes, counters.write_bytes)


def _net_bytes(psutil: Any) -> tuple[int, int] | None:
    try:
        counters = psutil.net_io_counters(nowrap=False)
    except Exception:
        return None
    return None if counters is None else (counters.bytes_sent, counters.bytes_recv)
