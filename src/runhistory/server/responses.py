"""JSON responses (orjson, non-finite floats kept) and paging of lists."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.responses import JSONResponse

from runhistory.client.wire import dumps

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000


class JsonResponse(JSONResponse):
    """A JSON response serialised with orjson; records (dataclasses) become objects.

    A ``JSONResponse`` for FastAPI, so that the OpenAPI schema documents the routes' response
    models instead of a plain string.
    """

    def render(self, content: Any) -> bytes:
        return dumps(content)


def page(items: Sequence[Any], offset: int, limit: int) -> dict[str, Any]:
    """``{"items", "next_offset"}`` for ``items`` fetched with one extra row past ``limit``."""
    more = len(items) > limit
    return {"items": list(items[:limit]), "next_offset": offset + limit if more else None}


def slice_page(items: Sequence[Any], offset: int, limit: int) -> dict[str, Any]:
    """Page a complete list."""
    return page(items[offset : offset + limit + 1], offset, limit)
