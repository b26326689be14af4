"""Pages of MLflow answers: ``max_results`` and an opaque ``page_token``.

A token is an offset for small listings, or a keyset position (:func:`encode_key_token`): the
sort key of the last item of a page, with a check digest over that key and the listing's
query, so a garbled, made-up or foreign token is refused with ``INVALID_PARAMETER_VALUE``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any, TypeVar

import orjson

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


_KEY_VERSION = 1
_DIGEST_CHARS = 22  # 132 bits of a SHA-256, base64url
_MAX_TOKEN = 4096
KEY_PREFIX = "k1."


def _digest(body: str, scope: str) -> str:
    raw = hashlib.sha256(f"mlflow-page/{_KEY_VERSION}\n{body}\n{scope}".encode()).digest()
    return base64.urlsafe_b64encode(raw).decode()[:_DIGEST_CHARS]


def query_scope(query: dict[str, Any]) -> str:
    """A stable text naming a listing's query (what its keyset tokens are bound to)."""
    return orjson.dumps(query, option=orjson.OPT_SORT_KEYS).decode()


def encode_key_token(key: tuple[Any, ...], scope: str) -> str:
    """The token that continues the listing ``scope`` after the item whose sort key is ``key``
    (integers, floats — any, infinities too — and texts)."""
    parts = [float.hex(v) if isinstance(v, float) else v for v in key]
    body = base64.urlsafe_b64encode(orjson.dumps(parts)).decode().rstrip("=")
    return f"{KEY_PREFIX}{body}.{_digest(body, scope)}"


def is_key_token(token: object) -> bool:
    """Whether ``token`` is a keyset token (not an offset)."""
    return isinstance(token, str) and token.startswith(KEY_PREFIX)


def decode_key_token(token: object, scope: str, layout: tuple[type, ...]) -> tuple[Any, ...]:
    """The sort key in a token of :func:`encode_key_token` for the listing ``scope``, whose
    parts have the types of ``layout``.

    Raises:
        MlflowApiError: (``INVALID_PARAMETER_VALUE``) the token is malformed, altered, or
            continues another listing.
    """
    parts = _signed_parts(token, scope)
    if not isinstance(parts, list) or len(parts) != len(layout):
        raise _invalid(token, "it is not a position in this search")
    try:
        return tuple(_part(value, kind) for value, kind in zip(parts, layout, strict=True))
    except (TypeError, ValueError, OverflowError):
        raise _invalid(token, "it is not a position in this search") from None


def _part(value: Any, kind: type) -> Any:
    if kind is float and isinstance(value, str):
        return float.fromhex(value)
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind is str and isinstance(value, str):
        return value
    raise TypeError(f"expected {kind.__name__}")


def encode_values_token(values: tuple[Any, ...], scope: str) -> str:
    """The token that continues the listing ``scope`` after the item whose sort values are
    ``values`` (texts, numbers and ``None``, in any order of types)."""
    parts = [["f", float.hex(float(v))] if isinstance(v, int | float) else v for v in values]
    body = base64.urlsafe_b64encode(orjson.dumps(parts)).decode().rstrip("=")
    return f"{KEY_PREFIX}{body}.{_digest(body, scope)}"


def decode_values_token(token: object, scope: str) -> tuple[Any, ...]:
    """The sort values in a token of :func:`encode_values_token` for the listing ``scope``.

    Raises:
        MlflowApiError: (``INVALID_PARAMETER_VALUE``) the token is malformed, altered, or
            continues another listing.
    """
    parts = _signed_parts(token, scope)
    try:
        if not isinstance(parts, list):
            raise TypeError("not a list")
        return tuple(_value(part) for part in parts)
    except (binascii.Error, ValueError, TypeError, OverflowError):
        raise _invalid(token, "it is not a position in this search") from None


def _signed_parts(token: object, scope: str) -> Any:
    """The decoded body of a keyset token whose digest matches the listing ``scope``."""
    if not is_key_token(token) or len(str(token)) > _MAX_TOKEN:
        raise _invalid(token, "not a token of this server")
    body, dot, digest = str(token).removeprefix(KEY_PREFIX).partition(".")
    if not dot or digest != _digest(body, scope):
        raise _invalid(token, "it was altered, or it continues a search with another query")
    try:
        return orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (binascii.Error, ValueError):
        raise _invalid(token, "it cannot be decoded") from None


def _value(part: Any) -> Any:
    if part is None or isinstance(part, str):
        return part
    if isinstance(part, list) and len(part) == 2 and part[0] == "f" and isinstance(part[1], str):
        return float.fromhex(part[1])
    raise TypeError("not a sort value")


def _invalid(token: object, why: str) -> MlflowApiError:
    return MlflowApiError(f"Invalid page token {token!r:.60}: {why}")


__all__ = [
    "decode_key_token",
    "decode_values_token",
    "encode_key_token",
    "encode_values_token",
    "is_key_token",
    "next_token",
    "offset_of",
    "page_of",
    "page_size",
    "query_scope",
]
