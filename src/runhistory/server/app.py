"""The ASGI application: ``create_app(settings, services)`` builds it with no global state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from starlette.types import Receive, Scope, Send

from runhistory import __version__
from runhistory.server.answers import PROMETHEUS, READINESS, Health, Readiness
from runhistory.server.auth import require_token
from runhistory.server.body import BodyLimitMiddleware
from runhistory.server.config import ServerSettings, Services
from runhistory.server.errors import install_error_handlers
from runhistory.server.lean_batches import LeanBatches, serves
from runhistory.server.openapi import install_openapi
from runhistory.server.operations import (
    CompressionMiddleware,
    MetricsMiddleware,
    metrics_endpoint,
    readyz,
)
from runhistory.server.responses import JsonResponse
from runhistory.server.routes import (
    about,
    batches,
    compute,
    environments,
    experiments,
    files,
    jobs,
    lookup,
    metrics,
    models,
    runs,
    secrets,
    session,
)
from runhistory.server.routes.mlflow import install_mlflow
from runhistory.server.routes.studio import mount_studio

API_PREFIX = "/api/v1"


def create_app(
    settings: ServerSettings, services: Services | None, close_services: bool = True
) -> FastAPI:
    """The tracking server's application.

    Args:
        settings: limits and options of this server process.
        services: the tracking service (and token store) the routes call; ``None``: set
            ``app.state.services`` before serving (a forked worker opens its own services in
            an application its parent built).
        close_services: close the services when the application shuts down.

    Example:
        >>> settings = ServerSettings(backend_store_uri="sqlite:///runhistory.db")  # doctest: +SKIP
        >>> app = create_app(settings, open_services(settings))  # doctest: +SKIP
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if close_services:
            app.state.services.close()

    app = _Application(
        title="runhistory",
        version=__version__,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        default_response_class=JsonResponse,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.services = services
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_json_bytes)
    app.add_middleware(CompressionMiddleware)
    app.add_middleware(MetricsMiddleware)
    install_error_handlers(app)
    # ``POST /changes/batches`` is answered by LeanBatches (see _Application), before FastAPI
    # routes anything; the route is declared here for the OpenAPI document (first and on its
    # own, as its path is a constant no other route matches: the order changes nothing else).
    app.include_router(batches.router, prefix=API_PREFIX, dependencies=[Depends(require_token)])
    _include_api(app)
    app.include_router(session.router, prefix=API_PREFIX)  # signing in needs no token
    app.add_api_route("/healthz", _healthz, methods=["GET"], tags=["health"], response_model=Health)
    app.add_api_route("/readyz", readyz, methods=["GET"], tags=["health"],
                      response_model=Readiness, responses=READINESS)  # fmt: skip
    app.add_api_route("/metrics", metrics_endpoint, methods=["GET"], tags=["health"],
                      responses=PROMETHEUS)  # fmt: skip
    install_mlflow(app)  # MLflow's REST API over the same service (docs/mlflow.md)
    mount_studio(app)
    install_openapi(app)
    return app


class _Application(FastAPI):
    """FastAPI handing ``POST /changes/batches`` to :class:`LeanBatches` first.

    That route's requests skip FastAPI's own ``__call__`` (which looks up the OpenTelemetry
    providers on every request) and the whole middleware stack: its server-error, telemetry
    and body-size layers and the app's own. LeanBatches answers its own errors; every other
    request goes on as it is.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lean_batches = LeanBatches()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if serves(scope):
            if self.root_path:  # as FastAPI and Starlette set the scope
                scope["root_path"] = self.root_path
            scope["app"] = self
            await self._lean_batches(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def _include_api(app: FastAPI) -> None:
    """Every API router under :data:`API_PREFIX`, behind the token, straight into the app.

    Not through one API router: FastAPI builds the handler of every route of a router
    included without a prefix once more just to check its paths (a worker's start-up paid for
    every API route twice), and tries the routes of each nesting level in turn.
    """
    token = [Depends(require_token)]
    for router in (lookup.router, experiments.router, runs.router, metrics.router,
                   files.router, models.router, environments.router, compute.router,
                   jobs.router, secrets.router, about.router, runs.count_router):  # fmt: skip
        app.include_router(router, prefix=API_PREFIX, dependencies=token)


async def _healthz() -> Any:
    """Liveness: answers without touching the database (readiness: ``/readyz``)."""
    return JsonResponse({"status": "ok", "version": __version__})
