"""Continuation tokens of listings: a position, checked before it is used.

A token carries the sort key of the last run of a page (see
:class:`~runhistory.tracking.entities.RunCursor`) and a check digest over that key and the
listing's filters. A token that was garbled, made up, or taken from a listing with other
filters is refused with :class:`~runhistory.errors.ValidationError` (HTTP 400) instead of
silently listing from the wrong place.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
from typing import Any

import orjson

from runhistory.errors import ValidationError
from runhistory.tracking.entities import RunCursor

_VERSION = 1
_DIGEST_CHARS = 22  # 132 bits of a SHA-256, base64url
_INT64 = 2**63
_MAX_TOKEN = 2048


MAX_PAGE_SIZE = 10_000


def check_page_size(page_size: object) -> None:
    """Refuse a page size that is not a number of items from 1 to :data:`MAX_PAGE_SIZE`.

    Raises:
        ValidationError: it is not.
    """
    if isinstance(page_size, bool) or not isinstance(page_size, int):
        raise ValidationError(f"page_size must be a whole number, not {page_size!r}")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationError(
            f"page_size must be between 1 and {MAX_PAGE_SIZE}, not {page_size!r}",
            page_size=page_size,
        )


def scope_of(filters: dict[str, Any]) -> str:
    """A stable text naming a listing's filters (what a token is bound to)."""
    return orjson.dumps(filters, option=orjson.OPT_SORT_KEYS, default=_plain).decode()


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot name a filter of type {type(value).__name__}")


def _digest(body: str, scope: str) -> str:
    raw = hashlib.sha256(f"runhistory-page/{_VERSION}\n{body}\n{scope}".encode()).digest()
    return base64.urlsafe_b64encode(raw).decode()[:_DIGEST_CHARS]


def encode_token(cursor: RunCursor, scope: str) -> str:
    """The continuation token that resumes a listing with filters ``scope`` after ``cursor``."""
    return _encode([_VERSION, cursor.created_time, cursor.number, cursor.run_id], scope)


def encode_name_token(name: str, scope: str) -> str:
    """The continuation token of a listing by name (metric names) after ``name``."""
    return _encode([_VERSION, name], scope)


def decode_name_token(token: str, scope: str) -> str:
    """The name in a token of :func:`encode_name_token`.

    Raises:
        ValidationError: the token is malformed, altered, or belongs to another listing.
    """
    found = _decode(token, scope)
    if len(found) != 2 or not isinstance(found[1], str):
        raise _invalid("its content is not a position in a listing by name")
    return found[1]


def encode_key_token(key: tuple[Any, ...], scope: str) -> str:
    """The continuation token of a listing ordered by a key of texts, numbers and flags
    (models: name and version; experiments: created time, name and id) after ``key``."""
    return _encode([_VERSION, *key], scope)


def decode_key_token(token: str, scope: str, types: tuple[type, ...]) -> tuple[Any, ...]:
    """The key in a token of :func:`encode_key_token`, whose parts have ``types`` (``float``
    accepts any finite number, ``int`` a 64-bit integer).

    Raises:
        ValidationError: the token is malformed, altered, or belongs to another listing.
    """
    found = _decode(token, scope)[1:]
    if len(found) != len(types) or not all(map(_of_type, found, types)):
        raise _invalid("its content is not a position in this listing")
    return tuple(float(v) if t is float else v for v, t in zip(found, types, strict=True))


def _of_type(value: Any, wanted: type) -> bool:
    if isinstance(value, bool):
        return False
    if wanted is float:
        return isinstance(value, int | float) and math.isfinite(value)
    if wanted is int:
        return isinstance(value, int) and -_INT64 <= value < _INT64
    return isinstance(value, wanted)


_KEY = "k"  # marks a position in an ordered listing (see encode_order_token)


def encode_order_token(key: tuple[Any, ...], scope: str) -> str:
    """The continuation token of an ordered listing after the run whose sort key is ``key``."""
    return _encode([_VERSION, _KEY, *key], scope)


def decode_order_token(token: str, scope: str) -> tuple[Any, ...]:
    """The sort key in a token of :func:`encode_order_token`.

    Raises:
        ValidationError: the token is malformed, altered, or belongs to another listing.
    """
    found = _decode(token, scope)
    parts = found[2:]
    if len(found) < 3 or found[1] != _KEY or not all(map(_scalar, parts)):
        raise _invalid("its content is not a position in an ordered run listing")
    return tuple(parts)


def _scalar(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -_INT64 <= value < _INT64
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, str)


def _encode(position: list[Any], scope: str) -> str:
    body = base64.urlsafe_b64encode(orjson.dumps(position)).decode().rstrip("=")
    return f"{body}.{_digest(body, scope)}"


def decode_token(token: str, scope: str) -> RunCursor:
    """The position in ``token``.

    Raises:
        ValidationError: the token is malformed, altered, or belongs to another listing.
    """
    found = _decode(token, scope)
    if not (
        len(found) == 4
        and isinstance(found[1], int | float)
        and not isinstance(found[1], bool)
        and math.isfinite(found[1])
        and isinstance(found[2], int)
        and not isinstance(found[2], bool)
        and -_INT64 <= found[2] < _INT64
        and isinstance(found[3], str)
    ):
        raise _invalid("its content is not a position in a run listing")
    return RunCursor(float(found[1]), found[2], found[3])


def _decode(token: str, scope: str) -> list[Any]:
    if not isinstance(token, str) or len(token) > _MAX_TOKEN or token.count(".") != 1:
        raise _invalid("it is not a token this server made")
    body, digest = token.split(".")
    if digest != _digest(body, scope):
        raise _invalid(
            "its check digest does not match: it was altered, or it continues a listing "
            "with other filters"
        )
    try:
        found = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (binascii.Error, ValueError):
        raise _invalid("it cannot be decoded") from None
    if not isinstance(found, list) or not found or found[0] != _VERSION:
        raise _invalid("its content is not a position in a listing")
    return found


def _invalid(why: str) -> ValidationError:
    return ValidationError(
        f"invalid page_token: {why}; start the listing again without page_token",
        parameter="page_token",
    )
