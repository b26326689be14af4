"""Run listings over HTTP: continuation tokens checked by the server, generators that fetch
pages only as they are iterated (requests counted in a real server)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from runhistory import Experiment, Run, Workspace
from runhistory.server.app import create_app
from runhistory.server.config import ServerSettings, open_services
from server.conftest import serving

RUNS = "/api/v1/runs"


@dataclass
class Counter:
    """Counts the HTTP requests an app answers, by path."""

    app: ASGIApp
    paths: list[str] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.paths.append(scope["path"])
        await self.app(scope, receive, send)

    def listings(self) -> int:
        """Requests for run listings (``GET /runs`` and ``…/children``)."""
        return sum(p == RUNS or p.endswith("/children") for p in self.paths)


@dataclass
class Served:
    http: httpx.Client
    counter: Counter
    workspace: Workspace


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    settings = ServerSettings(backend_store_uri=str(tmp_path / "server-ws"))
    counter = Counter(create_app(settings, open_services(settings)))
    with serving(counter) as http:  # type: ignore[arg-type]
        yield Served(http, counter, Workspace(tracking_uri=str(http.base_url)))


def _runs(experiment: Experiment, count: int) -> list[str]:
    made = []
    for _ in range(count):
        run = experiment.start_logging(snapshot_directory=None)
        run.complete()
        made.append(run.id)
    return made


def test_generators_fetch_pages_only_as_they_are_iterated(served: Served) -> None:
    experiment = Experiment(served.workspace, "lazy")
    made = _runs(experiment, 120)
    counter = served.counter
    counter.paths.clear()
    listed = experiment.get_runs()
    assert counter.listings() == 0  # nothing is fetched before the first run is asked for
    first_ten = [r.id for r in itertools.islice(listed, 10)]
    assert first_ten == list(reversed(made))[:10]
    assert counter.listings() == 1  # one page of 50
    assert len(list(itertools.islice(listed, 40))) == 40
    assert counter.listings() == 1  # still within the first page
    rest = list(listed)
    assert len(rest) == 70
    assert counter.listings() == 2  # the second page (100) holds the other 70
    counter.paths.clear()
    assert next(Run.list(experiment, status="Completed")).id == made[-1]
    assert counter.listings() == 1


def test_children_are_fetched_lazily(served: Served) -> None:
    parent = Experiment(served.workspace, "lazy-children").start_logging(snapshot_directory=None)
    parent.create_children(count=70)
    served.counter.paths.clear()
    children = parent.get_children()
    next(children)
    assert served.counter.listings() == 1
    assert len(list(children)) == 69
    assert served.counter.listings() == 2


def test_a_forged_or_garbled_token_is_answered_400(served: Served) -> None:
    experiment = Experiment(served.workspace, "tokens")
    _runs(experiment, 3)
    http = served.http
    first = http.get(RUNS, params={"experiment_id": experiment.id, "limit": 1}).json()
    token = first["next_page_token"]
    assert first["next_offset"] == 1  # older clients keep paging by offset
    body, digest = token.split(".")
    forged = f"{body[:-1]}{'A' if body[-1] != 'A' else 'B'}.{digest}"
    for bad in (forged, "%%%", "a.b", token[:-1]):
        answer = http.get(RUNS, params={"experiment_id": experiment.id, "page_token": bad})
        assert answer.status_code == 400, answer.text
        found: dict[str, Any] = answer.json()
        assert found["error"] == "ValidationError"
        assert "invalid page_token" in found["message"]
    foreign = http.get(RUNS, params={"experiment_id": "other", "page_token": token})
    assert foreign.status_code == 400
    assert "other filters" in foreign.json()["message"]
    both = http.get(RUNS, params={"experiment_id": experiment.id, "page_token": token,
                                  "offset": 1})  # fmt: skip
    assert both.status_code == 400
    second = http.get(RUNS, params={"experiment_id": experiment.id, "limit": 1,
                                    "page_token": token}).json()  # fmt: skip
    assert len(second["items"]) == 1 and second["next_offset"] is None
    counted = http.get("/api/v1/counts/runs", params={"experiment_id": experiment.id})
    assert counted.json() == {"count": 3}
