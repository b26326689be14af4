"""The studio's sweep tab in a real browser, for a real sweep run against a real server: the
children's primary metric over time, the parallel coordinates, the best child marked."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import screenshot

from runhistory import Experiment, ScriptRunConfig, Workspace
from runhistory.tracking import status as st
from support.services import ServerProcess, start_server

pytest.importorskip("optuna", reason="the [sweep] extra is not installed")

SCRIPT = """
    import argparse
    from azureml.core import Run

    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float)
    parser.add_argument("--layers", type=int)
    args = parser.parse_args()
    run = Run.get_context()
    for step in range(3):
        run.log("accuracy", args.lr * args.layers * (step + 1), step=step)
"""


@pytest.fixture
def sweep_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ServerProcess]:
    monkeypatch.setenv("RUNHISTORY_LOCAL_MAX_JOBS", "4")
    server = start_server(str(tmp_path / "store"), tmp_path / "server.log")
    try:
        yield server
    finally:
        server.stop()


def test_sweep_tab_charts_the_children_and_marks_the_best(
    browser: Any, sweep_server: ServerProcess, tmp_path: Path
) -> None:
    from runhistory.hyperdrive import (
        GridParameterSampling,
        HyperDriveConfig,
        PrimaryMetricGoal,
        choice,
    )

    source = tmp_path / "src"
    source.mkdir()
    (source / "train.py").write_text(textwrap.dedent(SCRIPT).lstrip(), encoding="utf-8")
    exp = Experiment(Workspace(tracking_uri=sweep_server.url), "sweep-view")
    sweep = exp.submit(
        HyperDriveConfig(
            run_config=ScriptRunConfig(source, "train.py"),
            hyperparameter_sampling=GridParameterSampling(
                {"lr": choice(0.1, 0.2), "layers": choice(1, 2)}
            ),
            primary_metric_name="accuracy",
            primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
            max_total_runs=4,
        )
    )
    deadline = time.monotonic() + 120
    while not st.is_terminal(sweep.get_status()) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert sweep.get_status() == st.COMPLETED
    best = sweep.get_best_run_by_primary_metric()
    assert best is not None

    context = browser.new_context(
        viewport={"width": 1440, "height": 900}, base_url=sweep_server.url
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    page.set_default_timeout(15_000)
    try:
        page.goto(f"/#/experiments/{exp.id}/runs/{sweep.id}/sweep")
        page.wait_for_selector("#sweep-children tbody tr[data-run]")
        assert page.get_by_role("tab", name="Sweep").get_attribute("aria-selected") == "true"
        rows = page.locator("#sweep-children tbody tr[data-run]")
        assert rows.count() == 4
        first = rows.first
        assert first.get_attribute("data-run") == best.id  # ranked first, and marked
        assert "best" in (first.get_attribute("class") or "")
        assert "★ best" in first.inner_text() and "lr=0.2 layers=2\t1.2" in first.inner_text()
        assert page.locator("#sweep-children .best-mark").count() == 1
        card = page.locator('figure[data-metric="accuracy"]')
        card.locator("canvas").first.wait_for(state="visible")
        parallel = page.locator('figure[data-chart-card="parallel coordinates"]')
        parallel.locator("canvas").first.wait_for(state="visible")
        label = parallel.locator(".chart").first.get_attribute("aria-label") or ""
        # one line per child: its hyper-parameters (layers, lr), then the primary metric
        assert "Parallel" in label and "named accuracy" in label and "2, 0.2, 1.2" in label
        screenshot(page, "sweep")
        assert not errors, f"console errors: {errors}"
    finally:
        context.close()
