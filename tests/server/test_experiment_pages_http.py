"""Experiment listings in pages: the service's pages (keyset by created time, name and id)
hold exactly the experiments of the whole listing, with every view type and tag filter;
``GET /experiments`` continues with ``next_page_token`` on a real server and refuses a forged
token or one of other filters with 400; offset clients and the remote client still list all."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from runhistory import Experiment, Workspace
from runhistory.server.app import create_app
from runhistory.server.config import ServerSettings, open_services
from runhistory.tracking.service import TrackingService
from server.conftest import serving

EXPERIMENTS = "/api/v1/experiments"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[httpx.Client, TrackingService]]:
    settings = ServerSettings(backend_store_uri=str(tmp_path / "server-ws"))
    services = open_services(settings)
    service = services.tracking
    for i in range(26):
        made = service.get_or_create_experiment(f"exp-{i:02d}")
        service.set_experiment_tags(made.experiment_id, {"team": "ab"[i % 2]})
        if i % 5 == 0:
            service.archive_experiment(made.experiment_id)
    with serving(create_app(settings, services)) as http:
        yield http, service


FILTERS: list[dict[str, Any]] = [
    {},
    {"view_type": "All"},
    {"view_type": "ArchivedOnly"},
    {"tags": {"team": "a"}},
    {"view_type": "All", "tags": {"team": "b"}, "name": "exp-05"},
    {"tags": {"team": "nobody"}},
]


@pytest.mark.parametrize("filters", FILTERS, ids=str)
@pytest.mark.parametrize("page_size", [1, 4, 100])
def test_pages_hold_the_whole_listing(
    served: tuple[httpx.Client, TrackingService], filters: dict[str, Any], page_size: int
) -> None:
    _, service = served
    expected = [e.experiment_id for e in service.list_experiments(**filters)]
    seen: list[str] = []
    token: str | None = None
    while True:
        page = service.list_experiments_page(**filters, page_size=page_size, page_token=token)
        seen += [e.experiment_id for e in page.items]
        token = page.next_page_token
        if token is None:
            break
    assert seen == expected


def test_get_experiments_continues_with_tokens_and_refuses_forged_ones(
    served: tuple[httpx.Client, TrackingService],
) -> None:
    http, service = served
    expected = [e.name for e in service.list_experiments(view_type="All", tags={"team": "a"})]
    params: dict[str, Any] = {"view_type": "All", "tag": "team=a", "limit": 3}
    seen: list[str] = []
    token = None
    tokens = []
    while True:
        answer = http.get(
            EXPERIMENTS, params={**params, **({"page_token": token} if token else {})}
        )
        assert answer.status_code == 200, answer.text
        seen += [e["name"] for e in answer.json()["items"]]
        assert all("run_count" in e for e in answer.json()["items"])
        token = answer.json()["next_page_token"]
        if token is None:
            break
        tokens.append(token)
    assert seen == expected and tokens
    _, digest = tokens[0].split(".")
    forged_body = base64.urlsafe_b64encode(b'[1,0.0,"exp-00","x"]').decode().rstrip("=")
    for forged, other in (
        (f"{forged_body}.{digest}", params),
        (tokens[0], {**params, "tag": "team=b"}),
        (tokens[0], {**params, "view_type": "ActiveOnly"}),
        ("not-a-token", params),
    ):
        refused = http.get(EXPERIMENTS, params={**other, "page_token": forged})
        assert refused.status_code == 400, refused.text
        assert "page_token" in refused.text


def test_offset_and_remote_clients_list_everything(
    served: tuple[httpx.Client, TrackingService],
) -> None:
    http, service = served
    expected = [e.name for e in service.list_experiments(view_type="All")]
    seen: list[str] = []
    offset = 0
    while True:
        answer = http.get(EXPERIMENTS, params={"view_type": "All", "limit": 4, "offset": offset})
        seen += [e["name"] for e in answer.json()["items"]]
        offset = answer.json()["next_offset"]
        if not offset:
            break
    assert seen == expected
    workspace = Workspace(tracking_uri=str(http.base_url))
    assert [e.name for e in Experiment.list(workspace, view_type="All")] == expected
    backend = workspace._connection.backend
    page = backend.list_experiments_page(view_type="All", page_size=5)
    assert [e.name for e in page.items] == expected[:5] and page.next_page_token
