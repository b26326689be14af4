"""The API routes, one module per resource; every router is mounted under ``/api/v1``."""

from __future__ import annotations

from fastapi import Request

from runhistory.tracking.service import TrackingService


def tracking(request: Request) -> TrackingService:
    """The tracking service hosted by this server (a FastAPI dependency)."""
    service: TrackingService = request.app.state.services.tracking
    return service
