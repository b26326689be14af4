"""MLflow calls in a submitted script log into the job's own run, as on the original service,
and the supervisor still ends the run (after its outputs), Completed or Failed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from runhistory import Experiment, ScriptRunConfig
from runhistory.tracking import status as st

# MLflow's client warns about its own deprecations.
pytestmark = pytest.mark.filterwarnings("ignore::Warning")

MLFLOW_SCRIPT = """
    import os
    import mlflow

    with mlflow.start_run():  # ended at the block's end, as autologging ends its runs
        mlflow.log_param("alpha", "0.5")
    for step in range(3):  # MLflow's next run: the job's run again
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    os.makedirs("outputs", exist_ok=True)
    with open("outputs/weights.txt", "w") as handle:
        handle.write("0.5")
    print("logged to", mlflow.active_run().info.run_id, flush=True)
"""

FAILING_SCRIPT = """
    import mlflow

    with mlflow.start_run():
        mlflow.log_metric("loss", 2.0)
    raise RuntimeError("diverged")
"""


def _statuses(details: dict) -> list[str]:
    log = Path(details["runDefinition"]["compute"]["job_directory"], "supervisor.log")
    return [line.split()[-1] for line in log.read_text().splitlines() if " status " in line]


def test_mlflow_in_a_job_logs_into_the_jobs_run(
    exp: Experiment, source: Callable[..., Path]
) -> None:
    run = exp.submit(ScriptRunConfig(source({"train.py": MLFLOW_SCRIPT}), "train.py"))
    details = run.wait_for_completion()
    assert details["status"] == st.COMPLETED
    assert run.get_metrics()["loss"] == [1.0, 0.5, 1 / 3]
    assert run.get_properties()["alpha"] == "0.5"
    assert f"logged to {run.id}" in run.get_details_with_logs()["logFiles"]["logs/std_log.txt"]
    assert [r.id for r in exp.get_runs()] == [run.id]  # MLflow made no run of its own
    assert "outputs/weights.txt" in run.get_file_names()
    assert _statuses(details) == [st.PREPARING, st.RUNNING, st.FINALIZING, st.COMPLETED]


def test_a_failing_mlflow_job_ends_failed(exp: Experiment, source: Callable[..., Path]) -> None:
    run = exp.submit(ScriptRunConfig(source({"train.py": FAILING_SCRIPT}), "train.py"))
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == st.FAILED  # not FINISHED by MLflow's end of its run
    assert "diverged" in details["error"]["message"]
    assert run.get_metrics()["loss"] == 2.0
