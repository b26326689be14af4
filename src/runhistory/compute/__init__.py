"""Compute targets: where submitted scripts run, found by name.

``local`` (:class:`~runhistory.compute.local.LocalProcessTarget`) is built in. Another target
(a cluster, a scheduler) implements :class:`~runhistory.compute.base.ComputeTarget` and is
registered with :func:`register_target`, or announced by an installed package through the
``runhistory.compute_targets`` entry-point group (``name = "package.module:TargetClass"``), so
the SDK never changes to add one. Targets named in the workspace (``ComputeTarget.create``,
``runhistory compute attach``) are records of a kind, ``local`` or ``ray``, built on demand.
A run records its target's name in ``run_definition["compute"]["target"]``, so any process
can reach the target of any run.
"""

from __future__ import annotations

from typing import Any

from runhistory.compute.base import ComputeTarget, JobSpec
from runhistory.compute.definition import COMPUTE, section
from runhistory.errors import NotFoundError, ValidationError
from runhistory.tracking import status as st
from runhistory.tracking.entities import ComputeTargetInfo, RunInfo

__all__ = [
    "ComputeTarget",
    "JobSpec",
    "get_target",
    "list_targets",
    "reconcile",
    "register_target",
    "request_cancel",
    "target_from_record",
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


def get_target(name: Any = None, backend: Any = None) -> ComputeTarget:
    """The target called ``name`` (a string, or an object with a ``name``; None: ``local``).

    A name not registered in this process is looked up among the workspace's named targets
    when ``backend`` is given.

    Raises:
        ValidationError: no target has that name.
    """
    if isinstance(name, ComputeTarget):
        return name
    key = "local" if name is None else str(getattr(name, "name", name))
    if key not in _TARGETS:
        _load_builtin_and_plugins()
    found = _TARGETS.get(key)
    if found is None and backend is not None:
        try:
            return target_from_record(backend.get_compute_target(key))
        except (NotFoundError, ValidationError):
            pass
        names = sorted({*_TARGETS, *(t.name for t in backend.list_compute_targets())})
        raise ValidationError(
            f"unknown compute target {key!r}; targets of this workspace: {', '.join(names)} "
            f"(attach one with ComputeTarget.create or 'runhistory compute attach')"
        )
    if found is None:
        raise ValidationError(
            f"unknown compute target {key!r}; available targets: {', '.join(sorted(_TARGETS))}"
        )
    return found


def target_from_record(info: ComputeTargetInfo) -> ComputeTarget:
    """The target object for a workspace record of kind ``local`` or ``ray``."""
    if info.kind == "ray":
        from runhistory.compute.ray_target import RayTarget

        return RayTarget(info.name, str(info.config["address"]), info.config)
    if info.kind == "local":
        from runhistory.compute.local import LocalProcessTarget

        return LocalProcessTarget(info.name, int(info.config.get("max_nodes") or 1))
    raise ValidationError(f"compute target {info.name!r} has an unknown kind {info.kind!r}")


def _target_of(backend: Any, info: RunInfo) -> ComputeTarget:
    compute = section(info, COMPUTE)
    name = compute.get("target") or info.target or "local"
    try:
        return get_target(name, backend)
    except ValidationError:  # a target detached since: what the run recorded still reaches it
        if compute.get("ray_address"):
            from runhistory.compute.ray_target import RayTarget

            return RayTarget(str(name), str(compute["ray_address"]))
        if compute.get("queue"):
            from runhistory.compute.local import LocalProcessTarget

            return LocalProcessTarget(str(name), compute.get("max_jobs"))
        raise


def request_cancel(backend: Any, run_info: RunInfo) -> RunInfo:
    """Ask the target of a submitted run to stop it; returns the run (CancelRequested/Canceled)."""
    return _target_of(backend, run_info).cancel(backend, run_info)


def reconcile(backend: Any, run_info: RunInfo) -> RunInfo:
    """The run as its target sees it: a submitted run whose job is known gone is finished."""
    if st.is_terminal(run_info.status) or not section(run_info, COMPUTE):
        return run_info
    try:
        target = _target_of(backend, run_info)
    except ValidationError:  # a target not installed here cannot be asked
        return run_info
    check = getattr(target, "reconcile", None)
    if check is None:
        return run_info
    result: RunInfo = check(backend, run_info)
    return result
