"""Pages of MLflow answers: ``max_results`` and an opaque ``page_token`` (an offset here)."""

from __future__ import annotations

from typing import TypeVar

from runhistory.mlflow_api.errors import MlflowApiError

T = TypeVar("T")


def page_size(max_results: object, default: int, maximum: int) -> int:
    """``max_results`` checked against MLflow's limit (``default`` when not given)."""
    if max_results is None or max_results == "":
        return default
    try:
        size = int(str(max_results))
    except ValueError:
        raise MlflowApiError(f"max_results must be an integer, got {max_results!r:.40}") from None
    if not 1 <= size <= maximum:
        raise MlflowApiError(
            f"Invalid value {size} for parameter 'max_results' supplied. It must be at most "
            f"{maximum}, and at least 1."
        )
    return size


def offset_of(page_token: object) -> int:
    """Where a page starts: the offset held by ``page_token`` (0 without one)."""
    if page_token is None or page_token == "":
        return 0
    try:
        offset = int(str(page_token))
    except ValueError:
        offset = -1
    if offset < 0:
        raise MlflowApiError(f"Invalid page token {page_token!r:.60}: not a token of this server")
    return offset


def next_token(offset: int, size: int, total: int) -> str | None:
    """The token of the page after ``[offset, offset + size)``, or ``None`` at the end."""
    return str(offset + size) if offset + size < total else None


def page_of(
    items: list[T], max_results: object, page_token: object, default: int, maximum: int
) -> tuple[list[T], str | None]:
    """One page of ``items`` and the token of the next page."""
    size = page_size(max_results, default, maximum)
    offset = offset_of(page_token)
    return items[offset : offset + size], next_token(offset, size, len(items))


__all__ = ["next_token", "offset_of", "page_of", "page_size"]
