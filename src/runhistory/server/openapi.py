"""The served OpenAPI schema: FastAPI's, plus what every error answer looks like.

Every operation documents a ``default`` answer with the error body of
:mod:`runhistory.server.errors`; FastAPI's own 422 answer is removed, since this server answers
invalid requests with 400 and that body.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from runhistory.server.answers import ErrorBody

_ERROR = {
    "description": "an error: 400 bad input, 401/403 credentials, 404 not found, 405 method, "
    "409 conflict with stored data, 413 over a limit, 416 range, 500 unexpected (with an "
    "error id), 503 storage unavailable (with its reason and an error id)",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
}
_FASTAPI_ONLY = ("HTTPValidationError", "ValidationError")


def install_openapi(app: FastAPI) -> None:
    """Serve the schema built by :func:`build_schema` (once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_schema(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def build_schema(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI schema with the error answers documented."""
    schema = get_openapi(
        title=app.title, version=app.version, routes=app.routes, description=app.description
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in _FASTAPI_ONLY:
        components.pop(name, None)
    components["ErrorBody"] = ErrorBody.model_json_schema()
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            responses["default"] = _ERROR
    return schema
