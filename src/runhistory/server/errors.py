"""Turning exceptions into HTTP responses the remote client turns back into exceptions.

Every error response has the body ``{"error": <class name>, "message": ..., "fields": {...}}``
and the status code of the :class:`~runhistory.errors.RunhistoryError` subclass.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from runhistory.errors import (
    AuthenticationError,
    NotFoundError,
    RunhistoryError,
    StorageError,
    ValidationError,
)
from runhistory.server.responses import JsonResponse

log = logging.getLogger("runhistory.server")
RETRY_AFTER_SECONDS = "2"


class PayloadTooLargeError(ValidationError):
    """A request body over the server's limit (HTTP 413)."""

    status_code = 413


def error_response(exc: RunhistoryError, headers: dict[str, str] | None = None) -> Response:
    """The JSON response for a runhistory error."""
    body = {"error": _wire_name(exc), "message": exc.message, "fields": exc.fields}
    if exc.status_code == 503:  # a store is unavailable: clients retry after a pause
        headers = {**(headers or {}), "Retry-After": RETRY_AFTER_SECONDS}
    return JsonResponse(body, status_code=exc.status_code, headers=headers)


def _wire_name(exc: RunhistoryError) -> str:
    # Server-only subclasses travel as their public parent so clients know the type.
    return "ValidationError" if isinstance(exc, PayloadTooLargeError) else type(exc).__name__


async def _on_runhistory_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RunhistoryError)
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, AuthenticationError) else None
    return error_response(exc, headers)


async def _on_request_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(_describe(e) for e in exc.errors())
    return error_response(ValidationError(f"invalid request: {problems}"))


def _describe(error: dict[str, Any]) -> str:
    where = ".".join(str(part) for part in error.get("loc", ()))
    return f"{where}: {error.get('msg', 'invalid')}"


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        error: RunhistoryError = NotFoundError(
            f"no such route: {request.method} {request.url.path} (see /api/v1/openapi.json)"
        )
    elif exc.status_code == 405:
        error = ValidationError(f"method {request.method} is not allowed on {request.url.path}")
        error.status_code = 405  # type: ignore[misc]
    else:
        error = RunhistoryError(str(exc.detail))
        error.status_code = exc.status_code  # type: ignore[misc]
    return error_response(error)


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    if _is_database_error(exc):
        log.error("database failure on %s %s: %s", request.method, request.url.path, exc)
        return error_response(StorageError(f"the metadata store failed: {exc}"))
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(RunhistoryError(f"internal server error ({type(exc).__name__})"))


def _is_database_error(exc: Exception) -> bool:
    from sqlalchemy.exc import DBAPIError

    return isinstance(exc, DBAPIError)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(RunhistoryError, _on_runhistory_error)
    app.add_exception_handler(RequestValidationError, _on_request_validation)
    app.add_exception_handler(HTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
