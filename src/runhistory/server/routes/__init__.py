"""The API routes, one module per resource; every router is mounted under ``/api/v1``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import Request

from runhistory.tracking.service import TrackingService

T = TypeVar("T")


async def tracking(request: Request) -> TrackingService:
    """The tracking service hosted by this server (a FastAPI dependency).

    A coroutine although it does no I/O: FastAPI calls a plain function dependency in a
    worker thread, a hop to another thread and back for every request of every route that
    takes the service (on top of the route's own hop when the route is a plain function).
    """
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
