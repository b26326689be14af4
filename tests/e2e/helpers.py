"""Small helpers for the studio's browser tests."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio_data import Demo

from support.services import ServerProcess

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


@dataclass
class Studio:
    """The server, its workspace folder, what was written, and the bulk writer."""

    server: ServerProcess
    folder: Path
    demo: Demo
    bulk: subprocess.Popen[bytes]
    bulk_log: Path

    @property
    def url(self) -> str:
        return self.server.url

    def wait_for_bulk(self) -> None:
        """Wait until the background writer has stored the big run, the sweep and the many runs."""
        code = self.bulk.wait(timeout=240)
        assert code == 0, self.bulk_log.read_text()


def screenshot(page: Any, name: str) -> None:
    """Take a screenshot of the page (it must render); with ``RUNHISTORY_SCREENSHOTS=1`` save
    it as docs/images/<name>.png, the pictures the docs show (``make screenshots``)."""
    image = page.screenshot()
    assert image[:8] == b"\x89PNG\r\n\x1a\n" and len(image) > 1000
    if os.environ.get("RUNHISTORY_SCREENSHOTS") == "1":
        IMAGES.mkdir(parents=True, exist_ok=True)
        (IMAGES / f"{name}.png").write_bytes(image)


def open_page(page: Any, path: str) -> None:
    """Open a studio route (``#/…``) and wait for the app to render."""
    page.goto("/" + path)
    page.wait_for_selector("main#main > *")


def expect_chart(page: Any, metric: str, legend: str | None = None) -> Any:
    """The chart card of ``metric``: wait for its canvas and check its legend names ``legend``.

    ECharts describes each chart (title, legend/series names) in the ``aria-label`` of the
    chart's element; that is what a screen reader announces and what is checked here.
    """
    card = page.locator(f'figure[data-metric="{metric}"]')
    card.locator("canvas").first.wait_for(state="visible")
    chart = card.locator(".chart").first
    page.wait_for_function(
        "([el, name]) => (el.getAttribute('aria-label') || '').includes(name)",
        arg=[chart.element_handle(), legend or metric],
    )
    return card


def run_rows(page: Any) -> list[str]:
    """Run numbers of the runs table's rows, top to bottom."""
    return page.eval_on_selector_all(
        "#runs tbody tr[data-run]", "rows => rows.map(r => r.dataset.number)"
    )


def wait_rows(page: Any, expected: list[str], ordered: bool = True) -> None:
    """Wait until the runs table shows exactly the runs numbered ``expected`` (in this order
    unless ``ordered`` is false): filters and sorts are answered by the server."""
    script = """([want, ordered]) => {
        const got = [...document.querySelectorAll('#runs tbody tr[data-run]')]
            .map((r) => r.dataset.number);
        return JSON.stringify(ordered ? got : got.sort()) === JSON.stringify(want);
    }"""
    want = list(expected) if ordered else sorted(expected)
    try:
        page.wait_for_function(script, arg=[want, ordered], timeout=10_000)
    except Exception:  # the table never showed them: say what it shows
        assert run_rows(page) == want
        raise
