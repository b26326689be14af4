"""Live updates: a running run's chart gains points while the script keeps logging."""

from __future__ import annotations

import re
from typing import Any

from helpers import Studio, expect_chart, open_page

from runhistory import Experiment, Workspace


def shown_points(page: Any, metric: str) -> int:
    caption = page.locator(f'figure[data-metric="{metric}"] figcaption').inner_text()
    found = re.search(r"([\d,]+) points", caption)
    return int(found.group(1).replace(",", "")) if found else 0


def test_live_run_chart_gains_points(page: Any, studio: Studio) -> None:
    workspace = Workspace(tracking_uri=studio.url)
    run = Experiment(workspace, "live-demo").start_logging(display_name="live", outputs=False)
    for step in range(20):
        run.log("reward", step * 0.5, step=step)
    run.flush()
    series_sizes: list[int] = []
    page.on(
        "response",
        lambda r: series_sizes.append(0) if "/metrics/series" in r.url else None,
    )
    open_page(page, f"#/experiments/{run.experiment.id}/runs/{run.id}")
    expect_chart(page, "reward")
    page.wait_for_function(
        "() => document.querySelector('figure[data-metric=reward] figcaption')"
        "?.textContent.includes('20 points')"
    )
    assert page.locator('.run-header [data-status="Running"]').count() == 1
    requests_before = len(series_sizes)

    for step in range(20, 70):
        run.log("reward", step * 0.5, step=step)
    run.flush()
    page.wait_for_function(
        "() => document.querySelector('figure[data-metric=reward] figcaption')"
        "?.textContent.includes('70 points')",
        timeout=10_000,
    )
    assert shown_points(page, "reward") == 70
    assert len(series_sizes) > requests_before  # fetched again without a reload

    run.complete()
    page.locator('.run-header [data-status="Completed"]').wait_for(timeout=10_000)
