"""The runs table's keyboard navigation and its metric min/max columns (sorted by the server)."""

from __future__ import annotations

from typing import Any

import httpx
from helpers import Studio, open_page, run_rows, wait_rows


def test_keyboard_moves_through_the_rows_and_enter_opens_a_run(page: Any, studio: Studio) -> None:
    open_page(page, f"#/experiments/{studio.demo.experiment_id}")
    page.wait_for_selector("#runs tbody tr[data-run]")
    table = page.locator("#runs")
    table.focus()
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    assert table.get_attribute("aria-activedescendant") == "runs-row-2"
    third = page.locator("#runs tr#runs-row-2")
    assert third.get_attribute("aria-selected") == "true"
    page.keyboard.press("End")
    rows = run_rows(page)
    assert table.get_attribute("aria-activedescendant") == f"runs-row-{len(rows) - 1}"
    page.keyboard.press("Home")
    page.keyboard.press("ArrowDown")
    page.keyboard.press(" ")  # selects the active run
    second = page.locator("#runs tr#runs-row-1")
    run_id = second.get_attribute("data-run")
    assert second.locator("input[type=checkbox]").is_checked()
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => location.hash.includes('/runs/{run_id}')")
    page.locator("h1").first.wait_for()


def test_min_and_max_columns_show_and_sort_by_the_servers_extremes(
    page: Any, studio: Studio
) -> None:
    experiment_id = studio.demo.experiment_id
    runs = httpx.get(
        f"{studio.url}/api/v1/runs", params={"experiment_id": experiment_id, "limit": 100}
    ).json()["items"]
    ids = [r["run_id"] for r in runs]
    extremes = {
        which: httpx.post(
            f"{studio.url}/api/v1/metrics/last",
            json={"run_ids": ids, "names": ["loss"], "value": which},
        ).json()
        for which in ("min", "max")
    }
    number = {r["run_id"]: str(r["number"]) for r in runs}
    low = {number[i]: v["loss"] for i, v in extremes["min"].items() if "loss" in v}
    high = {number[i]: v["loss"] for i, v in extremes["max"].items() if "loss" in v}
    assert len(low) >= 5 and all(high[n] >= low[n] for n in low)

    open_page(page, f"#/experiments/{experiment_id}?cols=metric:loss,min:loss,max:loss")
    page.wait_for_selector('#runs td[data-min="loss"]:not(:empty)')
    assert page.locator('th[data-column="min:loss"]').inner_text().startswith("loss (min)")
    page.locator('th[data-column="min:loss"] button.sort').click()  # highest minimum first
    wanted = sorted(low, key=lambda n: (low[n], int(n)), reverse=True)
    without = sorted((n for n in number.values() if n not in low), key=int, reverse=True)
    wait_rows(page, wanted + without)
    page.locator('th[data-column="max:loss"] button.sort').click()
    wait_rows(page, sorted(high, key=lambda n: (high[n], int(n)), reverse=True) + without)
    assert "min:loss" in page.evaluate("decodeURIComponent(location.hash)")
    page.get_by_label("filter runs").fill("min:loss<0.5")
    wait_rows(page, [n for n in wanted if low[n] < 0.5], ordered=False)


def test_a_saved_view_is_kept_by_the_server_and_shown_again(page: Any, studio: Studio) -> None:
    experiment_id = studio.demo.experiment_id
    views = f"{studio.url}/api/v1/experiments/{experiment_id}/views"
    open_page(
        page, f"#/experiments/{experiment_id}?sort=-metric%3Aloss&cols=metric%3Aloss,min%3Aloss"
    )
    page.wait_for_selector('#runs td[data-min="loss"]:not(:empty)')
    page.get_by_label("view name").fill("by loss")
    page.get_by_role("button", name="Save view").click()
    page.wait_for_function(
        "() => document.querySelector('select[aria-label=\"saved view\"]').value === 'by loss'"
    )
    [saved] = httpx.get(views).json()["items"]
    assert saved["name"] == "by loss" and "min%3Aloss" in saved["state"]

    open_page(page, f"#/experiments/{experiment_id}")  # the default view, in a fresh page
    page.reload()
    page.wait_for_selector("#runs tbody tr[data-run]")
    assert page.locator('th[data-column="min:loss"]').count() == 0
    page.get_by_label("saved view").select_option("by loss")
    page.locator('th[data-column="min:loss"]').wait_for()
    page.wait_for_function(  # the diverged run (loss 1e6) first
        "() => document.querySelector('#runs tbody tr[data-run]')?.dataset.number === '6'"
    )
    assert "sort=-metric:loss" in page.evaluate("decodeURIComponent(location.hash)")
    page.get_by_role("button", name="Delete view").click()
    page.wait_for_function(
        "() => document.querySelector('select[aria-label=\"saved view\"]').options.length === 1"
    )
    assert httpx.get(views).json()["items"] == []


def test_column_groups_and_a_pinned_column_that_stays_in_view(page: Any, studio: Studio) -> None:
    page.set_viewport_size({"width": 760, "height": 700})
    columns = "duration,start,prop:optimizer,tag:stage,metric:loss,min:loss"
    open_page(page, f"#/experiments/{studio.demo.experiment_id}?cols={columns}")
    page.wait_for_selector('#runs td[data-metric="loss"]:not(:empty)')
    groups = page.eval_on_selector_all(
        "#runs tr.groups th", "cells => cells.map(c => [c.textContent, c.colSpan])"
    )
    assert groups[1:] == [["Properties", 1], ["Tags", 1], ["Metrics", 2]]
    page.get_by_role("button", name="pin loss", exact=True).click()
    pinned = page.locator('#runs th[data-column="metric:loss"]')
    page.wait_for_function(
        "() => document.querySelector('#runs th[data-column=\"metric:loss\"]')"
        "?.classList.contains('pinned')"
    )
    order = page.eval_on_selector_all(
        "#runs tr.columns th", "cells => cells.map(c => c.dataset.column || c.textContent)"
    )
    assert order[3:5] == ["name", "metric:loss"]  # right after the run's name
    assert "pin:metric:loss" in page.evaluate("decodeURIComponent(location.hash)")
    page.locator(".runs-scroll").evaluate("el => el.scrollLeft = 0")  # (the click scrolled)
    page.wait_for_timeout(300)  # the pinned cells' offsets are set after the layout
    before = pinned.bounding_box()["x"]
    moving = page.locator('#runs th[data-column="prop:optimizer"]')
    moved_from = moving.bounding_box()["x"]
    scrolled = page.locator(".runs-scroll").evaluate("el => (el.scrollLeft = 200, el.scrollLeft)")
    page.wait_for_timeout(100)
    after, moved_to = pinned.bounding_box()["x"], moving.bounding_box()["x"]
    assert scrolled > 100
    assert abs(after - before) < 1  # stays in view
    assert moved_to < moved_from - 100  # the others scroll
    cell = page.locator('#runs tbody td[data-metric="loss"]').first
    assert abs(cell.bounding_box()["x"] - before) < 1


def test_runs_grouped_by_a_property_with_aggregated_rows(page: Any, studio: Studio) -> None:
    experiment_id = studio.demo.experiment_id
    expected = httpx.get(
        f"{studio.url}/api/v1/experiments/{experiment_id}/run-groups",
        params={"by": "property:optimizer", "metric": "loss"},
    ).json()["items"]
    assert {g["value"] for g in expected} >= {"adam", "sgd"}
    open_page(page, f"#/experiments/{experiment_id}?cols=metric:loss")
    page.wait_for_selector("#runs tbody tr[data-run]")
    page.get_by_label("group by").select_option("property:optimizer")
    page.wait_for_selector("#run-groups tbody tr")
    rows = page.eval_on_selector_all(
        "#run-groups tbody tr",
        "rows => rows.map(r => [r.dataset.groupValue, ...[1, 2].map(i => r.cells[i].textContent)])",
    )
    assert [(r[0], int(r[1])) for r in rows] == [(g["value"] or "", g["runs"]) for g in expected]
    assert all(r[2] for r, g in zip(rows, expected, strict=True) if g["mean"] is not None)
    assert "group=property:optimizer" in page.evaluate("decodeURIComponent(location.hash)")
    page.locator('#run-groups tr[data-group-value="adam"]').get_by_role(
        "button", name="show"
    ).click()
    wait_rows(page, ["2", "4"], ordered=False)
    assert page.get_by_label("filter runs").input_value() == "prop:optimizer=adam"
