"""The studio at size: a run with 20 metrics x 100,000 points and an experiment of 20,000 runs.

Charts must never receive more points than they can draw: the run page's data requests stay
under 50,000 points in total. Times to first chart / first rows are measured in the browser
with the performance API and printed (and written to the pytest cache for the docs).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from helpers import Studio, expect_chart, open_page, screenshot
from studio_data import BIG_METRICS, BIG_POINTS, MANY_RUNS

POINT_BUDGET = 50_000


def find_experiment(studio: Studio, name: str) -> str:
    found = httpx.get(f"{studio.url}/api/v1/experiments", params={"name": name}).json()
    return str(found["items"][0]["experiment_id"])


def points_in(body: dict[str, Any]) -> int:
    """Data points in a series or history response."""
    if "series" in body:
        return sum(len(s["x"]) for s in body["series"])
    return len(body.get("values", []))


def mark(page: Any, name: str) -> float:
    """Milliseconds from navigation start to the performance mark ``name``."""
    page.wait_for_function(f"() => performance.getEntriesByName('{name}').length > 0")
    return float(page.evaluate(f"performance.getEntriesByName('{name}')[0].startTime"))


@pytest.fixture(scope="module")
def big_run(studio: Studio) -> tuple[str, str]:
    studio.wait_for_bulk()
    experiment_id = find_experiment(studio, "big-metrics")
    runs = httpx.get(f"{studio.url}/api/v1/runs", params={"experiment_id": experiment_id})
    return experiment_id, str(runs.json()["items"][0]["run_id"])


def test_big_run_page_requests_stay_under_the_point_budget(
    page: Any, studio: Studio, big_run: tuple[str, str], record_property: Any
) -> None:
    experiment_id, run_id = big_run
    responses: list[Any] = []
    page.on(
        "response",
        lambda r: (
            responses.append(r) if "/metrics/series" in r.url or "/history" in r.url else None
        ),
    )
    open_page(page, f"#/experiments/{experiment_id}/runs/{run_id}")
    first_chart_ms = mark(page, "runhistory:first-chart")
    for m in range(BIG_METRICS):
        expect_chart(page, f"metric_{m:02d}")
    page.wait_for_load_state("networkidle")
    total = sum(points_in(r.json()) for r in responses)
    assert responses, "the page made no series request"
    assert total < POINT_BUDGET, f"{total} points requested for {BIG_METRICS} charts"
    caption = page.locator('figure[data-metric="metric_00"] figcaption').inner_text()
    assert f"{BIG_POINTS:,} points" in caption and "min/max" in caption
    record_property("first_chart_ms_20x100k", first_chart_ms)
    record_property("points_requested_20x100k", total)
    print(f"\n20 x 100k run: first chart after {first_chart_ms:.0f} ms, {total} points requested")
    screenshot(page, "run-big")


def test_zoom_refetches_the_visible_steps(
    page: Any, studio: Studio, big_run: tuple[str, str]
) -> None:
    experiment_id, run_id = big_run
    open_page(page, f"#/experiments/{experiment_id}/runs/{run_id}")
    card = expect_chart(page, "metric_00")
    box = card.locator("canvas").first.bounding_box()
    with page.expect_request(
        lambda r: "/metrics/series" in r.url and "min_step" in (r.post_data or "")
    ) as zoomed:
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        for _ in range(12):
            page.mouse.wheel(0, -400)
            page.wait_for_timeout(30)
    body = json.loads(zoomed.value.post_data)
    assert body["names"] == ["metric_00"]
    assert 0 <= body["min_step"] < body["max_step"] <= BIG_POINTS
    answer = zoomed.value.response().json()["series"][0]
    assert len(answer["x"]) <= body["max_points"]
    assert min(answer["x"]) >= body["min_step"] and max(answer["x"]) <= body["max_step"]
    page.locator('figure[data-metric="metric_00"] figcaption', has_text="zoomed").wait_for()


def test_runs_table_of_many_runs(page: Any, studio: Studio, record_property: Any) -> None:
    studio.wait_for_bulk()
    experiment_id = find_experiment(studio, "many-runs")
    open_page(page, f"#/experiments/{experiment_id}")
    first_rows_ms = mark(page, "runhistory:runs-table")
    page.wait_for_function(
        f"() => document.querySelector('#run-count')?.textContent === "
        f"'{MANY_RUNS} of {MANY_RUNS} runs'"
    )
    assert page.locator("#runs tbody tr[data-run]").count() < 120  # virtualised
    page.locator('#runs td[data-metric="loss"]:not(:empty)').first.wait_for()
    page.get_by_label("filter runs").fill("tag:group=g3 accuracy>=0.5")
    wanted = sum(1 for i in range(MANY_RUNS) if i % 10 == 3 and i / MANY_RUNS >= 0.5)
    page.wait_for_function(
        f"() => document.querySelector('#run-count')?.textContent.startsWith('{wanted} of')"
    )
    page.get_by_label("filter runs").fill("")
    page.wait_for_function(  # the unfiltered listing is back (the server answers filters)
        f"() => document.querySelector('#runs')?.getAttribute('aria-rowcount') === '{MANY_RUNS}'"
    )
    page.locator(".runs-scroll").evaluate("el => el.scrollTop = el.scrollHeight")
    # the table reads its pages in order up to the end (keyset: no jumping to a page), up to
    # 2,000 runs a page: slower on a loaded machine
    page.locator('#runs tr[data-number="1"]').wait_for(timeout=60_000)
    record_property(f"first_rows_ms_{MANY_RUNS}_runs", first_rows_ms)
    print(f"\n{MANY_RUNS}-run table: first rows after {first_rows_ms:.0f} ms")
    screenshot(page, "runs-many")
