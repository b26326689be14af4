"""The server's HTTP stack: httptools on uvloop where installed, h11 on asyncio otherwise."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

from runhistory import Experiment, Run, Workspace
from runhistory.server.config import ServerSettings
from runhistory.server.runner import HTTP_VARIABLE, _config, implementations
from support.services import postgres_database, start_server


def _installed(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def test_the_compiled_stack_serves_where_it_is_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(HTTP_VARIABLE, raising=False)
    http, loop = implementations()
    assert http == ("httptools" if _installed("httptools") else "h11")
    assert loop == ("uvloop" if _installed("uvloop") else "asyncio")


def test_each_missing_part_falls_back_on_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(HTTP_VARIABLE, raising=False)
    monkeypatch.setitem(sys.modules, "httptools", None)  # import raises ImportError
    assert implementations()[0] == "h11"
    monkeypatch.setitem(sys.modules, "uvloop", None)
    assert implementations() == ("h11", "asyncio")


def test_the_pure_python_stack_can_be_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(HTTP_VARIABLE, "python")
    assert implementations() == ("h11", "asyncio")
    config = _config(object(), ServerSettings(backend_store_uri="sqlite:///x.db"), "warning")
    assert (config.http, config.loop) == ("h11", "asyncio")


def test_uvicorn_is_configured_with_the_chosen_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(HTTP_VARIABLE, raising=False)
    config = _config(object(), ServerSettings(backend_store_uri="sqlite:///x.db"), "warning")
    assert (config.http, config.loop) == implementations()


@pytest.mark.parametrize("stack", ["auto", "python"])
def test_forked_workers_store_runs_with_either_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stack: str
) -> None:
    monkeypatch.setenv("RUNHISTORY_HOME", str(tmp_path / "home"))
    with postgres_database(f"rh_stack_{stack}") as database:
        server = start_server(database, tmp_path / "server.log", extra_args=["--workers", "2"],
                              artifact_location=str(tmp_path / "artifacts"),
                              env={HTTP_VARIABLE: stack})  # fmt: skip
        try:
            expected = implementations() if stack == "auto" else ("h11", "asyncio")
            assert f"HTTP {expected[0]}, loop {expected[1]}" in server.log()
            experiment = Experiment(Workspace(tracking_uri=server.url), "stack")
            ids = []
            for n in range(5):  # written behind: one batch request a run, kept alive
                run = experiment.start_logging()
                run.set_tags({"n": str(n)})
                run.log("loss", n * 0.5)
                run.complete()
                ids.append(run.id)
            for n, run_id in enumerate(ids):
                stored = Run.get(Workspace(tracking_uri=server.url), run_id)
                assert stored.get_status() == "Completed"
                assert stored.get_tags()["n"] == str(n)
                assert stored.get_metrics()["loss"] == n * 0.5
            assert httpx.get(f"{server.url}/healthz").status_code == 200
        finally:
            server.stop()
