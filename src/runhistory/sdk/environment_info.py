"""What a run ran in: Python, platform and installed packages."""

from __future__ import annotations

import copy
import platform
import sys
from typing import Any


def installed_packages() -> dict[str, str]:
    """``{distribution name: version}`` of the running interpreter's packages.

    Only the ``Name`` and ``Version`` lines of each distribution's metadata are read: parsing
    the whole file as an e-mail message (what ``Distribution.metadata`` does, once for the
    name and again for the version) costs ten times more (measured with 266 packages: 0.5 s
    against 0.05 s), paid by a process's first ``start_logging()``.
    """
    from importlib import metadata

    packages: dict[str, str] = {}
    for dist in metadata.distributions():
        name, version = _name_and_version(dist)
        if name is None:
            name = dist.metadata["Name"]
        if name:
            packages[name] = version if version is not None else dist.version
    return dict(sorted(packages.items(), key=lambda item: item[0].lower()))


def _name_and_version(dist: Any) -> tuple[str | None, str | None]:
    """``Name`` and ``Version`` from the header of a distribution's metadata file (``None``
    for what is not found there)."""
    try:
        text = dist.read_text("METADATA") or dist.read_text("PKG-INFO")
    except (OSError, UnicodeDecodeError):
        return None, None
    name = version = None
    if text:
        for line in text.partition("\n\n")[0].splitlines():  # the header ends at a blank line
            key, colon, value = line.partition(":")
            if not colon or key[:1].isspace():
                continue  # a continuation line
            key = key.strip().lower()
            if key == "name" and name is None:
                name = value.strip()
            elif key == "version" and version is None:
                version = value.strip()
            if name is not None and version is not None:
                break
    return name, version


_CACHED: dict[str, Any] | None = None


def current_environment() -> dict[str, Any]:
    """A description of the running interpreter, for ``Run.get_environment()``.

    Computed once per process (listing installed packages takes tens of milliseconds).
    """
    return copy.deepcopy(shared_environment())


def shared_environment() -> dict[str, Any]:
    """:func:`current_environment` without the copy: one object per process, never change it."""
    global _CACHED
    if _CACHED is None:
        _CACHED = _describe()
    return _CACHED


def _describe() -> dict[str, Any]:
    return {
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "interpreterPath": sys.executable,
            "packages": installed_packages(),
        },
        "platform": platform.platform(),
        "machine": platform.machine(),
    }
