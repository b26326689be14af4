"""A real ``runhistory server`` on a populated workspace, and Debian's Chromium driving the studio.

One server serves every test of this folder: the demo experiment is written through the SDK
before it starts; the big run (20 metrics x 100,000 points), the 300-run sweep and the
20,000-run experiment are written by a background process while the first tests run (the
tests that need them wait).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import Studio
from studio_data import populate_demo, start_bulk_writer

from support.services import start_server

STUDIO_INDEX = Path(__file__).resolve().parents[2] / "src/runhistory/server/static/index.html"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    if not STUDIO_INDEX.is_file():
        pytest.fail(f"the studio is not built ({STUDIO_INDEX} is missing): run `make studio`")
    root = tmp_path_factory.mktemp("studio")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RUNHISTORY_HOME", str(root / "home"))
        patch.setenv("RUNHISTORY_QUIET", "1")
        # Interactive runs beat twice a second; the server calls a run silent for 4 s
        # NotResponding (a killed script's run must not stay Running: test_studio_views).
        patch.setenv("RUNHISTORY_HEARTBEAT_INTERVAL", "0.5")
        patch.setenv("RUNHISTORY_HEARTBEAT_TIMEOUT", "4")
        patch.delenv("RUNHISTORY_TRACKING_URI", raising=False)
        folder = root / "workspace"
        demo = populate_demo(folder)
        bulk_log = root / "bulk.log"
        bulk = start_bulk_writer(folder, bulk_log)
        try:
            server = start_server(str(folder), root / "server.log")
        except BaseException:
            bulk.kill()
            raise
        try:
            yield Studio(server, folder, demo, bulk, bulk_log)
        finally:
            server.stop()
            if bulk.poll() is None:
                bulk.kill()
                bulk.wait()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class ConsoleErrors(list[str]):
    """Console errors and uncaught exceptions of a page."""


@pytest.fixture
def page(browser: Any, studio: Studio) -> Iterator[Any]:
    """A fresh browser page (1440x900) that fails the test on any console error."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=studio.url)
    opened = context.new_page()
    errors = ConsoleErrors()
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    opened.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} from {r.request.method} {r.url}")
            if r.status >= 400
            else None
        ),
    )
    opened.console_errors = errors
    opened.set_default_timeout(15_000)
    yield opened
    context.close()
    assert not errors, f"console errors: {errors}"
