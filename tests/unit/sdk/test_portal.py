"""Portal links: where the studio of a workspace is (``get_portal_url`` and the widget's link)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from runhistory import Experiment, Workspace
from runhistory.sdk.portal import (
    DEFAULT_UI_ADDRESS,
    _record_path,
    announce_ui,
    known_studio_base,
    link_address,
)
from support.services import free_port, runhistory_command, stop, wait_until_up


def _run(folder: Path) -> tuple[Workspace, str]:
    workspace = Workspace(path=folder)
    run = Experiment(workspace, "links").start_logging()
    run.complete()
    return workspace, run.get_portal_url()


def test_a_local_workspace_without_a_studio_has_no_known_link(tmp_path: Path) -> None:
    workspace, url = _run(tmp_path / "ws")
    assert known_studio_base(workspace) is None
    assert url.startswith(f"{DEFAULT_UI_ADDRESS}/#/experiments/")


def test_the_studio_url_setting_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNHISTORY_STUDIO_URL", "https://studio.example.test/")
    workspace, url = _run(tmp_path / "ws")
    assert known_studio_base(workspace) == "https://studio.example.test"
    assert url.startswith("https://studio.example.test/#/experiments/")


def test_a_running_ui_is_linked_while_it_runs(tmp_path: Path) -> None:
    workspace = Workspace(path=tmp_path / "ws")
    with announce_ui(str(tmp_path / "ws" / "."), "http://127.0.0.1:5123/"):
        assert known_studio_base(workspace) == "http://127.0.0.1:5123"
    assert known_studio_base(workspace) is None


def test_a_record_of_a_stopped_ui_is_ignored(tmp_path: Path) -> None:
    workspace = Workspace(path=tmp_path / "ws")
    path = Path(_record_path(str(tmp_path / "ws")))
    path.parent.mkdir(parents=True)
    dead = 2**22 + 1  # above the largest pid Linux hands out: no such process
    path.write_text(json.dumps({"url": "http://127.0.0.1:1", "pid": dead}), encoding="utf-8")
    assert known_studio_base(workspace) is None


def test_wildcard_addresses_are_linked_on_loopback() -> None:
    assert link_address("0.0.0.0", 5000) == "http://127.0.0.1:5000"
    assert link_address("::1", 5000) == "http://[::1]:5000"
    assert link_address("ml.example.test", 80) == "http://ml.example.test:80"


def test_runhistory_ui_records_its_address(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "ws"
    workspace, _ = _run(folder)
    port = free_port()
    monkeypatch.setenv("RUNHISTORY_TRACKING_URI", str(folder))
    command = [runhistory_command(), "ui", "--no-browser", "--port", str(port)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, env=dict(os.environ))
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", process)
        assert known_studio_base(workspace) == f"http://127.0.0.1:{port}"
        run = Experiment(workspace, "links").start_logging()
        assert run.get_portal_url().startswith(f"http://127.0.0.1:{port}/#/experiments/")
        run.complete()
    finally:
        stop(process)
        if process.stderr:
            process.stderr.close()
    assert known_studio_base(workspace) is None
