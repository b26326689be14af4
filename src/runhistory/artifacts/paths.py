"""Artifact names: relative POSIX paths that can never escape their run.

A name is checked before it touches any store. ``./`` segments and repeated or trailing slashes
are collapsed; everything that could point outside the store is refused with
:class:`~runhistory.errors.UnsafePathError`.

A backslash is an ordinary character in a name (``/`` is the only separator), but since a
Windows machine would read it as a separator, a name is also refused when splitting it on
backslashes would give a ``..`` segment or a rooted path (``\\x``, ``\\\\server\\share``).

Names hold no control characters (a newline in a file name breaks every listing and log that
shows it), and each segment fits in :data:`MAX_SEGMENT_BYTES` bytes of UTF-8, the limit of
common file systems, so a name accepted here can be stored on a local disk as well as in S3.
"""

from __future__ import annotations

import re
from typing import NoReturn

from runhistory.errors import UnsafePathError

__all__ = ["MAX_NAME_LENGTH", "MAX_SEGMENT_BYTES", "join_key", "validate_artifact_name"]

MAX_NAME_LENGTH = 1024
"""The longest artifact name accepted, in characters, after normalisation."""

MAX_SEGMENT_BYTES = 255
"""The longest segment (file or folder name) accepted, in bytes of UTF-8."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

_DRIVE = re.compile(r"^[A-Za-z]:")
_SEGMENTS = re.compile(r"[/\\]")
_SHOWN = 80  # characters of a bad name quoted in a message


def validate_artifact_name(name: str) -> str:
    """Check that ``name`` is a safe relative artifact path and return its clean form.

    Args:
        name: a relative POSIX path such as ``outputs/model.pkl``.

    Returns:
        The name with ``.`` segments and duplicate or trailing slashes removed
        (``./outputs//model.pkl`` → ``outputs/model.pkl``).

    Raises:
        UnsafePathError: the name is not a string, is empty, contains a control character
            (NUL, newline, tab, …), is absolute (``/x``, ``\\x``, ``C:\\x``), has a ``..``
            segment, is longer than :data:`MAX_NAME_LENGTH` characters, or has a segment over
            :data:`MAX_SEGMENT_BYTES` bytes.
    """
    if not isinstance(name, str):
        _refuse(repr(name), "must be a string")
    if not name:
        _refuse(name, "must not be empty")
    control = _CONTROL.search(name)
    if control is not None:
        _refuse(name, f"must not contain a control character (found {control.group()!r})")
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        _refuse(name, "must be relative, not absolute (no leading '/', '\\' or drive letter)")
    if any(segment == ".." for segment in _SEGMENTS.split(name)):
        _refuse(name, "must not contain a '..' segment")
    clean = "/".join(segment for segment in name.split("/") if segment not in ("", "."))
    if not clean:
        _refuse(name, "must name a file, not only '.' and '/'")
    if len(clean) > MAX_NAME_LENGTH:
        _refuse(name, f"must be at most {MAX_NAME_LENGTH} characters long, not {len(clean)}")
    for segment in clean.split("/"):
        size = len(segment.encode("utf-8", "surrogatepass"))
        if size > MAX_SEGMENT_BYTES:
            _refuse(name, f"has a segment of {size} bytes; each file or folder name must fit "
                          f"in {MAX_SEGMENT_BYTES} bytes of UTF-8")  # fmt: skip
    return clean


def join_key(*parts: str) -> str:
    """Validate each part as an artifact name and join them with ``/``.

    Example:
        >>> join_key("exp", "run_1", "./outputs/model.pkl")
        'exp/run_1/outputs/model.pkl'

    Raises:
        UnsafePathError: no parts were given, a part is unsafe, or the joined key is too long.
    """
    if not parts:
        raise UnsafePathError("an artifact key needs at least one part", name="")
    return validate_artifact_name("/".join(validate_artifact_name(part) for part in parts))


def _refuse(name: str, rule: str) -> NoReturn:
    shown = name if len(name) <= _SHOWN else name[:_SHOWN] + "…"
    raise UnsafePathError(f"artifact name {shown!r} {rule}", name=name, rule=rule)
