"""The one rule for text: every string runhistory stores is valid Unicode text without NUL.

SQLite keeps any string, PostgreSQL refuses NUL in text and JSONB, and no database (nor
orjson, nor UTF-8) takes a lone surrogate (``\\ud800``-``\\udfff`` not paired). So every
backend refuses both, in every string it would keep: metric names, values and descriptions,
tag and property keys and values, display names, descriptions, documents.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from runhistory.errors import ValidationError

TEXT_RULE = "NUL characters and lone surrogates (\\ud800-\\udfff) are not allowed in stored text"
# A JSON escape of NUL: "\u0000" after an even number of backslashes (an odd one escapes it).
_NUL_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


def has_nul_escape(json_text: str) -> bool:
    """Whether a JSON text holds a string with a NUL character (written ``\\u0000``)."""
    return "\\u0000" in json_text and _NUL_ESCAPE.search(json_text) is not None


def text_problem(value: str) -> str | None:
    """What breaks the text rule in ``value`` (``None`` when nothing does)."""
    if "\x00" in value:
        return "contains a NUL character"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            return f"contains a lone surrogate {value[exc.start]!r} at position {exc.start}"
    return None


def check_text(value: object, field: str, limit: int | None = None) -> str:
    """Return ``value`` if it is a string that may be stored as ``field``.

    Raises:
        ValidationError: not a string, longer than ``limit``, or breaking the text rule;
            the message names the field and the value.
    """
    if (
        type(value) is str
        and value.isascii()
        and "\x00" not in value
        and (limit is None or len(value) <= limit)
    ):
        return value  # the common case
    if type(value) is not str:
        if not isinstance(value, str):
            raise ValidationError(
                f"{field} must be a string, got {type(value).__name__} {value!r:.80}", field=field
            )
        value = str(value)
    if limit is not None and len(value) > limit:
        raise ValidationError(
            f"{field} {value[:40]!r}… is {len(value)} characters long; the limit is {limit}",
            field=field,
        )
    problem = text_problem(value)
    if problem is not None:
        raise ValidationError(f"{field} {value!r:.120} {problem}; {TEXT_RULE}", field=field)
    return value


def check_optional_text(value: object, field: str, limit: int | None = None) -> str | None:
    """:func:`check_text`, or ``None``."""
    return None if value is None else check_text(value, field, limit)


def dump_document(value: Any, field: str, sort_keys: bool = False) -> str:
    """``value`` as JSON text, refused if it cannot be stored as ``field`` (a value JSON cannot
    hold, a string with a lone surrogate or a NUL); keys that are not strings become strings."""
    option = orjson.OPT_NON_STR_KEYS | (orjson.OPT_SORT_KEYS if sort_keys else 0)
    try:
        text = orjson.dumps(value, option=option).decode()
    except TypeError as exc:
        raise ValidationError(f"{field} cannot be stored as JSON: {exc}", field=field) from None
    if has_nul_escape(text):
        raise ValidationError(f"{field} contains a NUL character; {TEXT_RULE}", field=field)
    return text


def printable(value: str) -> str:
    """``value`` with NUL and lone surrogates written as escapes (``\\x00``, ``\\udcff``).

    For text runhistory composes itself and must store whatever it holds (error messages and
    tracebacks of failed runs): it is kept, readable, instead of refused.
    """
    if text_problem(value) is None:
        return value
    escaped = value.encode("utf-8", "backslashreplace").decode("utf-8")
    return escaped.replace("\x00", "\\x00")
