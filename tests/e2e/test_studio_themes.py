"""Every studio page in the dark theme as well as the light one: it renders without console
errors, its text (body, muted, links, headers, chips, buttons, notes) has a WCAG contrast
ratio of at least 4.5:1 against what is behind it in both themes, and with
RUNHISTORY_SCREENSHOTS=1 its dark screenshot is saved next to the light one in docs/images.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from helpers import Studio, open_page, screenshot

from runhistory import Experiment, Workspace

# WCAG 2 contrast of each visible text element against the first opaque background behind it.
_CONTRAST = """
(selectors) => {
  const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const channel = (c) => {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  };
  const background = (el) => {
    for (let at = el; at; at = at.parentElement) {
      const c = rgb(getComputedStyle(at).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3);
    }
    return rgb(getComputedStyle(document.body).backgroundColor).slice(0, 3);
  };
  const worst = [];
  let checked = 0;
  for (const selector of selectors) {
    for (const el of document.querySelectorAll(selector)) {
      if (!el.textContent.trim() || !el.getClientRects().length) continue;
      checked += 1;
      const fg = rgb(getComputedStyle(el).color).slice(0, 3);
      const [a, b] = [luminance(fg), luminance(background(el))].sort((x, y) => y - x);
      const ratio = (a + 0.05) / (b + 0.05);
      const text = el.textContent.trim().slice(0, 30);
      if (ratio < 4.5) worst.push(`${selector}: ${text} ${ratio.toFixed(2)}`);
    }
  }
  return { worst, checked };
}
"""
TEXT = ["main p", "main td", "main th", "main a", "main .muted", "main .small", "main button",
        "main .chip", "main summary", "main label", "main h1", "main h2", "main h3",
        ".topbar a", ".importance .num", ".preview-note", ".markdown"]  # fmt: skip


@pytest.fixture(scope="module")
def model_name(studio: Studio) -> str:
    """A registered model, so that the models pages have something to show."""
    workspace = Workspace(tracking_uri=studio.url)
    run = Experiment(workspace, "themes-demo").start_logging(display_name="trainer", outputs=False)
    notes = "## Notes\n\n- tried **three** learning rates\n- see [the docs](https://example.org)"
    run.set_tags({"mlflow.note.content": notes})
    run.upload_file("outputs/model.txt", __file__)
    run.register_model("theme-model", "outputs/model.txt", tags={"stage": "prod"},
                       properties={"auc": "0.9"}, model_framework="Custom")  # fmt: skip
    run.complete()
    return "theme-model"


@pytest.fixture(params=["light", "dark"])
def themed(request: pytest.FixtureRequest, browser: Any, studio: Studio) -> Iterator[Any]:
    """A page whose system colour scheme is light or dark (the studio follows it)."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=studio.url,
                                  color_scheme=request.param)  # fmt: skip
    opened = context.new_page()
    errors: list[str] = []
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    opened.set_default_timeout(15_000)
    opened.theme = request.param
    yield opened
    context.close()
    assert not errors, f"console errors: {errors}"


def _check(page: Any, name: str, save: bool = True) -> None:
    assert page.evaluate("document.documentElement.dataset.theme") == page.theme
    found = page.evaluate(_CONTRAST, TEXT)
    assert found["checked"] >= 10, found  # the page has text to check
    low = found["worst"]
    assert not low, f"text below 4.5:1 contrast on {name} ({page.theme}): {low}"
    if page.theme == "dark" and save:
        screenshot(page, f"{name}-dark")


def test_every_page_is_readable_in_both_themes(
    themed: Any, studio: Studio, model_name: str
) -> None:
    page, demo = themed, studio.demo
    open_page(page, "#/")
    page.locator('#experiments tr[data-experiment="studio-demo"]').wait_for()
    _check(page, "experiments")

    open_page(page, f"#/experiments/{demo.experiment_id}?charts=1")
    page.locator("#experiment-charts figure[data-metric] canvas").first.wait_for()
    page.locator("#importance li[data-parameter]").first.wait_for()
    _check(page, "workspace")

    open_page(page, f"#/experiments/{demo.experiment_id}/runs/{demo.classifier_id}")
    page.locator("figure[data-metric] canvas").first.wait_for()
    _check(page, "run", save=False)  # run-dark.png: test_studio_pages.py

    open_page(page, f"#/experiments/{demo.experiment_id}/runs/{demo.classifier_id}/files")
    page.get_by_role("button", name="logs").click()
    page.get_by_role("button", name="preview logs/std_log.txt").click()
    page.locator("section.file-preview pre").wait_for()
    _check(page, "run-files")

    open_page(page, f"#/experiments/{demo.experiment_id}")
    page.wait_for_selector('#runs td[data-metric="loss"]:not(:empty)')
    _check(page, "runs")

    open_page(page, f"#/experiments/{demo.experiment_id}/compare?runs={','.join(demo.sweep_ids)}")
    page.locator("figure[data-metric] canvas").first.wait_for()
    _check(page, "compare")

    open_page(page, "#/models")
    page.locator(f'#models tr[data-model="{model_name}"]').wait_for()
    _check(page, "models")

    open_page(page, f"#/models/{model_name}")
    page.locator("#model-version").wait_for()
    page.locator("#model-version a[data-run-link]").click()
    page.locator("#run-notes strong", has_text="three").wait_for()
    _check(page, "run-notes")
    open_page(page, f"#/models/{model_name}")
    page.locator("#model-version").wait_for()
    _check(page, "model")
