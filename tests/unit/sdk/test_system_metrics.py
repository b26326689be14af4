"""System metrics: sampled on this machine with the real psutil, logged under ``system/``.

The GPU tests use a FAKE NVML module (this machine has no NVIDIA GPU): they check that the
figures NVML reports are read, converted and logged; the real driver is not exercised here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from runhistory import Experiment, Run, Workspace
from runhistory.errors import ConfigurationError
from runhistory.sysmetrics import monitor as monitor_module
from runhistory.sysmetrics.gpu import GpuReader
from runhistory.sysmetrics.monitor import Hub, SystemMonitor, metric_prefix
from runhistory.tracking import status as st

MACHINE = (
    "cpu_percent",
    "process_cpu_percent",
    "memory_percent",
    "memory_used_mb",
    "process_memory_mb",
    "disk_percent",
    "disk_read_mb",
    "disk_write_mb",
    "network_sent_mb",
    "network_received_mb",
)


@pytest.fixture
def sampling(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Sampling on, every 50 ms, by a sampling thread of the test's own."""
    monkeypatch.setenv("RUNHISTORY_SYSTEM_METRICS", "true")
    monkeypatch.setenv("RUNHISTORY_SYSTEM_METRICS_INTERVAL", "0.05")
    monkeypatch.setattr(monitor_module, "_hub", None)
    yield
    hub = monitor_module._hub
    if hub is not None:
        hub.close()


def _wait_for_samples(monitor: Any, count: int) -> None:
    """Wait (a loaded machine may be slow to start the thread) until ``count`` samples exist."""
    deadline = time.monotonic() + 60
    while monitor.samples < count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert monitor.samples >= count


def _system(run: Any) -> dict[str, list[float]]:
    metrics = run.get_metrics()
    return {
        name: value if isinstance(value, list) else [value]
        for name, value in metrics.items()
        if name.startswith("system/")
    }


def test_a_run_samples_the_machine_with_values_in_range(sampling: None) -> None:
    run = Experiment(Workspace(), "sysmetrics").start_logging(outputs=False)
    run.log("loss", 0.5)
    _wait_for_samples(run._system_monitor, 3)
    run.complete()
    system = _system(run)
    assert {f"system/{name}" for name in MACHINE} <= set(system)
    total_mb = psutil.virtual_memory().total / 2**20
    cores = psutil.cpu_count() or 1
    assert len(system["system/cpu_percent"]) >= 3
    for name, values in system.items():
        assert all(v >= 0 for v in values), name
    assert all(v <= 100 for v in system["system/cpu_percent"])
    assert all(v <= 100 * cores for v in system["system/process_cpu_percent"])
    assert all(0 < v <= 100 for v in system["system/memory_percent"])
    assert all(0 < v <= total_mb for v in system["system/memory_used_mb"])
    assert all(10 < v <= total_mb for v in system["system/process_memory_mb"])
    assert all(0 < v <= 100 for v in system["system/disk_percent"])
    assert run.get_metrics()["loss"] == 0.5  # the user's own metrics are untouched


def test_sampling_stops_with_the_run(sampling: None) -> None:
    experiment = Experiment(Workspace(), "sysmetrics")
    for finish in ("complete", "fail", "cancel"):
        run = experiment.start_logging(outputs=False)
        monitor = run._system_monitor
        assert monitor is not None and monitor.running
        _wait_for_samples(monitor, 1)
        getattr(run, finish)()
        assert not monitor.running
        count = len(_system(run)["system/cpu_percent"])
        time.sleep(0.3)  # six intervals more: nothing is sampled after the run ended
        assert len(_system(run)["system/cpu_percent"]) == count
        assert monitor.samples == count


def test_sampling_is_off_by_argument_or_setting(
    sampling: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    experiment = Experiment(Workspace(), "sysmetrics")
    run = experiment.start_logging(outputs=False, system_metrics=False)
    assert run._system_monitor is None
    run.log("x", 1)
    time.sleep(0.2)
    run.complete()
    assert run.get_metrics() == {"x": 1}
    monkeypatch.setenv("RUNHISTORY_SYSTEM_METRICS", "0")
    run = experiment.start_logging(outputs=False)
    run.complete()
    assert run._system_monitor is None and run.get_metrics() == {}
    run = experiment.start_logging(outputs=False, system_metrics=True)  # the argument wins
    _wait_for_samples(run._system_monitor, 1)
    run.complete()
    assert "system/cpu_percent" in run.get_metrics()


def test_a_bad_interval_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNHISTORY_SYSTEM_METRICS", "true")
    monkeypatch.setenv("RUNHISTORY_SYSTEM_METRICS_INTERVAL", "0")
    with pytest.raises(ConfigurationError, match="RUNHISTORY_SYSTEM_METRICS_INTERVAL"):
        Experiment(Workspace(), "sysmetrics").start_logging(outputs=False)


def test_a_failing_sampler_ends_sampling_but_never_the_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    class Broken:
        def baseline(self) -> None:
            return None

        def sample(self, baseline: Any) -> dict[str, float]:
            raise OSError("no /proc here")

    run = Experiment(Workspace(), "sysmetrics").start_logging(outputs=False, system_metrics=False)
    hub = Hub(make_sampler=Broken, interval=lambda: 0.01)
    monitor = SystemMonitor(run.log, hub=hub)
    monitor.start()
    hub._thread.join(60)  # type: ignore[union-attr]
    assert not monitor.running and isinstance(monitor.error, OSError)
    run.log("x", 1)
    run.complete()
    assert run.get_status() == st.COMPLETED
    assert "system metrics stopped: OSError: no /proc here" in capsys.readouterr().err


def test_distributed_processes_prefix_by_node_and_rank(
    sampling: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert metric_prefix({}) == "system/"
    assert metric_prefix({"RANK": "3"}) == "system/rank3/"
    assert metric_prefix({"NODE_RANK": "1", "RANK": "3"}) == "system/node1/rank3/"
    monkeypatch.setenv("NODE_RANK", "1")
    monkeypatch.setenv("RANK", "3")
    run = Experiment(Workspace(), "sysmetrics").start_logging(outputs=False)
    _wait_for_samples(run._system_monitor, 1)
    run.complete()
    names = set(_system(run))
    assert "system/node1/rank3/cpu_percent" in names
    assert all(n.startswith("system/node1/rank3/") for n in names)


def _script(tmp_path: Path, code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "train_sys.py"
    script.write_text(textwrap.dedent(code), encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, **env},
    )  # fmt: skip


def test_context_runs_sample_until_the_process_exits(sampling: None, tmp_path: Path) -> None:
    code = """
        import time
        from runhistory import Run
        run = Run.get_context()
        run.log("x", 1)
        deadline = time.monotonic() + 60
        while run._system_monitor.samples < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        print(run.id)
        """
    result = _script(tmp_path, code, {})
    assert result.returncode == 0, result.stderr
    run = Run.get(Workspace(), result.stdout.strip())
    assert run.experiment.name == "train_sys"
    assert run.get_status() == st.COMPLETED
    assert len(_system(run)["system/memory_percent"]) >= 2
    # A submitted job's script reports to the run named by RUNHISTORY_RUN_ID.
    submitted = Experiment(Workspace(), "submitted").start_logging(
        outputs=False, system_metrics=False
    )
    result = _script(tmp_path, code, {"RUNHISTORY_RUN_ID": submitted.id})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == submitted.id
    assert len(_system(submitted)["system/process_memory_mb"]) >= 2


class _Rates:
    gpu, memory = 87, 40


class _Memory:
    used, total = 6 * 2**30, 16 * 2**30


def _fake_nvml(gpus: int, init_error: bool = False) -> types.ModuleType:
    """A stand-in for ``pynvml`` answering as a machine with ``gpus`` GPUs would."""
    nvml = types.ModuleType("pynvml")
    calls: list[str] = []

    def init() -> None:
        calls.append("init")
        if init_error:
            raise RuntimeError("NVML Shared Library Not Found")

    nvml.NVML_TEMPERATURE_GPU = 0  # type: ignore[attr-defined]
    nvml.nvmlInit = init  # type: ignore[attr-defined]
    nvml.nvmlShutdown = lambda: calls.append("shutdown")  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetCount = lambda: gpus  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetHandleByIndex = lambda i: f"gpu-{i}"  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetUtilizationRates = lambda h: _Rates()  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetMemoryInfo = lambda h: _Memory()  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetTemperature = lambda h, kind: 64 if h == "gpu-0" else 70  # type: ignore[attr-defined]

    def power(handle: str) -> int:
        if handle == "gpu-1":
            raise RuntimeError("Not Supported")  # a GPU that cannot report power
        return 215_000  # milliwatts

    nvml.nvmlDeviceGetPowerUsage = power  # type: ignore[attr-defined]
    nvml.calls = calls  # type: ignore[attr-defined]
    return nvml


def test_gpu_figures_from_a_fake_nvml(sampling: None, monkeypatch: pytest.MonkeyPatch) -> None:
    nvml = _fake_nvml(gpus=2)
    monkeypatch.setitem(sys.modules, "pynvml", nvml)  # the test's sampling thread opens it
    reader = GpuReader.open()
    assert reader is not None
    assert reader.read() == {
        "gpu0/utilization_percent": 87.0,
        "gpu0/memory_used_mb": 6144.0,
        "gpu0/memory_percent": 37.5,
        "gpu0/temperature_c": 64.0,
        "gpu0/power_w": 215.0,
        "gpu1/utilization_percent": 87.0,
        "gpu1/memory_used_mb": 6144.0,
        "gpu1/memory_percent": 37.5,
        "gpu1/temperature_c": 70.0,
    }
    reader.close()
    assert nvml.calls == ["init", "shutdown"]  # type: ignore[attr-defined]
    run = Experiment(Workspace(), "sysmetrics").start_logging(outputs=False)
    _wait_for_samples(run._system_monitor, 2)
    run.complete()
    system = _system(run)
    assert set(system["system/gpu0/power_w"]) == {215.0}
    assert set(system["system/gpu1/temperature_c"]) == {70.0}
    assert "system/gpu1/power_w" not in system


def test_no_driver_or_no_gpu_means_no_gpu_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", _fake_nvml(gpus=1, init_error=True))
    assert GpuReader.open() is None
    monkeypatch.setitem(sys.modules, "pynvml", _fake_nvml(gpus=0))
    assert GpuReader.open() is None
