"""Model listings in pages: the service's pages (keyset by name and version) hold exactly the
models of the whole listing, with every filter and with ``latest``; ``GET /models`` continues
with ``next_page_token`` on a real server and refuses a forged token or one of other filters
with 400; ``Model.list`` keeps the original's list while reading pages."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from runhistory import Model, Workspace
from runhistory.server.app import create_app
from runhistory.server.config import ServerSettings, open_services
from runhistory.tracking.service import TrackingService
from server.conftest import serving

MODELS = "/api/v1/models"


def _register(service: TrackingService, source: Path) -> None:
    """Versions of three models; every third has tag stage=prod, frameworks alternate."""
    for i in range(24):
        service.register_local_model(
            f"model-{'abc'[i % 3]}", ["weights.bin"], [str(source)],
            tags={"stage": "prod" if i % 3 == 0 or i % 4 == 0 else "dev", "i": str(i)},
            properties={"seed": str(i % 2)}, model_framework="sklearn" if i % 2 else "torch",
        )  # fmt: skip


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[httpx.Client, TrackingService]]:
    settings = ServerSettings(backend_store_uri=str(tmp_path / "server-ws"))
    services = open_services(settings)
    source = tmp_path / "weights.bin"
    source.write_bytes(b"w")
    _register(services.tracking, source)
    with serving(create_app(settings, services)) as http:
        yield http, services.tracking


FILTERS: list[dict[str, Any]] = [
    {},
    {"latest": True},
    {"tags": {"stage": "prod"}},
    {"tags": {"stage": "prod"}, "latest": True},
    {"properties": {"seed": "1"}, "model_framework": "sklearn"},
    {"name": "model-b", "latest": True},
    {"tags": {"stage": "none"}},
]


@pytest.mark.parametrize("filters", FILTERS, ids=str)
@pytest.mark.parametrize("page_size", [1, 3, 7, 100])
def test_pages_hold_the_whole_listing(
    served: tuple[httpx.Client, TrackingService], filters: dict[str, Any], page_size: int
) -> None:
    _, service = served
    expected = [m.model_id for m in service.list_models(**filters)]
    seen: list[str] = []
    token: str | None = None
    while True:
        page = service.list_models_page(**filters, page_size=page_size, page_token=token)
        assert len(page.items) <= page_size
        seen += [m.model_id for m in page.items]
        token = page.next_page_token
        if token is None:
            break
    assert seen == expected


def test_get_models_continues_with_tokens(served: tuple[httpx.Client, TrackingService]) -> None:
    http, service = served
    expected = [m.model_id for m in service.list_models(latest=True, tags={"stage": "prod"})]
    params: dict[str, Any] = {"latest": "true", "tag": "stage=prod", "limit": 2}
    seen: list[str] = []
    token = None
    while True:
        answer = http.get(MODELS, params={**params, **({"page_token": token} if token else {})})
        assert answer.status_code == 200, answer.text
        seen += [f"{m['name']}:{m['version']}" for m in answer.json()["items"]]
        token = answer.json()["next_page_token"]
        if token is None:
            break
    assert seen == expected


def test_forged_and_foreign_tokens_are_refused(
    served: tuple[httpx.Client, TrackingService],
) -> None:
    http, _ = served
    first = http.get(MODELS, params={"limit": 2, "name": "model-a"})
    token = first.json()["next_page_token"]
    assert token
    _, digest = token.split(".")
    forged_body = base64.urlsafe_b64encode(b'[1,"model-a",999]').decode().rstrip("=")
    for forged, params in (
        (f"{forged_body}.{digest}", {"name": "model-a"}),  # another position, old digest
        (token, {"name": "model-b"}),  # a token of other filters
        (token, {"name": "model-a", "latest": "true"}),
        ("garbage", {}),
        (token[:-1] + ("A" if token[-1] != "A" else "B"), {"name": "model-a"}),
    ):
        answer = http.get(MODELS, params={**params, "limit": 2, "page_token": forged})
        assert answer.status_code == 400, answer.text
        assert "page_token" in answer.text
    both = http.get(MODELS, params={"offset": 2, "page_token": token})
    assert both.status_code == 400


def test_offset_clients_still_page(served: tuple[httpx.Client, TrackingService]) -> None:
    http, service = served
    expected = [m.model_id for m in service.list_models(tags={"stage": "prod"})]
    seen: list[str] = []
    offset = 0
    while True:
        answer = http.get(MODELS, params={"tag": "stage=prod", "limit": 4, "offset": offset})
        seen += [f"{m['name']}:{m['version']}" for m in answer.json()["items"]]
        offset = answer.json()["next_offset"]
        if not offset:
            break
    assert seen == expected


def test_model_list_is_a_list_read_in_pages(
    served: tuple[httpx.Client, TrackingService],
) -> None:
    http, service = served
    workspace = Workspace(tracking_uri=str(http.base_url))
    for page_count in (1, 5, 255):
        found = Model.list(workspace, tags=[["stage", "prod"]], page_count=page_count)
        assert isinstance(found, list)
        assert [m.id for m in found] == [
            m.model_id for m in service.list_models(tags={"stage": "prod"})
        ]
    assert [m.id for m in Model.list(workspace, latest=True)] == [
        "model-a:8", "model-b:8", "model-c:8",
    ]  # fmt: skip
