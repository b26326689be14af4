"""What the notebook widget reads of a run, on every backend (``RunDetails.get_widget_data``)."""

from __future__ import annotations

import json
from pathlib import Path

from runhistory import Experiment, Run
from runhistory.widgets import RunDetails
from runhistory.widgets.log_tail import TAIL_BYTES, TAIL_LINES


def _sweep(experiment: Experiment) -> Run:
    """A HyperDrive-shaped parent: run type ``hyperdrive``, three children with properties."""
    backend = experiment.workspace._connection.backend
    config = json.dumps({"name": "accuracy", "goal": "maximize"})
    info = backend.create_run(
        experiment.id, status="Running", run_type="hyperdrive",
        properties={"primary_metric_config": config},
    )  # fmt: skip
    parent = Run(experiment, info.run_id)
    for index, rate in enumerate(["0.1", "0.01", "0.001"]):
        child = parent.child_run(name=f"trial {index}")
        child.add_properties({"learning_rate": rate, "_internal": "x"})
        for step in range(30):
            child.log("accuracy", 0.5 + index * 0.1 + step / 100, step=step)
        child.log("loss", 1.0 / (index + 1))
        if index < 2:
            child.complete()
        else:
            child.flush()  # stays live, with its values stored
    return parent


def test_widget_data_of_a_run(experiment: Experiment, tmp_path: Path) -> None:
    run = experiment.start_logging(display_name="widget data")
    run.tag("team", "vision")
    run.add_properties({"batch_size": "32"})
    for step in range(3000):
        run.log("loss", 1.0 / (step + 1), step=step)
    run.log_table("confusion", {"label": ["a", "b"], "count": [3, 4]})
    log = tmp_path / "std_log.txt"
    lines = [f"line {i} " + "x" * 60 for i in range(5000)]  # ~340 kB: only the tail is read
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run.upload_file("logs/std_log.txt", str(log))
    run.flush()

    details = RunDetails(run)
    data = details.get_widget_data({"debug": True})
    assert data["status"] == "Running" and data["run_id"] == run.id
    assert data["run_properties"]["properties"] == {"batch_size": "32"}
    assert data["run_properties"]["tags"] == {"team": "vision"}
    assert data["run_properties"]["log_files"] == {"logs/std_log.txt": log.stat().st_size}
    metrics = {m["name"]: m for m in data["run_metrics"]}
    loss = metrics["loss"]["series"]
    assert loss["count"] == 3000 and loss["downsampled"]
    assert 2 <= len(loss["x"]) <= 1000 and min(loss["y"]) == 1.0 / 3000
    assert metrics["confusion"]["series"] is None and metrics["confusion"]["kind"] == "table"
    shown = data["run_logs"].splitlines()
    assert shown == lines[-TAIL_LINES:]
    assert len(data["run_logs"]) < TAIL_BYTES
    assert data["widget_settings"] == {"debug": True}
    run.complete()
    assert details.get_widget_data()["status"] == "Completed"


def test_widget_data_of_a_sweep(experiment: Experiment) -> None:
    parent = _sweep(experiment)
    data = RunDetails(parent).get_widget_data()
    children = data["child_runs"]
    assert [c["display_name"] for c in sorted(children, key=lambda c: c["number"])] == [
        "trial 0", "trial 1", "trial 2",
    ]  # fmt: skip
    assert sorted(c["status"] for c in children) == ["Completed", "Completed", "Running"]
    sweep = data["children_metrics"]
    assert sweep["primary_metric"] == {"name": "accuracy", "goal": "maximize"}
    assert sweep["curve_metric"] == "accuracy"
    last = {c["display_name"]: sweep["last_values"][c["run_id"]] for c in children}
    assert last["trial 2"]["accuracy"] == 0.5 + 0.2 + 0.29
    assert last["trial 0"]["loss"] == 1.0
    curves = {c["run_id"]: c for c in sweep["curves"]}
    assert set(curves) == {c["run_id"] for c in children}
    assert all(c["name"] == "accuracy" and c["count"] == 30 for c in curves.values())
    assert {c["properties"]["learning_rate"] for c in children} == {"0.1", "0.01", "0.001"}
