"""Rules for the workspace's environment registry: versions count up per name.

Registering a definition equal to the newest version of its name returns that version
instead of adding another, as the original SDK does.
"""

from __future__ import annotations

import re
import time
from typing import Any

import orjson

from runhistory.errors import InvalidNameError, ValidationError
from runhistory.store.base import TrackingStore
from runhistory.tracking.entities import EnvironmentVersion

ENVIRONMENT_NAME_RULE = (
    "1-255 characters: letters, digits, '.', '_' and '-', starting with a letter or digit"
)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,254}$")
MAX_DEFINITION_BYTES = 1024 * 1024
# Fields that say where a definition came from, not what it is: never compared or stored.
_UNSTORED = ("version",)


def check_environment_name(name: object) -> str:
    """Return ``name`` if it can name a registered environment, else raise InvalidNameError."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidNameError(f"invalid environment name {name!r}: {ENVIRONMENT_NAME_RULE}")
    return name


def _check_definition(name: str, definition: object) -> dict[str, Any]:
    if not isinstance(definition, dict):
        raise ValidationError(
            f"environment {name!r}: the definition must be a JSON object, "
            f"got {type(definition).__name__}"
        )
    kept = {k: v for k, v in definition.items() if k not in _UNSTORED}
    kept["name"] = name
    try:
        size = len(orjson.dumps(kept))
    except TypeError as exc:
        raise ValidationError(f"environment {name!r}: the definition is not JSON: {exc}") from None
    if size > MAX_DEFINITION_BYTES:
        raise ValidationError(
            f"environment {name!r}: the definition has {size} bytes, more than the "
            f"{MAX_DEFINITION_BYTES} allowed"
        )
    return kept


def check_environment_version(version: object) -> int | None:
    """``None`` (latest) or a positive version number; ``"3"`` is accepted as 3."""
    if version is None:
        return None
    text = str(version)
    if isinstance(version, bool) or not text.isdigit() or int(text) < 1:
        raise ValidationError(f"an environment version is a positive number, got {version!r}")
    return int(text)


class EnvironmentRegistryRules:
    """The environment part of :class:`~runhistory.tracking.service.TrackingService`."""

    store: TrackingStore

    def register_environment(self, name: str, definition: dict[str, Any]) -> EnvironmentVersion:
        """Register ``definition`` under ``name``; an unchanged definition keeps its version."""
        check_environment_name(name)
        checked = _check_definition(name, definition)
        for latest in self.store.list_environment_versions(name=name, latest=True):
            if latest.definition == checked:
                return latest
        return self.store.create_environment_version(name, checked, time.time())

    def get_environment(self, name: str, version: int | str | None = None) -> EnvironmentVersion:
        """A registered environment; the newest version when ``version`` is None."""
        check_environment_name(name)
        return self.store.get_environment_version(name, check_environment_version(version))

    def list_environments(
        self, name: str | None = None, latest: bool = True
    ) -> list[EnvironmentVersion]:
        """Registered environments by name; every version unless ``latest``."""
        if name is not None:
            check_environment_name(name)
        return self.store.list_environment_versions(name=name, latest=latest)
