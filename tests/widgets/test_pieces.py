"""Small parts of the widget: log lines as a terminal shows them, a sweep's primary metric,
the summary line of a run."""

from __future__ import annotations

import json

from runhistory.widgets.collect import primary_metric
from runhistory.widgets.log_tail import terminal_lines
from runhistory.widgets.summary import duration_text, summary_line


def test_progress_bars_keep_their_last_state() -> None:
    text = "start\r\nepoch 1\r 10%\r 50%\r100%\nwindows line\r\nlast"
    assert terminal_lines(text) == ["start", "100%", "windows line", "last"]
    assert terminal_lines("") == []


def test_primary_metric_from_the_original_config_or_plain_properties() -> None:
    config = json.dumps({"name": "accuracy", "goal": "maximize"})
    assert primary_metric({"primary_metric_config": config}) == {
        "name": "accuracy", "goal": "maximize",
    }  # fmt: skip
    assert primary_metric({"primary_metric_name": "loss", "primary_metric_goal": "minimize"}) == {
        "name": "loss", "goal": "minimize",
    }  # fmt: skip
    assert primary_metric({"primary_metric_config": "not json"}) == {}
    assert primary_metric({}) == {}


def test_duration_and_summary() -> None:
    assert duration_text({"start_time": None}) == "not started"
    assert duration_text({"start_time": 100.0, "end_time": 112.34}) == "12.3 s"
    assert duration_text({"start_time": 0.0, "end_time": 245.0}) == "4 min 5 s"
    assert duration_text({"start_time": 0.0, "end_time": 7380.0}) == "2 h 3 min"
    run = {
        "run_id": "r1", "number": 3, "display_name": None, "experiment_name": "exp",
        "status": "Completed", "start_time": 0.0, "end_time": 2.0,
    }  # fmt: skip
    metrics = [{"name": "loss", "last_value": 0.123456789}, {"name": "table", "last_value": None}]
    children = [{"status": "Completed"}, {"status": "Failed"}]
    line = summary_line({"run": run, "metrics": metrics, "children": children})
    assert line == (
        "Run 3 (r1, experiment exp): Completed · 2.0 s · loss=0.123457 · 2 child runs (1 completed)"
    )
