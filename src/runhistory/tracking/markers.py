"""Value markers in runhistory's JSON, and the escaping that keeps user keys apart from them.

JSON cannot carry every value, so some travel (and documents are stored) as one-key objects:
``{"$float": "nan"}`` for a non-finite float, ``{"$int": "<digits>"}`` for an integer beyond
64 bits on the wire, and ``{"$undecodable": …, "error": …}`` for a stored value that cannot
be read. A user's own map may use the same keys (``run.add_properties({"$int": ""})``), so
every object key that *looks like* a marker is escaped on encode and unescaped on decode:

- a key made of one or more ``$`` followed by a marker name (``$float``, ``$$int``,
  ``$$$undecodable`` …) gets one more ``$`` when encoded;
- a key made of two or more ``$`` followed by a marker name loses one ``$`` when decoded.

A marker itself is never escaped, so an encoded ``{"$int": "5"}`` is always the marker and
``{"$$int": "5"}`` always the user's map ``{"$int": "5"}``; a user key that already looks
escaped (``$$int``) comes back as itself too. A single-``$`` key is left as it is on decode,
so JSON written before the escaping existed reads as it did.
"""

from __future__ import annotations

import re
from typing import Any

FLOAT_MARKER = "$float"
INT_MARKER = "$int"
MARKER_NAMES = frozenset(("float", "int", "undecodable"))

# A string in JSON text that is a marker's key or an escaped one; KEY_LIKE: an object key in
# compact JSON (orjson's). A quote that opens a string never follows a backslash.
MARKED = re.compile(rb'(?<!\\)"\$+(?:float|int|undecodable)"')
KEY_LIKE = re.compile(rb'(?<!\\)"\$+(?:float|int|undecodable)":')


def may_hold_marker(data: bytes) -> bool:
    """Whether JSON text may hold a marker or an escaped key: a string starting with ``$``,
    which other writers may also write as ``\\u0024`` (then any ``\\u`` escape counts).

    ``$`` alone is looked for first: a quote is in every other byte of JSON, so searching for
    ``"$`` tries nearly every position, while a ``$`` is rare and found (or not) at once.
    """
    return (b"$" in data and b'"$' in data) or b"\\u" in data


def escape_key(key: str) -> str:
    """``key`` with one more ``$`` if it looks like a marker (see the module docstring)."""
    if key[:1] == "$" and key.lstrip("$") in MARKER_NAMES:
        return "$" + key
    return key


def unescape_key(key: str) -> str:
    """Undo :func:`escape_key`."""
    if key[:2] == "$$" and key.lstrip("$") in MARKER_NAMES:
        return key[1:]
    return key


def escape_keys(value: Any) -> Any:
    """``value`` with every object key that looks like a marker escaped, at any depth."""
    kind = type(value)
    if kind is dict:
        return {escape_key(k) if type(k) is str else k: escape_keys(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [escape_keys(v) for v in value]
    return value


def decode_document(value: Any) -> Any:
    """A stored JSON document as the Python value it was made from.

    Turns ``{"$float": …}`` markers back into floats and unescapes keys (a marker that does
    not hold a number is kept as it is).
    """
    if isinstance(value, dict):
        if len(value) == 1 and type(value.get(FLOAT_MARKER)) is str:
            try:
                return float(value[FLOAT_MARKER])
            except ValueError:
                return value
        return {unescape_key(k): decode_document(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_document(v) for v in value]
    return value
