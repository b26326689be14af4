"""The server's studio route: the built single page at ``/``, or how to build it."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute
from helpers import Studio

from runhistory.server.routes.studio import mount_studio


def test_missing_studio_says_how_to_build_it(tmp_path: Path) -> None:
    app = FastAPI()
    mount_studio(app, tmp_path / "static")
    route = next(r for r in app.routes if isinstance(r, APIRoute) and r.path == "/")
    # A thread of its own: the browser tests of the same session leave an event loop running
    # in this one, and asyncio.run() refuses to nest.
    with ThreadPoolExecutor(max_workers=1) as pool:
        answer = pool.submit(asyncio.run, route.endpoint()).result()
    assert answer.status_code == 503
    assert b"make studio" in answer.body


def test_server_serves_the_built_studio(studio: Studio) -> None:
    page = httpx.get(f"{studio.url}/")
    assert page.status_code == 200 and "<title>runhistory studio</title>" in page.text
    assert page.headers["cache-control"] == "no-cache"
    script = page.text.split('src="./', 1)[1].split('"', 1)[0]
    bundle = httpx.get(f"{studio.url}/{script}")
    assert bundle.status_code == 200 and len(bundle.content) > 100_000
