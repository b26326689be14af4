"""Rules for the workspace's named compute targets: a name, a kind and its settings.

Two kinds exist: ``local`` (a pool of processes on the machine that submits; ``max_nodes`` is
the number of jobs it runs at once) and ``ray`` (a Ray cluster, reached at the ``address`` of
its job server, e.g. ``http://10.0.0.5:8265``).
"""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import urlsplit

import orjson

from runhistory.errors import InvalidNameError, ValidationError
from runhistory.store.base import TrackingStore
from runhistory.tracking.entities import ComputeTargetInfo

KINDS = ("local", "ray")
RESERVED_NAMES = ("local",)
COMPUTE_NAME_RULE = "2-255 characters: letters, digits and '-', starting with a letter"
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9\-]{1,254}$")
_MAX_CONFIG_BYTES = 64 * 1024


def check_compute_name(name: object) -> str:
    """Return ``name`` if it can name a compute target, else raise InvalidNameError."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidNameError(f"invalid compute target name {name!r}: {COMPUTE_NAME_RULE}")
    return name


def _positive(name: str, config: dict[str, Any], key: str) -> None:
    value = config.get(key)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(
            f"compute target {name!r}: {key} must be an integer >= 1, got {value!r}"
        )


def check_ray_address(address: object) -> str:
    """Return ``address`` if it is the http(s) URL of a Ray job server, else ValidationError."""
    parts = urlsplit(address) if isinstance(address, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(
            f"a ray compute target needs the http(s) address of the cluster's job server "
            f"(the dashboard, e.g. http://127.0.0.1:8265), got {address!r}"
        )
    return str(address).rstrip("/")


def check_compute_target(name: str, kind: object, config: object) -> dict[str, Any]:
    """The checked settings of a target of ``kind``.

    Raises:
        ValidationError: an unknown kind, or settings that kind cannot use.
    """
    if kind not in KINDS:
        raise ValidationError(
            f"compute target {name!r}: unknown kind {kind!r}; kinds are {', '.join(KINDS)}"
        )
    if not isinstance(config, dict):
        raise ValidationError(f"compute target {name!r}: settings must be a JSON object")
    checked = dict(config)
    for key in ("max_nodes", "min_nodes_requested", "max_nodes_requested"):
        _positive(name, checked, key)
    if kind == "ray":
        checked["address"] = check_ray_address(checked.get("address"))
    else:
        checked.setdefault("max_nodes", 1)
    try:
        size = len(orjson.dumps(checked))
    except TypeError as exc:
        raise ValidationError(f"compute target {name!r}: settings are not JSON: {exc}") from None
    if size > _MAX_CONFIG_BYTES:
        raise ValidationError(f"compute target {name!r}: settings exceed {_MAX_CONFIG_BYTES} bytes")
    return checked


class ComputeTargetRules:
    """The compute-target part of :class:`~runhistory.tracking.service.TrackingService`."""

    store: TrackingStore

    def create_compute_target(
        self, name: str, kind: str, config: dict[str, Any]
    ) -> ComputeTargetInfo:
        """Record a new named target (ConflictError if the name is taken)."""
        check_compute_name(name)
        if name in RESERVED_NAMES:
            raise InvalidNameError(f"{name!r} is the built-in target; choose another name")
        checked = check_compute_target(name, kind, config)
        return self.store.create_compute_target(
            ComputeTargetInfo(name=name, kind=kind, created_time=time.time(), config=checked)
        )

    def get_compute_target(self, name: str) -> ComputeTargetInfo:
        """A named target (NotFoundError if there is none)."""
        return self.store.get_compute_target(check_compute_name(name))

    def list_compute_targets(self) -> list[ComputeTargetInfo]:
        """Every named target, by name."""
        return self.store.list_compute_targets()

    def delete_compute_target(self, name: str) -> None:
        """Forget a named target; runs it ran keep their records."""
        self.store.delete_compute_target(check_compute_name(name))
