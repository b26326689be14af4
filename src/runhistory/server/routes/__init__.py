"""The API routes, one module per resource; every router is mounted under ``/api/v1``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import Request

from runhistory.tracking.service import TrackingService

T = TypeVar("T")


def tracking(request: Request) -> TrackingService:
    """The tracking service hosted by this server (a FastAPI dependency)."""
    service: TrackingService = request.app.state.services.tracking
    return service


def per_app(request: Request, name: str, make: Callable[[TrackingService], T]) -> T:
    """The object this app keeps as ``name`` for its routes, made on first use by ``make``
    from the app's tracking service (one per app, shared by its requests)."""
    state = request.app.state
    found: T | None = getattr(state, name, None)
    if found is None:
        found = make(state.services.tracking)
        setattr(state, name, found)
    return found
