"""The environment registry: register a definition, list names, read a version."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from runhistory.server.answers import EnvironmentPage
from runhistory.server.body import WireRoute
from runhistory.server.params import DEFAULT_LIMIT, Limit, Offset
from runhistory.server.responses import JsonResponse, slice_page
from runhistory.server.routes import tracking
from runhistory.server.schemas import EnvironmentRegister
from runhistory.tracking.entities import EnvironmentVersion
from runhistory.tracking.service import TrackingService

router = APIRouter(route_class=WireRoute, prefix="/environments", tags=["environments"])
Service = Depends(tracking)


@router.post("", response_model=EnvironmentVersion)
def register_environment(body: EnvironmentRegister, service: TrackingService = Service) -> Any:
    """Register a definition as the next version of its name (unchanged: the same version)."""
    return JsonResponse(service.register_environment(body.name, body.definition))


@router.get("", response_model=EnvironmentPage)
def list_environments(
    name: str | None = None,
    latest: bool = True,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
    service: TrackingService = Service,
) -> Any:
    """Registered environments (the newest version of each name unless ``latest=false``)."""
    found = service.list_environments(name=name, latest=latest)
    return JsonResponse(slice_page(found, offset, limit))


@router.get("/{name}/versions/{version}", response_model=EnvironmentVersion)
def get_environment(name: str, version: str, service: TrackingService = Service) -> Any:
    """One registered version (``latest`` allowed)."""
    return JsonResponse(service.get_environment(name, None if version == "latest" else version))
