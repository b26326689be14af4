"""What a run ran in: Python, platform and installed packages."""

from __future__ import annotations

import copy
import platform
import sys
from typing import Any


def installed_packages() -> dict[str, str]:
    """``{distribution name: version}`` of the running interpreter's packages."""
    from importlib import metadata

    packages: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            packages[name] = dist.version
    return dict(sorted(packages.items(), key=lambda item: item[0].lower()))


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
