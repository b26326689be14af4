"""A submitted job samples system metrics in its own process, through Run.get_context()."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from runhistory import Experiment, ScriptRunConfig
from runhistory.tracking import status as st

SCRIPT = """
import time
from azureml.core import Run
run = Run.get_context()
run.log("loss", 0.5)
deadline = time.monotonic() + 60
while run._system_monitor.samples < 2 and time.monotonic() < deadline:
    time.sleep(0.02)
"""


def test_a_submitted_job_samples_system_metrics(
    exp: Experiment, source: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNHISTORY_SYSTEM_METRICS", "true")  # inherited by the job
    monkeypatch.setenv("RUNHISTORY_SYSTEM_METRICS_INTERVAL", "0.05")
    run = exp.submit(ScriptRunConfig(source({"train.py": SCRIPT}), "train.py"))
    assert run.wait_for_completion()["status"] == st.COMPLETED
    metrics = run.get_metrics()
    assert metrics["loss"] == 0.5
    assert len(metrics["system/cpu_percent"]) >= 2
    assert all(0 < v <= 100 for v in metrics["system/memory_percent"])
