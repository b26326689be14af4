"""Compute targets: where submitted scripts run, found by name.

``local`` (:class:`~runhistory.compute.local.LocalProcessTarget`) is built in. Another target
(a cluster, a scheduler) implements :class:`~runhistory.compute.base.ComputeTarget` and is
registered with :func:`register_target`, or announced by an installed package through the
``runhistory.compute_targets`` entry-point group (``name = "package.module:TargetClass"``), so
the SDK never changes to add one. A run records its target's name in
``run_definition["compute"]["target"]``, so any process can reach the target of any run.
"""

from __future__ import annotations

from typing import Any

from runhistory.compute.base import ComputeTarget, JobSpec
from runhistory.compute.definition import COMPUTE, section
from runhistory.errors import ValidationError
from runhistory.tracking import status as st
from runhistory.tracking.entities import RunInfo

__all__ = [
    "ComputeTarget",
    "JobSpec",
    "get_target",
    "list_targets",
    "reconcile",
    "register_target",
    "request_cancel",
]

ENTRY_POINT_GROUP = "runhistory.compute_targets"
_TARGETS: dict[str, ComputeTarget] = {}


def register_target(target: ComputeTarget, name: str | None = None) -> None:
    """Make ``target`` available under ``name`` (default: ``target.name``) in this process."""
    key = name or target.name
    if not key:
        raise ValidationError("a compute target needs a name to be registered")
    _TARGETS[key] = target


def _load_builtin_and_plugins() -> None:
    if "local" not in _TARGETS:
        from runhistory.compute.local import LocalProcessTarget

        _TARGETS["local"] = LocalProcessTarget()
    from importlib.metadata import entry_points

    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name not in _TARGETS:
            target = entry.load()
            _TARGETS[entry.name] = target() if isinstance(target, type) else target


def list_targets() -> list[str]:
    """Names of the compute targets available here."""
    _load_builtin_and_plugins()
    return sorted(_TARGETS)


def get_target(name: Any = None) -> ComputeTarget:
    """The target called ``name`` (a string, or an object with a ``name``; None: ``local``).

    Raises:
        ValidationError: no target has that name.
    """
    if isinstance(name, ComputeTarget):
        return name
    key = "local" if name is None else str(getattr(name, "name", name))
    if key not in _TARGETS:
        _load_builtin_and_plugins()
    found = _TARGETS.get(key)
    if found is None:
        raise ValidationError(
            f"unknown compute target {key!r}; available targets: {', '.join(sorted(_TARGETS))}"
        )
    return found


def _target_of(info: RunInfo) -> ComputeTarget:
    return get_target(section(info, COMPUTE).get("target") or info.target or "local")


def request_cancel(backend: Any, run_info: RunInfo) -> RunInfo:
    """Ask the target of a submitted run to stop it; returns the run (CancelRequested/Canceled)."""
    return _target_of(run_info).cancel(backend, run_info)


def reconcile(backend: Any, run_info: RunInfo) -> RunInfo:
    """The run as its target sees it: a submitted run whose job is known gone is finished."""
    if st.is_terminal(run_info.status) or not section(run_info, COMPUTE):
        return run_info
    try:
        target = _target_of(run_info)
    except ValidationError:  # a target not installed here cannot be asked
        return run_info
    check = getattr(target, "reconcile", None)
    if check is None:
        return run_info
    result: RunInfo = check(backend, run_info)
    return result
