"""A small YAML writer for ``-o yaml`` (JSON-like data only: dicts, lists, scalars).

Written here so that YAML output needs no extra dependency. Strings are plain only when
they cannot be read back as anything else; otherwise they are double-quoted with JSON
escapes, which YAML reads the same way.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

_PLAIN = re.compile(r"^[A-Za-z_](?:[A-Za-z0-9_.\-/ ]*[A-Za-z0-9_.\-/])?$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "y", "n", "null", "nan", "inf"}
# Characters to escape inside quotes: those YAML does not allow unescaped in a stream (DEL,
# C1 controls, surrogates) and those it reads as line breaks (NEL, U+2028, U+2029).
_NON_PRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")


def to_yaml(value: Any) -> str:
    """``value`` as a YAML document (without the ``---`` marker), ending in a newline."""
    return "\n".join(_lines(value, 0)) + "\n"


def _is_block(value: Any) -> bool:
    return isinstance(value, (dict, list, tuple)) and len(value) > 0


def _lines(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(value, dict) and value:
        out: list[str] = []
        for key, item in value.items():
            name = _scalar(str(key))
            if _is_block(item):
                out.append(f"{pad}{name}:")
                out.extend(_lines(item, indent + 2))
            else:
                out.append(f"{pad}{name}: {_scalar(item)}")
        return out
    if isinstance(value, (list, tuple)) and value:
        out = []
        for item in value:
            if _is_block(item):
                inner = _lines(item, indent + 2)
                out.append(f"{pad}- {inner[0][indent + 2 :]}")
                out.extend(inner[1:])
            else:
                out.append(f"{pad}- {_scalar(item)}")
        return out
    return [pad + _scalar(value)]


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, (list, tuple)):
        return "[]"
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _RESERVED:
        return text
    quoted = json.dumps(text, ensure_ascii=False)
    return _NON_PRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def _float(value: float) -> str:
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    mantissa, e, exponent = text.partition("e")
    if e and "." not in mantissa:
        # YAML 1.1 readers need a dot in the mantissa to see a float.
        text = f"{mantissa}.0e{exponent}"
    return text
