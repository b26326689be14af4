"""``RunDetails(run).show()`` in a real JupyterLab, drawn by Debian's Chromium.

The test starts JupyterLab on loopback with token authentication, opens a notebook that starts
a run, shows the widget, logs 50 losses and completes the run, runs every cell, and checks what
the browser draws: the loss chart with its 50 points, the final status, the studio link.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest
from helpers import screenshot

from support.notebooks import SWEEP, jupyter_environment, widget_notebook
from support.services import free_port, stop, wait_until_up

STUDIO = "http://studio.example.test:5000"
# Once the notebook's kernel is up, run every cell (without waiting for them to finish).
RUN_ALL = """async () => {
  const app = window.jupyterapp;
  const panel = app.shell.currentWidget;
  await panel.context.ready;
  await panel.sessionContext.ready;
  while (!panel.sessionContext.session?.kernel) await new Promise((r) => setTimeout(r, 50));
  app.commands.execute("notebook:run-all-cells");
}"""


@dataclass
class Lab:
    """A running JupyterLab: its address, token and notebook folder."""

    url: str
    token: str
    root: Path


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    root = tmp_path / "notebooks"
    root.mkdir()
    notebook = widget_notebook(tmp_path / "workspace", more=[SWEEP])
    nbformat.write(notebook, root / "widget.ipynb")
    port, token = free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        **jupyter_environment(tmp_path),
        "RUNHISTORY_HOME": str(tmp_path / "home"),
        "RUNHISTORY_STUDIO_URL": STUDIO,
    }
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly", "--allow-root",
    ]  # fmt: skip
    with open(tmp_path / "jupyterlab.log", "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/api/status?token={token}", process, timeout=60)
        yield Lab(url, token, root)
    finally:
        stop(process)


def _status_without_token(lab: Lab) -> int:
    try:
        with urllib.request.urlopen(f"{lab.url}/api/contents", timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_widget_renders_live_run_in_jupyterlab(lab: Lab, browser: Any) -> None:
    assert _status_without_token(lab) == 403  # the token is required
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{lab.url}/lab/tree/widget.ipynb?token={lab.token}")
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
        page.evaluate(RUN_ALL)
        widget = page.locator(".runhistory-widget").first
        widget.locator("[data-status='Completed']").first.wait_for()
        chart = widget.locator('figure[data-metric="loss"]')
        chart.locator("canvas").first.wait_for(state="visible")
        assert "50 points" in chart.locator("figcaption").inner_text()
        label = chart.locator(".chart").first.get_attribute("aria-label") or ""
        assert "loss" in label
        link = widget.locator("#studio-link")
        assert (link.get_attribute("href") or "").startswith(f"{STUDIO}/#/experiments/")
        assert "learning_rate" in widget.locator("#properties").inner_text()
        page.locator(".jp-OutputArea-output").filter(has_text="STATE").first.wait_for()
        news = page.get_by_role("button", name="No")
        if news.count():
            news.first.click()  # JupyterLab's question about its news feed
            page.wait_for_timeout(500)
        widget.first.locator("header").first.scroll_into_view_if_needed()
        screenshot(page, "notebook-widget")
        _check_sweep(page.locator(".runhistory-widget").nth(1))
        screenshot(page, "notebook-widget-sweep")
        assert not errors, errors
    finally:
        context.close()


def _check_sweep(widget: Any) -> None:
    """A HyperDrive parent's widget: children table, their curves, parallel coordinates."""
    rows = widget.locator("#child-runs tr[data-run]")
    rows.nth(4).wait_for()
    assert rows.count() == 5
    assert "primary metric accuracy (maximize)" in widget.locator("#child-runs h2").inner_text()
    curves = widget.locator('#sweep figure[data-metric="accuracy"]')
    curves.locator("canvas").first.wait_for(state="visible")
    assert "100 points" in curves.locator("figcaption").inner_text()  # 5 children x 20
    parallel = widget.locator('#sweep [data-chart="parallel coordinates"]')
    parallel.locator("canvas").first.wait_for(state="visible")
    widget.locator("#sweep").scroll_into_view_if_needed()
