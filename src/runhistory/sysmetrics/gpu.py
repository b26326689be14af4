"""Per-GPU figures through NVML (``nvidia-ml-py``), silently absent without an NVIDIA driver."""

from __future__ import annotations

import contextlib
from typing import Any

_MB = 1024 * 1024


class GpuReader:
    """Reads utilisation, memory, temperature and power of every NVIDIA GPU.

    ``GpuReader.open()`` returns None when ``pynvml`` is not installed, no driver answers, or
    there is no GPU: a machine without GPUs simply has no GPU metrics.
    """

    def __init__(self, nvml: Any, handles: list[Any]) -> None:
        self._nvml = nvml
        self._handles = handles

    @classmethod
    def open(cls) -> GpuReader | None:
        """A reader over the GPUs NVML sees, or None when there are none to read."""
        try:
            import pynvml

            pynvml.nvmlInit()
        except Exception:  # not installed, no driver, or the driver refuses: no GPU metrics
            return None
        try:
            count = pynvml.nvmlDeviceGetCount()
            handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
        except Exception:
            _shutdown(pynvml)
            return None
        if not handles:
            _shutdown(pynvml)
            return None
        return cls(pynvml, handles)

    def read(self) -> dict[str, float]:
        """``gpu<i>/<figure>`` → value for every GPU; a figure a GPU cannot report is left out."""
        nvml = self._nvml
        values: dict[str, float] = {}
        for index, handle in enumerate(self._handles):
            prefix = f"gpu{index}/"
            with contextlib.suppress(Exception):
                rates = nvml.nvmlDeviceGetUtilizationRates(handle)
                values[prefix + "utilization_percent"] = float(rates.gpu)
            with contextlib.suppress(Exception):
                memory = nvml.nvmlDeviceGetMemoryInfo(handle)
                values[prefix + "memory_used_mb"] = memory.used / _MB
                if memory.total:
                    values[prefix + "memory_percent"] = 100.0 * memory.used / memory.total
            with contextlib.suppress(Exception):
                values[prefix + "temperature_c"] = float(
                    nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU)
                )
            with contextlib.suppress(Exception):  # NVML reports milliwatts
                values[prefix + "power_w"] = nvml.nvmlDeviceGetPowerUsage(handle) / 1000.0
        return values

    def close(self) -> None:
        """Release NVML."""
        _shutdown(self._nvml)


def _shutdown(nvml: Any) -> None:
    with contextlib.suppress(Exception):
        nvml.nvmlShutdown()
