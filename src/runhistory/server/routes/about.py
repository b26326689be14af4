"""What a client may ask the server about itself: its version and the studio's public URL."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from runhistory import __version__
from runhistory.server.body import WireRoute
from runhistory.server.config import ServerSettings
from runhistory.server.responses import JsonResponse
from runhistory.server.routes.batches import ENVIRONMENT_IDS, FEATURE

router = APIRouter(route_class=WireRoute, tags=["server"])


@router.get("/server-info")
def server_info(request: Request) -> Any:
    """The server's version, public URL (``null`` when none is set, for portal links) and
    ``features``: ``change-batches`` when it takes run changes at ``POST /changes/batches``,
    ``environment-ids`` when those name a run's environment by id (see
    :mod:`runhistory.client.change_wire`)."""
    settings: ServerSettings = request.app.state.settings
    return JsonResponse(
        {
            "version": __version__,
            "public_url": settings.public_url,
            "features": [FEATURE, ENVIRONMENT_IDS],
        }
    )
