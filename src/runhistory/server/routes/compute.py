"""Named compute targets: attach (record), list, show and detach."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response

from runhistory.server.answers import ComputeTargetPage
from runhistory.server.body import WireRoute
from runhistory.server.responses import JsonResponse
from runhistory.server.routes import tracking
from runhistory.server.schemas import ComputeTargetCreate
from runhistory.tracking.entities import ComputeTargetInfo
from runhistory.tracking.service import TrackingService

router = APIRouter(route_class=WireRoute, prefix="/compute-targets", tags=["compute"])
Service = Depends(tracking)


@router.post("", response_model=ComputeTargetInfo, status_code=201)
def create_compute_target(body: ComputeTargetCreate, service: TrackingService = Service) -> Any:
    """Record a new named target (409 if the name is taken)."""
    created = service.create_compute_target(body.name, body.kind, body.config)
    return JsonResponse(created, status_code=201)


@router.get("", response_model=ComputeTargetPage)
def list_compute_targets(service: TrackingService = Service) -> Any:
    """Every named target, by name."""
    return JsonResponse({"items": service.list_compute_targets(), "next_offset": None})


@router.get("/{name}", response_model=ComputeTargetInfo)
def get_compute_target(name: str, service: TrackingService = Service) -> Any:
    """One named target."""
    return JsonResponse(service.get_compute_target(name))


@router.delete("/{name}", status_code=204)
def delete_compute_target(name: str, service: TrackingService = Service) -> Response:
    """Forget a named target (its runs keep their records)."""
    service.delete_compute_target(name)
    return Response(status_code=204)
