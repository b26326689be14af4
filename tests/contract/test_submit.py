"""Submitting scripts works the same on every backend: the job reaches the same workspace."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest

from runhistory import Experiment, ScriptRunConfig
from runhistory.errors import ActivityFailedException
from runhistory.tracking import status as st


@pytest.fixture(autouse=True)
def fast_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short intervals so jobs report quickly (inherited by the supervisors)."""
    monkeypatch.setenv("RUNHISTORY_LOG_UPLOAD_INTERVAL", "0.2")
    monkeypatch.setenv("RUNHISTORY_CANCEL_GRACE_SECONDS", "3")


def _source(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "src"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(textwrap.dedent(text).lstrip())
    return folder


def test_submitted_script_logs_metrics_and_outputs(experiment: Experiment, tmp_path: Path) -> None:
    folder = _source(
        tmp_path,
        "train.py",
        """
        import os
        from azureml.core import Run

        run = Run.get_context()
        for step in range(3):
            run.log("loss", 1.0 / (step + 1))
        os.makedirs("outputs", exist_ok=True)
        with open("outputs/model.txt", "w") as handle:
            handle.write("model")
        print("done training", flush=True)
    """,
    )
    run = experiment.submit(ScriptRunConfig(folder, "train.py"), tags={"via": "contract"})
    assert run.get_status() in (st.QUEUED, st.PREPARING, st.RUNNING)
    details = run.wait_for_completion()
    assert details["status"] == st.COMPLETED
    assert run.get_metrics() == {"loss": [1.0, 0.5, 1 / 3]}
    assert run.get_tags() == {"via": "contract"}
    assert {"outputs/model.txt", "logs/std_log.txt"} <= set(run.get_file_names())
    assert "done training" in run.get_details_with_logs()["logFiles"]["logs/std_log.txt"]
    model = run.register_model("contract-model", model_path="outputs/model.txt")
    assert model.version == 1
    assert run.get_snapshot_id() is not None


def test_failed_script_records_exit_code(experiment: Experiment, tmp_path: Path) -> None:
    folder = _source(
        tmp_path,
        "fail.py",
        """
        import sys
        print("cannot continue", file=sys.stderr)
        sys.exit(3)
    """,
    )
    run = experiment.submit(ScriptRunConfig(folder, "fail.py"))
    with pytest.raises(ActivityFailedException, match="exited with code 3"):
        run.wait_for_completion()
    error = run.get_details()["error"]
    assert error["exitCode"] == 3 and "cannot continue" in error["stderrTail"]


def test_cancel_stops_the_job(experiment: Experiment, tmp_path: Path) -> None:
    folder = _source(
        tmp_path,
        "sleep.py",
        """
        import time
        print("sleeping", flush=True)
        time.sleep(60)
    """,
    )
    run = experiment.submit(ScriptRunConfig(folder, "sleep.py"))
    deadline = time.monotonic() + 30
    while run.get_status() != st.RUNNING and time.monotonic() < deadline:
        time.sleep(0.05)
    run.cancel()
    deadline = time.monotonic() + 5
    while run.get_status() != st.CANCELED and time.monotonic() < deadline:
        time.sleep(0.05)
    assert run.get_status() == st.CANCELED
