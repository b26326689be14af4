"""Turning exceptions into HTTP responses the remote client turns back into exceptions.

Every error response has the body ``{"error": <class name>, "message": ..., "fields": {...}}``
and the status code of the :class:`~runhistory.errors.RunhistoryError` subclass.

What the server answers never carries SQL text or the server's own paths: a storage fault is
answered with its short reason and an error id, and the full story goes to the server's log
under that id. Unexpected exceptions are caught by :class:`UnexpectedErrorMiddleware` (inside
Starlette's outermost middleware, which would re-raise them and make uvicorn drop the
client's keep-alive connection).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runhistory.errors import (
    AuthenticationError,
    NotFoundError,
    RunhistoryError,
    StorageError,
    UnsafePathError,
    ValidationError,
)
from runhistory.faults import database_fault, error_id, is_database_error, os_fault
from runhistory.mlflow_api.errors import ENDPOINT_NOT_FOUND, MlflowApiError, error_body
from runhistory.server.responses import JsonResponse

log = logging.getLogger("runhistory.server")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# MLflow's API answers its errors in MLflow's shape (``{"error_code", "message"}``).
MLFLOW_PREFIXES = (
    "/api/2.0/mlflow", "/ajax-api/2.0/mlflow", "/api/3.0/mlflow", "/ajax-api/3.0/mlflow",
)  # fmt: skip


def mlflow_error_response(exc: RunhistoryError, headers: dict[str, str] | None = None) -> Response:
    """An error as MLflow's server answers it."""
    body, status = error_body(exc)
    return JsonResponse(body, status_code=status, headers=headers)


def _is_mlflow(request: Request) -> bool:
    return str(request.scope.get("path", "")).startswith(MLFLOW_PREFIXES)


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
    return runhistory_error_answer(exc, mlflow=_is_mlflow(request))


def runhistory_error_answer(exc: RunhistoryError, mlflow: bool = False) -> Response:
    """The answer to a request that raised ``exc`` (the routes' handler and the lean batch
    route): its JSON error body (MLflow's shape under MLflow's API), 401 with
    ``WWW-Authenticate``, a storage fault reduced to its reason and error id."""
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, AuthenticationError) else None
    if mlflow:
        return mlflow_error_response(public_error(exc), headers)
    return error_response(public_error(exc), headers)


def unexpected_error_answer(exc: Exception, method: str, path: str) -> Response:
    """The answer to a request that raised an exception no route turned into a runhistory
    error (:class:`UnexpectedErrorMiddleware` and the lean batch route); logged with an id."""
    return error_response(unexpected_error(exc, method, path))


def public_error(exc: RunhistoryError) -> RunhistoryError:
    """``exc`` as the client may see it: a storage fault keeps only its reason and id."""
    reason = exc.fields.get("reason")
    if not isinstance(exc, StorageError) or reason is None:
        return exc
    ident = exc.fields.get("error_id") or error_id()
    log.warning("answered 503 for storage fault %s: %s", ident, exc.message)
    answer = StorageError(
        f"the server's storage is unavailable ({reason}; error id {ident}, the details are "
        "in the server's log)",
        reason=reason, error_id=ident,
    )  # fmt: skip
    return answer


async def _on_request_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(_describe(e) for e in exc.errors())
    if _is_mlflow(request):
        return mlflow_error_response(ValidationError(f"invalid request: {problems}"))
    return error_response(ValidationError(f"invalid request: {problems}"))


def _describe(error: dict[str, Any]) -> str:
    where = ".".join(str(part) for part in error.get("loc", ()))
    return f"{where}: {error.get('msg', 'invalid')}"


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    path = str(request.scope.get("path", ""))  # decoded (request.url drops a newline)
    if exc.status_code in (404, 405) and _is_mlflow(request):
        return mlflow_error_response(
            MlflowApiError(f"no MLflow endpoint {request.method} {path}", ENDPOINT_NOT_FOUND)
        )
    if exc.status_code == 404 and _CONTROL.search(path):
        # No route matches a path with a newline: say what is wrong with it instead.
        error: RunhistoryError = UnsafePathError(
            f"the request path {path!r:.160} must not contain a control character: "
            "names of files, runs and models never hold one"
        )
    elif exc.status_code == 404:
        error = NotFoundError(
            f"no such route: {request.method} {request.url.path} (see /api/v1/openapi.json)"
        )
    elif exc.status_code == 405:
        error = ValidationError(f"method {request.method} is not allowed on {request.url.path}")
        error.status_code = 405  # type: ignore[misc]
    else:
        error = RunhistoryError(str(exc.detail))
        error.status_code = exc.status_code  # type: ignore[misc]
    return error_response(error)


def unexpected_error(exc: Exception, method: str, path: str) -> RunhistoryError:
    """The error answered for an exception no route turned into a runhistory error."""
    if is_database_error(exc) or isinstance(exc, OverflowError):
        return public_error(database_fault(exc, "of the server"))
    if isinstance(exc, OSError):
        return public_error(os_fault(exc, f"{method} {path}", "of the server's storage"))
    ident = error_id()
    log.error("unexpected error %s on %s %s", ident, method, path, exc_info=exc)
    return RunhistoryError(
        f"internal server error (error id {ident}; the details are in the server's log)",
        error_id=ident,
    )


class UnexpectedErrorMiddleware:
    """Answers an exception that escaped every handler with a JSON error, keeping the
    connection usable; one raised after the response started is re-raised."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            answer = unexpected_error_answer(exc, scope.get("method", ""), scope.get("path", ""))
            await answer(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers (and the middleware for unexpected errors) on ``app``."""
    app.add_exception_handler(RunhistoryError, _on_runhistory_error)
    app.add_exception_handler(RequestValidationError, _on_request_validation)
    app.add_exception_handler(HTTPException, _on_http_error)
    app.add_middleware(UnexpectedErrorMiddleware)
