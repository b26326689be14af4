"""The environment registry: register a definition, list names, read a version."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from runhistory.server.responses import DEFAULT_LIMIT, MAX_LIMIT, JsonResponse, slice_page
from runhistory.server.routes import tracking
from runhistory.server.schemas import EnvironmentRegister
from runhistory.tracking.service import TrackingService

router = APIRouter(prefix="/environments", tags=["environments"])
Service = Depends(tracking)


@router.post("")
def register_environment(body: EnvironmentRegister, service: TrackingService = Service) -> Any:
    """Register a definition as the next version of its name (unchanged: the same version)."""
    return JsonResponse(service.register_environment(body.name, body.definition))


@router.get("")
def list_environments(
    name: str | None = None,
    latest: bool = True,
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
    service: TrackingService = Service,
) -> Any:
    """Registered environments (the newest version of each name unless ``latest=false``)."""
    found = service.list_environments(name=name, latest=latest)
    return JsonResponse(slice_page(found, offset, limit))


@router.get("/{name}/versions/{version}")
def get_environment(name: str, version: str, service: TrackingService = Service) -> Any:
    """One registered version (``latest`` allowed)."""
    return JsonResponse(service.get_environment(name, None if version == "latest" else version))
