"""The studio's pages in a real browser against a real server: each loads without console
errors, each chart kind renders and names its metric, filters and sorting change the runs
table, compare shows the selected runs. With RUNHISTORY_SCREENSHOTS=1 they also save the
docs' screenshots to docs/images/.
"""

from __future__ import annotations

from typing import Any

import httpx
from helpers import Studio, expect_chart, open_page, run_rows, screenshot, wait_rows
from studio_data import CONFUSION_LABELS, CONFUSION_MATRIX

from runhistory.client.wire import loads


def run_path(studio: Studio, run_id: str, tab: str = "") -> str:
    return f"#/experiments/{studio.demo.experiment_id}/runs/{run_id}" + (f"/{tab}" if tab else "")


def test_experiments_page_lists_experiments_with_run_counts(page: Any, studio: Studio) -> None:
    open_page(page, "#/")
    row = page.locator('#experiments tr[data-experiment="studio-demo"]')
    row.wait_for()
    assert row.locator("td.num").inner_text() == "11"  # 5 sweep + failed + classifier + 1 + 3
    assert "team=vision" in row.inner_text()
    screenshot(page, "experiments")
    row.get_by_role("link", name="studio-demo").click()
    page.wait_for_selector("#runs tbody tr[data-run]")
    assert page.url.endswith(f"#/experiments/{studio.demo.experiment_id}")


def test_runs_table_sorts_filters_and_expands_children(page: Any, studio: Studio) -> None:
    open_page(page, f"#/experiments/{studio.demo.experiment_id}")
    page.wait_for_selector("#runs tbody tr[data-run]")
    page.wait_for_selector('#runs td[data-metric="loss"]:not(:empty)')
    assert run_rows(page) == ["8", "7", "6", "5", "4", "3", "2", "1"]  # newest first
    screenshot(page, "runs")

    page.get_by_role("button", name="#").click()  # sort: same column flips to ascending
    wait_rows(page, ["1", "2", "3", "4", "5", "6", "7", "8"])

    page.get_by_role("button", name="loss", exact=True).click()  # by last loss, highest first
    page.wait_for_function(  # the diverged run, loss 1e6
        "() => document.querySelector('#runs tbody tr[data-run]')?.dataset.number === '6'"
    )

    filter_box = page.get_by_label("filter runs")
    filter_box.fill("status:Failed")
    wait_rows(page, ["6"])
    filter_box.fill("tag:stage=final")
    wait_rows(page, ["3"])
    filter_box.fill("prop:optimizer=adam")
    wait_rows(page, ["2", "4"], ordered=False)
    filter_box.fill("accuracy>0.9")
    wait_rows(page, ["1", "2"], ordered=False)
    filter_box.fill("classifier")
    wait_rows(page, ["7"])
    filter_box.fill("")
    page.get_by_label("status filter").select_option("Failed")
    wait_rows(page, ["6"])
    page.get_by_label("status filter").select_option("")
    page.locator(f'#runs tr[data-run="{studio.demo.parent_id}"]').wait_for()

    parent = page.locator(f'#runs tr[data-run="{studio.demo.parent_id}"]')
    parent.get_by_role("button", name="expand 3 child runs").click()
    for child in studio.demo.child_ids:
        page.locator(f'#runs tr[data-run="{child}"]').wait_for()
    parent.get_by_role("button", name="collapse 3 child runs").click()
    assert page.locator(f'#runs tr[data-run="{studio.demo.child_ids[0]}"]').count() == 0


def test_column_chooser_adds_and_removes_columns(page: Any, studio: Studio) -> None:
    open_page(page, f"#/experiments/{studio.demo.experiment_id}")
    page.wait_for_selector('#runs td[data-metric="loss"]')
    page.locator("details.chooser summary").click()
    page.locator(".chooser-menu").get_by_label("metric loss").uncheck()
    assert page.locator('#runs td[data-metric="loss"]').count() == 0
    page.locator(".chooser-menu").get_by_label("properties").check()
    assert "optimizer=" in page.locator("#runs tbody").inner_text()


def test_run_page_line_charts_name_their_metrics(page: Any, studio: Studio) -> None:
    open_page(page, run_path(studio, studio.demo.sweep_ids[2]))
    for metric in ("loss", "accuracy", "lr_schedule"):
        expect_chart(page, metric)
    assert "200 points" in page.locator('figure[data-metric="loss"] figcaption').inner_text()
    page.locator("#properties").get_by_text("lr").wait_for()
    screenshot(page, "run")
    page.get_by_label("log y").check()
    page.get_by_label("x axis").select_option("relative")
    expect_chart(page, "loss")
    page.get_by_label("x axis").select_option("step")
    page.get_by_label("log y").uncheck()


def test_confusion_matrix_shows_the_logged_counts(page: Any, studio: Studio) -> None:
    open_page(page, run_path(studio, studio.demo.classifier_id))
    card = expect_chart(page, "confusion")
    card.locator("summary").click()
    for r, row in enumerate(CONFUSION_MATRIX):
        for c, value in enumerate(row):
            assert card.locator(f'td[data-cell="{r},{c}"]').inner_text() == str(value)
    header = card.locator("table.matrix thead").inner_text()
    assert all(label in header for label in CONFUSION_LABELS)
    card.get_by_label("normalise rows").check()
    expect_chart(page, "confusion")


def test_every_structured_kind_renders(page: Any, studio: Studio) -> None:
    open_page(page, run_path(studio, studio.demo.classifier_id))
    accuracy = expect_chart(page, "accuracy_table", "ROC")
    assert accuracy.locator("canvas").count() >= 4  # ROC, precision-recall, gain, lift
    assert "AUC no:" in accuracy.inner_text()
    accuracy.get_by_label("percentile").check()
    expect_chart(page, "residuals")
    expect_chart(page, "predictions")
    table = expect_chart(page, "epochs", "epochs: train_loss")
    assert table.locator("table.data tbody tr").count() == 10
    table.get_by_label("y column").select_option("val_loss")
    expect_chart(page, "epochs", "epochs: val_loss")
    expect_chart(page, "calibration")
    image = page.locator('figure[data-metric="samples"] img')
    image.wait_for()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 48", arg=image.element_handle()
    )
    screenshot(page, "run-kinds")


def test_run_tabs_logs_files_children_environment(page: Any, studio: Studio) -> None:
    open_page(page, run_path(studio, studio.demo.classifier_id, "logs"))
    page.wait_for_function(
        "() => document.querySelector('pre.log')?.textContent.includes('epoch 29')"
    )
    page.get_by_role("tab", name="Files").click()
    page.get_by_role("button", name="outputs/").click()
    page.get_by_role("button", name="model/").click()
    link = page.locator('tr[data-file="outputs/model/weights.bin"] a')
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "weights.bin"
    page.get_by_role("tab", name="Environment").click()
    page.locator("#environment").wait_for()
    open_page(page, run_path(studio, studio.demo.parent_id, "children"))
    page.wait_for_selector("#children tbody tr")
    assert page.locator("#children tbody tr").count() == 3


def test_failed_run_shows_its_error(page: Any, studio: Studio) -> None:
    open_page(page, run_path(studio, studio.demo.failed_id))
    error = page.locator("#error-details")
    error.wait_for()
    assert "loss diverged" in error.inner_text()
    assert page.locator('.run-header [data-status="Failed"]').count() == 1


def test_system_metrics_have_their_own_section(page: Any, studio: Studio) -> None:
    open_page(page, run_path(studio, studio.demo.failed_id))
    page.locator('#summary tr[data-summary="loss"]').wait_for()  # logged once: in the summary
    section = page.locator('[data-section="system"]')
    assert section.locator("h3").inner_text() == "System"
    for metric in ("system/cpu_percent", "system/memory_percent"):
        expect_chart(page, metric)
        assert section.locator(f'figure[data-metric="{metric}"]').count() == 1
    assert section.locator('figure[data-metric="loss"]').count() == 0  # the user's metrics


def test_tags_are_editable(page: Any, studio: Studio) -> None:
    open_page(page, run_path(studio, studio.demo.sweep_ids[4]))
    page.get_by_label("new tag").fill("reviewed=yes")
    page.get_by_role("button", name="Add tag").click()
    page.locator('#tags [data-tag="reviewed"]').wait_for()
    page.get_by_role("button", name="remove tag reviewed").click()
    page.locator('#tags [data-tag="reviewed"]').wait_for(state="detached")


def test_a_tag_keyed_like_a_wire_marker_is_shown_and_stored_as_itself(
    page: Any, studio: Studio
) -> None:
    run_id = studio.demo.sweep_ids[3]
    open_page(page, run_path(studio, run_id))
    page.get_by_label("new tag").fill("$int=5")  # sent escaped ($$int), shown unescaped
    page.get_by_role("button", name="Add tag").click()
    chip = page.locator('#tags [data-tag="$int"]')
    chip.wait_for()
    assert chip.inner_text().startswith("$int=5")
    stored = loads(httpx.get(f"{studio.url}/api/v1/runs/{run_id}").content)
    assert stored["tags"]["$int"] == "5"
    page.reload()
    page.locator('#tags [data-tag="$int"]').wait_for()
    page.get_by_role("button", name="remove tag $int").click()
    chip.wait_for(state="detached")


def test_compare_shows_the_selected_runs(page: Any, studio: Studio) -> None:
    open_page(page, f"#/experiments/{studio.demo.experiment_id}")
    chosen = studio.demo.sweep_ids[:3]
    for run_id in chosen:
        page.locator(f'#runs tr[data-run="{run_id}"] input[type=checkbox]').check()
    page.locator("#compare").click()
    page.locator("#compare-runs li").nth(2).wait_for()
    shown = page.eval_on_selector_all("#compare-runs li", "items => items.map(i => i.dataset.run)")
    assert sorted(shown) == sorted(chosen)
    expect_chart(page, "loss", "sweep-lr-0.3 (#1)")
    expect_chart(page, "loss", "sweep-lr-0.03 (#3)")
    page.locator('.chart[data-chart="parallel coordinates"] canvas').wait_for()
    differs = page.locator('#diff tr[data-differs="true"] th').all_inner_texts()
    assert "property: lr" in differs and "tag: stage" in differs
    assert "tag: sweep" not in differs
    screenshot(page, "compare")


def test_dark_theme_is_remembered(page: Any, studio: Studio) -> None:
    open_page(page, run_path(studio, studio.demo.classifier_id))
    page.get_by_role("button", name="switch to dark theme").click()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    expect_chart(page, "confusion")
    screenshot(page, "run-dark")
    page.reload()
    page.wait_for_selector("main#main > *")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"


def test_keyboard_reaches_the_runs_table(page: Any, studio: Studio) -> None:
    open_page(page, f"#/experiments/{studio.demo.experiment_id}")
    page.wait_for_selector("#runs tbody tr[data-run]")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('#runs tbody') !== null"):
            break
    else:
        raise AssertionError("Tab never reached the runs table")


def test_unknown_route_says_so(page: Any, studio: Studio) -> None:
    open_page(page, "#/nowhere")
    assert "No page at" in page.locator("main").inner_text()
