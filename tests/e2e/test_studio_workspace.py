"""The studio's experiment workspace, file previews, notes and models in a real browser: chart
sections by name prefix, a parameter against a metric, parameter importance (correlation),
time axes drawn from the server's time series, previews with size limits, Markdown notes
without raw HTML, and the registered models with the runs that produced them.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import Studio, expect_chart, open_page, screenshot
from studio_data import png

from runhistory import Experiment, Workspace

LRS = (0.3, 0.1, 0.03, 0.01, 0.003, 0.001)
LONG_POINTS = 3000
NOTE_TAG = "mlflow.note.content"
HOSTILE_MARKDOWN = (
    "# Results\n\nSee **the table** and `code`.\n\n"
    '<img src="x" onerror="window.__injected=1">\n\n'
    "[a script link](javascript:window.__injected=2) and [docs](https://example.org/docs)\n\n"
    "| a | b |\n|---|---|\n| 1 | 2 |\n"
)


@dataclass
class Workspace_:
    experiment_id: str = ""
    run_ids: list[str] = field(default_factory=list)
    long_id: str = ""
    files_id: str = ""


@pytest.fixture(scope="module")
def made(studio: Studio, tmp_path_factory: pytest.TempPathFactory) -> Workspace_:
    """An experiment of six runs (train/ and val/ curves whose last val/loss follows lr), a run
    with a 3,000-point curve, a run with files to preview, and two versions of a model."""
    workspace = Workspace(tracking_uri=studio.url)
    experiment = Experiment(workspace, "workspace-demo")
    made = Workspace_(experiment_id=experiment.id)
    for index, lr in enumerate(LRS):
        run = experiment.start_logging(display_name=f"lr-{lr}", outputs=False)
        run.add_properties({"lr": str(lr), "batch": str([32, 64][index % 2]),
                            "optimizer": ["adam", "sgd"][index % 2]})  # fmt: skip
        for step in range(20):
            decay = math.exp(-step / 5)
            run.log("train/loss", decay + 0.05 * (index % 3), step=step)
            run.log("train/acc", 1 - decay / 2, step=step)
            run.log("val/loss", 1 + 10 * lr + decay / 10, step=step)
        run.complete()
        made.run_ids.append(run.id)
    long = experiment.start_logging(display_name="long-curve", outputs=False)
    for step in range(LONG_POINTS):
        long.log("reward", math.sin(step / 100), step=step)
    long.complete()
    made.long_id = long.id
    made.files_id = _files_run(experiment, tmp_path_factory.mktemp("files"))
    return made


def _files_run(experiment: Experiment, folder: Path) -> str:
    run = experiment.start_logging(display_name="with-files", outputs=False)
    files = {
        "metrics.json": json.dumps({"auc": 0.91, "classes": ["cat", "dog"]}),
        "table.csv": 'name,score\n"Smith, J",0.5\nLee,0.75\n',
        "README.md": HOSTILE_MARKDOWN,
        "big.log": "a line of the log\n" * 90_000,
        "big.json": json.dumps(["x" * 100] * 15_000),
        "empty.txt": "",
    }
    for name, text in files.items():
        (folder / name).write_text(text)
        run.upload_file(f"outputs/{name}", str(folder / name))
    (folder / "picture.png").write_bytes(png(40, 20, (200, 30, 30)))
    run.upload_file("outputs/picture.png", str(folder / "picture.png"))
    run.upload_file("outputs/model.pkl", str(folder / "picture.png"))
    run.register_model("churn-model", "outputs/model.pkl", tags={"stage": "trial"},
                       properties={"auc": "0.88"}, model_framework="ScikitLearn")  # fmt: skip
    run.register_model("churn-model", "outputs/model.pkl", tags={"stage": "prod"},
                       properties={"auc": "0.91"}, description="the better one")  # fmt: skip
    run.complete()
    return str(run.id)


def run_path(made: Workspace_, run_id: str, tab: str = "") -> str:
    return f"#/experiments/{made.experiment_id}/runs/{run_id}" + (f"/{tab}" if tab else "")


def _timed(response: Any) -> bool:
    return (
        "/metrics/series" in response.url
        and (response.request.post_data_json or {}).get("x") == "time"
    )


def test_time_axes_use_the_servers_time_series(page: Any, made: Workspace_) -> None:
    asked: list[Any] = []
    page.on("request", lambda r: asked.append(r) if "/metrics/series" in r.url else None)
    open_page(page, run_path(made, made.long_id))
    expect_chart(page, "reward")
    with page.expect_response(_timed) as answer:
        page.get_by_label("x axis").select_option("time")
    body = answer.value.request.post_data_json
    [series] = answer.value.json()["series"]
    assert series["downsampled"] and len(series["x"]) <= body["max_points"] < LONG_POINTS
    assert series["x"] == sorted(series["x"]) and series["x"][0] > 1.6e9  # seconds since epoch
    expect_chart(page, "reward")
    caption = page.locator('figure[data-metric="reward"] figcaption').inner_text()
    assert "too many points" not in caption and f"{LONG_POINTS:,} points" in caption
    assert "min/max per bucket" in caption
    timed = len([r for r in asked if (r.post_data_json or {}).get("x") == "time"])
    page.get_by_label("x axis").select_option("relative")
    page.get_by_label("smoothing").fill("0.9")
    page.locator(".chart-controls", has_text="0.90").wait_for()
    expect_chart(page, "reward")
    caption = page.locator('figure[data-metric="reward"] figcaption').inner_text()
    assert "too many points" not in caption
    assert len([r for r in asked if (r.post_data_json or {}).get("x") == "time"]) == timed


def test_chart_sections_by_prefix_collapse_and_reopen_by_keyboard(
    page: Any, made: Workspace_
) -> None:
    open_page(page, f"#/experiments/{made.experiment_id}?charts=1")
    train = page.locator('#experiment-charts details[data-section="train"]')
    val = page.locator('#experiment-charts details[data-section="val"]')
    expect_chart(page, "train/loss", "lr-0.3")
    expect_chart(page, "val/loss", "lr-0.3")
    assert train.locator("figure[data-metric]").count() == 2
    assert "2 charts" in train.locator("summary").inner_text()
    val.locator("summary").click()
    val.locator('figure[data-metric="val/loss"]').wait_for(state="detached")
    assert train.locator("figure[data-metric]").count() == 2  # the other section stays open
    val.locator("summary").focus()
    page.keyboard.press("Enter")
    expect_chart(page, "val/loss", "lr-0.3")
    screenshot(page, "workspace-sections")


def wait_for_scatter(page: Any, axes: str) -> None:
    page.wait_for_function(
        "axes => document.querySelector('#experiment-analysis figure[data-scatter]')"
        "?.dataset.scatter === axes",
        arg=axes,
    )


def test_scatter_and_parameter_importance(page: Any, made: Workspace_) -> None:
    open_page(page, f"#/experiments/{made.experiment_id}?charts=1")
    analysis = page.locator("#experiment-analysis")
    analysis.get_by_label("metric to analyse").select_option("val/loss")
    ranked = analysis.locator("#importance li[data-parameter]")
    ranked.first.wait_for()
    labels = ranked.evaluate_all("items => items.map(i => i.dataset.parameter)")
    assert labels[0] == "property: lr", labels  # val/loss = 1 + 10 lr + ...: r close to 1
    assert float(ranked.first.get_attribute("data-r")) > 0.99
    assert "property: optimizer" not in labels  # not a number: no correlation
    assert "correlation, not a fitted model" in analysis.inner_text()
    scatter = analysis.locator("figure[data-scatter]")
    assert scatter.get_attribute("data-scatter") == "property: lr|val/loss"
    assert scatter.get_attribute("data-points") == str(len(LRS))
    analysis.locator('#importance li[data-parameter="property: batch"] button').click()
    wait_for_scatter(page, "property: batch|val/loss")
    analysis.get_by_label("parameter on the x axis").select_option("property: optimizer")
    wait_for_scatter(page, "property: optimizer|val/loss")
    analysis.locator("canvas").first.wait_for(state="visible")
    analysis.scroll_into_view_if_needed()
    screenshot(page, "workspace-analysis")


def _preview(page: Any, name: str) -> Any:
    page.get_by_role("button", name=f"preview outputs/{name}").click()
    preview = page.locator(f'section.file-preview[data-preview="outputs/{name}"]')
    preview.wait_for()
    return preview


def test_file_previews_with_size_limits_and_safe_markdown(page: Any, made: Workspace_) -> None:
    open_page(page, run_path(made, made.files_id, "files"))
    page.get_by_role("button", name="outputs").click()
    pretty = _preview(page, "metrics.json").locator('pre[data-json="pretty"]')
    assert json.loads(pretty.inner_text()) == {"auc": 0.91, "classes": ["cat", "dog"]}
    assert '\n  "auc": 0.91' in pretty.inner_text()
    table = _preview(page, "table.csv").locator("table")
    table.locator("tbody tr").first.wait_for()
    assert table.locator("thead th").all_inner_texts() == ["name", "score"]
    assert table.locator("tbody tr").first.locator("td").all_inner_texts() == ["Smith, J", "0.5"]
    markdown = _preview(page, "README.md").locator(".markdown")
    markdown.locator("table").wait_for()
    assert markdown.locator("h3").inner_text() == "Results"
    assert markdown.locator("strong").inner_text() == "the table"
    assert markdown.locator("table td").all_inner_texts() == ["1", "2"]
    assert markdown.locator("img").count() == 0  # raw HTML shows as text
    assert '<img src="x"' in markdown.inner_text()
    hrefs = markdown.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert hrefs == ["https://example.org/docs"]  # the javascript: link is not a link
    assert page.evaluate("window.__injected") is None
    log = _preview(page, "big.log")
    log.locator("pre").wait_for()
    assert "Showing the first 1.0 MiB of 1.5 MiB" in log.locator(".preview-note").inner_text()
    assert len(log.locator("pre").inner_text()) <= 1024 * 1024
    too_big = _preview(page, "big.json")
    assert "too large to preview" in too_big.inner_text()
    assert too_big.locator(".preview-note a[download]").count() == 1
    empty = _preview(page, "empty.txt")
    assert "The file is empty" in empty.locator(".preview-note").inner_text()
    image = _preview(page, "picture.png").locator("img")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 40", arg=image.element_handle()
    )
    screenshot(page, "run-files")


def test_markdown_notes_are_saved_as_the_note_tag(
    page: Any, studio: Studio, made: Workspace_
) -> None:
    run_id = made.run_ids[0]
    open_page(page, run_path(made, run_id))
    page.get_by_role("button", name="edit notes").click()
    note = "## Plan\n\n- try a **lower** lr\n- <script>window.__injected=3</script>\n"
    page.get_by_label("notes (Markdown)").fill(note)
    page.get_by_role("button", name="Save").click()
    notes = page.locator("#run-notes")
    notes.locator("h4", has_text="Plan").wait_for()
    assert notes.locator("li strong").inner_text() == "lower"
    assert notes.locator("script").count() == 0 and "<script>" in notes.inner_text()
    assert page.evaluate("window.__injected") is None
    stored = httpx.get(f"{studio.url}/api/v1/runs/{run_id}").json()
    assert stored["tags"][NOTE_TAG] == note.strip()
    assert page.locator(f'#tags [data-tag="{NOTE_TAG}"]').count() == 0  # not shown as a tag
    page.reload()
    page.locator("#run-notes h4", has_text="Plan").wait_for()


def test_models_list_and_versions_link_to_their_run(page: Any, made: Workspace_) -> None:
    open_page(page, "#/models")
    row = page.locator('#models tr[data-model="churn-model"]')
    row.wait_for()
    cells = row.locator("td").all_inner_texts()
    assert cells[0:2] == ["2", "v2"] and "stage=prod" in cells[3]
    screenshot(page, "models")
    row.get_by_role("link", name="churn-model").click()
    versions = page.locator("#model-versions tbody tr")
    versions.first.wait_for()
    assert versions.evaluate_all("rows => rows.map(r => r.dataset.version)") == ["2", "1"]
    assert page.locator("#model-version").get_attribute("data-version") == "2"
    page.get_by_role("link", name="v1").click()
    page.locator('#model-version[data-version="1"]').wait_for()
    assert "0.88" in page.locator("#model-properties").inner_text()
    assert page.locator("#model-version .model-files a").inner_text() == "model.pkl"
    screenshot(page, "model")
    page.locator(f'#model-version a[data-run-link="{made.files_id}"]').click()
    page.locator(".run-header h1", has_text="with-files").wait_for()
