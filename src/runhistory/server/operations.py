"""What operators watch: readiness (``/readyz``), Prometheus metrics (``/metrics``), and
gzip-compressed responses.

Metrics are kept with ``prometheus_client``. With several worker processes the parent points
``PROMETHEUS_MULTIPROC_DIR`` at a private folder before starting them, so ``/metrics``
answers with the sum over every worker whichever worker serves the scrape.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runhistory import __version__
from runhistory.errors import RunhistoryError
from runhistory.server.config import Services
from runhistory.server.responses import JsonResponse

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
API_PREFIX = "/api/v1"
log = logging.getLogger("runhistory.server")


class Meters:
    """The server's Prometheus metrics (made once per process, on first use)."""

    def __init__(self) -> None:
        from prometheus_client import Counter, Gauge, Histogram

        self.requests = Counter(
            "runhistory_http_requests", "HTTP requests answered.", ["method", "route", "status"]
        )
        self.latency = Histogram(
            "runhistory_http_request_duration_seconds", "Time to answer a request.",
            ["method", "route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )  # fmt: skip
        self.in_progress = Gauge(
            "runhistory_http_requests_in_progress", "Requests being answered (the server's "
            "queue: requests waiting for a worker thread are counted here).",
            multiprocess_mode="livesum",
        )  # fmt: skip
        self.points = Counter(
            "runhistory_metric_points_written", "Metric values received and stored."
        )
        self.group_batches = Histogram(
            "runhistory_change_group_batches", "Batches of run changes of concurrent requests "
            "stored together in one transaction (group commit): bigger when busier.",
            buckets=(1, 2, 3, 4, 6, 8, 16, 32, 64, 128, 256, 512),
        )  # fmt: skip
        self.group_seconds = Histogram(
            "runhistory_change_group_seconds", "Time to store one group of run changes.",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )  # fmt: skip

    def answered(self, method: str, route: str, status: int, started: float) -> None:
        """Count and time one answered request (begun at ``perf_counter()`` ``started``;
        :class:`MetricsMiddleware` and the lean batch route)."""
        self.latency.labels(method, route).observe(time.perf_counter() - started)
        self.requests.labels(method, route, str(status)).inc()


_meters: Meters | None = None


def meters() -> Meters:
    """This process's metrics."""
    global _meters
    if _meters is None:
        _meters = Meters()
    return _meters


def count_points(count: int) -> None:
    """Add ``count`` stored metric values to ``runhistory_metric_points_written_total``."""
    meters().points.inc(count)


class MetricsMiddleware:
    """Counts and times every HTTP request by method, route template and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.meters = meters()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        started = time.perf_counter()
        self.meters.in_progress.inc()
        try:
            await self.app(scope, receive, sending)
        finally:
            self.meters.in_progress.dec()
            self.meters.answered(scope["method"], _route_template(scope), status[0], started)


def _route_template(scope: Scope) -> str:
    """The matched route's path template (``/api/v1/runs/{run_id}``), never the raw path (whose
    ids would make a label per run)."""
    template = getattr(scope.get("route"), "path", None)
    if not isinstance(template, str):
        return "unmatched"
    if scope["path"].startswith(API_PREFIX + "/") and not template.startswith(API_PREFIX):
        return API_PREFIX + template  # a route of the API router, matched under its prefix
    return template


async def metrics_endpoint(request: Request) -> Response:
    """Prometheus text format: request counts and latencies, requests in progress, points."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
    from prometheus_client.registry import CollectorRegistry

    registry: Any = REGISTRY
    if os.environ.get(MULTIPROCESS_VARIABLE):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    # Off the event loop: with several workers it reads every process's metrics file.
    return Response(await run_in_threadpool(generate_latest, registry),
                    media_type=CONTENT_TYPE_LATEST)  # fmt: skip


async def readyz(request: Request) -> Response:
    """200 when the database and the artifact store answer, else 503 naming what failed."""
    services: Services = request.app.state.services
    checks = await run_in_threadpool(_checks, services)
    ready = all(state == "ok" for state in checks.values())
    body = {"status": "ready" if ready else "unavailable", "checks": checks,
            "version": __version__}  # fmt: skip
    headers = None if ready else {"Retry-After": "5"}
    return JsonResponse(body, status_code=200 if ready else 503, headers=headers)


def _checks(services: Services) -> dict[str, str]:
    tracking = services.tracking
    return {
        "database": _check("database", tracking.store.ping),
        "artifacts": _check("artifact store", lambda: tracking.artifacts.exists("readyz/probe")),
    }


def _check(what: str, probe: Any) -> str:
    try:
        probe()
    except RunhistoryError as exc:
        log.warning("readiness: the %s is unavailable: %s", what, exc)
        return f"unavailable ({type(exc).__name__})"
    return "ok"


# Binary and already-compressed answers, and any answer to a Range request, go out as they are.
_NOT_COMPRESSED = (*DEFAULT_EXCLUDED_CONTENT_TYPES, "application/octet-stream",
                   "application/x-tar")  # fmt: skip


GZIP_MINIMUM = 1024  # smaller answers go out as they are
GZIP_LEVEL = 1


def accepts_gzip(scope: Scope) -> bool:
    """Whether the client accepts gzip-compressed answers."""
    for name, value in scope.get("headers", ()):
        if name == b"accept-encoding":
            return b"gzip" in value
    return False


class CompressionMiddleware:
    """gzip for clients that accept it (JSON, the studio's files), never for Range requests
    (the lean batch route compresses with the same size and level)."""

    def __init__(self, app: ASGIApp, minimum_size: int = GZIP_MINIMUM) -> None:
        self.app = app
        self.gzip = GZipMiddleware(
            app, minimum_size=minimum_size, compresslevel=GZIP_LEVEL,
            exclude_content_types=_NOT_COMPRESSED,
        )  # fmt: skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not _has_range(scope):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def _has_range(scope: Scope) -> bool:
    return any(name == b"range" for name, _ in scope.get("headers", ()))
