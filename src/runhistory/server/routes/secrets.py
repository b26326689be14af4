"""Workspace secrets: values are written and read one by one, never listed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from runhistory.errors import PermissionDeniedError
from runhistory.server.answers import SecretAnswer, SecretPage
from runhistory.server.body import WireRoute
from runhistory.server.responses import JsonResponse
from runhistory.server.routes import tracking
from runhistory.server.schemas import SecretValue
from runhistory.tracking.service import TrackingService

router = APIRouter(route_class=WireRoute, prefix="/secrets", tags=["secrets"])
Service = Depends(tracking)


@router.put("/{name}", status_code=204)
def set_secret(name: str, body: SecretValue, service: TrackingService = Service) -> Response:
    """Store or replace a secret (encrypted at rest)."""
    service.set_secret(name, body.value)
    return Response(status_code=204)


@router.get("", response_model=SecretPage)
def list_secrets(service: TrackingService = Service) -> Any:
    """Secret names only."""
    items = [{"name": n} for n in service.list_secret_names()]
    return JsonResponse({"items": items, "next_offset": None})


def _token_required(request: Request) -> None:
    if request.app.state.services.tokens is None:
        raise PermissionDeniedError(
            "secret values are only served to requests with a token: start the server with "
            "--auth and send 'Authorization: Bearer <token>'"
        )


@router.get("/{name}", dependencies=[Depends(_token_required)], response_model=SecretAnswer)
def get_secret(name: str, service: TrackingService = Service) -> Any:
    """One secret's value (only on a server with ``--auth``: values need a token)."""
    return JsonResponse({"name": name, "value": service.get_secret(name)})


@router.delete("/{name}", status_code=204)
def delete_secret(name: str, service: TrackingService = Service) -> Response:
    """Delete a secret."""
    service.delete_secret(name)
    return Response(status_code=204)
