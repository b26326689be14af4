"""Named compute targets of a workspace, with the original SDK's ``azureml.core.compute`` names.

A target is a workspace record of a kind: ``local`` (a pool of processes on the submitting
machine; ``max_nodes`` jobs at once) or ``ray`` (a Ray cluster, reached at its job server's
address). Nothing is provisioned: ``AmlCompute.provisioning_configuration`` makes a target on the
cluster named by ``RUNHISTORY_DEFAULT_CLUSTER`` (a Ray address) or, without one, a local pool.

Example:
    >>> try:  # doctest: +SKIP
    ...     cluster = ComputeTarget(workspace=ws, name="cpu-cluster")
    ... except ComputeTargetException:
    ...     config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=4)
    ...     cluster = ComputeTarget.create(ws, "cpu-cluster", config)
    >>> cluster.wait_for_completion(show_output=True)  # doctest: +SKIP
"""

from __future__ import annotations

import builtins
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from runhistory import settings
from runhistory.errors import NotFoundError, RunhistoryError
from runhistory.tracking.compute_rules import check_compute_target, check_ray_address
from runhistory.tracking.entities import ComputeTargetInfo

if TYPE_CHECKING:
    from runhistory.sdk.workspace import Workspace

logger = logging.getLogger("runhistory.compute")

LOCAL = "local"
RAY = "ray"

# What a VM size of the original stands for; recorded with the target, shown by supported_vmsizes.
_VM_SIZES: list[dict[str, Any]] = [
    {"name": "Standard_D1_v2", "vCPUs": 1, "gpus": 0, "memoryGB": 3.5},
    {"name": "Standard_D2_v2", "vCPUs": 2, "gpus": 0, "memoryGB": 7.0},
    {"name": "Standard_D3_v2", "vCPUs": 4, "gpus": 0, "memoryGB": 14.0},
    {"name": "Standard_D4_v2", "vCPUs": 8, "gpus": 0, "memoryGB": 28.0},
    {"name": "Standard_DS3_v2", "vCPUs": 4, "gpus": 0, "memoryGB": 14.0},
    {"name": "Standard_F4s_v2", "vCPUs": 4, "gpus": 0, "memoryGB": 8.0},
    {"name": "Standard_NC6", "vCPUs": 6, "gpus": 1, "memoryGB": 56.0},
    {"name": "Standard_NC12", "vCPUs": 12, "gpus": 2, "memoryGB": 112.0},
    {"name": "Standard_NC6s_v3", "vCPUs": 6, "gpus": 1, "memoryGB": 112.0},
]


class ComputeTargetException(RunhistoryError):
    """A compute target is missing, cannot be created, or does not answer."""


@dataclass
class ComputeProvisioningConfiguration:
    """What ``provisioning_configuration`` / ``attach_configuration`` return: type and settings."""

    type: str
    settings: dict[str, Any] = field(default_factory=dict)

    def validate_configuration(self) -> None:
        """Kept for compatibility: settings are checked when the target is created."""


@dataclass
class ComputeTargetStatus:
    """What ``get_status()`` answers (``provisioning_state`` Succeeded, or Failed: unreachable)."""

    provisioning_state: str
    state: str
    current_node_count: int
    node_state_counts: dict[str, int]
    errors: list[str] = field(default_factory=list)

    def serialize(self) -> dict[str, Any]:
        """The status as a dict, as the original prints it."""
        return {
            "provisioningState": self.provisioning_state,
            "state": self.state,
            "currentNodeCount": self.current_node_count,
            "nodeStateCounts": dict(self.node_state_counts),
            "errors": list(self.errors) or None,
        }


def _builtin_local() -> ComputeTargetInfo:
    max_jobs = int(settings.get("RUNHISTORY_LOCAL_MAX_JOBS"))
    return ComputeTargetInfo(LOCAL, LOCAL, 0.0, {"max_nodes": max_jobs, "type": "Local"})


class ComputeTarget:
    """A named compute target of the workspace; ``ComputeTarget(ws, name)`` loads it.

    Args:
        workspace: the workspace holding the target.
        name: the target's name (``local`` is always there).

    Raises:
        ComputeTargetException: the workspace has no target of that name.
    """

    _type = "ComputeTarget"

    def __new__(cls, workspace: Workspace | None = None, name: str | None = None) -> Any:
        if workspace is None or name is None or cls is not ComputeTarget:
            return super().__new__(cls)
        info = _load(workspace, name)
        made = super().__new__(_CLASSES.get(str(info.config.get("type")), ComputeTarget))
        made._info = info
        return made

    def __init__(self, workspace: Workspace, name: str) -> None:
        self.workspace = workspace
        loaded: ComputeTargetInfo | None = getattr(self, "_info", None)
        self._info = (
            loaded if loaded is not None and loaded.name == name else _load(workspace, name)
        )

    @classmethod
    def _wrap(cls, workspace: Workspace, info: ComputeTargetInfo) -> ComputeTarget:
        kind = _CLASSES.get(str(info.config.get("type")), ComputeTarget)
        made = object.__new__(kind)
        made.workspace, made._info = workspace, info
        return made

    # ---- identity ---------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The target's name (what ``ScriptRunConfig(compute_target=…)`` takes)."""
        return self._info.name

    @property
    def kind(self) -> str:
        """``local`` (a process pool) or ``ray`` (a Ray cluster)."""
        return self._info.kind

    @property
    def type(self) -> str:
        """The original's type name (AmlCompute, ComputeInstance, RemoteCompute, ...)."""
        return str(self._info.config.get("type") or self._type)

    @property
    def address(self) -> str | None:
        """The Ray job server's address (None for a local pool)."""
        found = self._info.config.get("address")
        return str(found) if found else None

    @property
    def max_nodes(self) -> int | None:
        """Jobs run at once by a local pool; the recorded size request for a cluster."""
        found = self._info.config.get("max_nodes")
        return int(found) if found else None

    @property
    def vm_size(self) -> str | None:
        """The VM size asked for at creation (recorded only)."""
        found = self._info.config.get("vm_size")
        return str(found) if found else None

    @property
    def provisioning_state(self) -> str:
        """Always Succeeded once recorded (nothing is provisioned)."""
        return "Succeeded"

    @property
    def created_on(self) -> float:
        """When the target was recorded (seconds since the epoch)."""
        return self._info.created_time

    def serialize(self) -> dict[str, Any]:
        """The target's record as a dict."""
        return {"name": self.name, "kind": self.kind, "type": self.type,
                "createdTime": self.created_on, "properties": dict(self._info.config)}  # fmt: skip

    # ---- creating and removing ----------------------------------------------------------
    @staticmethod
    def create(
        workspace: Workspace,
        name: str,
        provisioning_configuration: ComputeProvisioningConfiguration,
    ) -> ComputeTarget:
        """Record a new target from an ``AmlCompute``/``ComputeInstance`` configuration.

        An ``AmlCompute`` cluster lands on ``RUNHISTORY_DEFAULT_CLUSTER`` (a Ray address) when
        that is set, else on a local pool of ``max_nodes`` concurrent jobs; a log line says which.

        Raises:
            ComputeTargetException: the name is taken or the configuration is not usable.
        """
        config = dict(provisioning_configuration.settings)
        config["type"] = provisioning_configuration.type
        kind = LOCAL
        cluster = settings.get("RUNHISTORY_DEFAULT_CLUSTER")
        if provisioning_configuration.type == "AmlCompute" and cluster:
            kind, config["address"] = RAY, cluster
            logger.warning(
                "compute target %r: on the Ray cluster %s (RUNHISTORY_DEFAULT_CLUSTER)",
                name,
                cluster,
            )
        else:
            config["max_nodes"] = int(config.get("max_nodes_requested") or 1)
            logger.warning(
                "compute target %r: a local process pool running %d job(s) at once%s",
                name,
                config["max_nodes"],
                "" if cluster else " (set RUNHISTORY_DEFAULT_CLUSTER to use a Ray cluster)",
            )
        return _record(workspace, name, kind, config)

    @staticmethod
    def attach(
        workspace: Workspace, name: str, attach_configuration: ComputeProvisioningConfiguration
    ) -> ComputeTarget:
        """Record an existing cluster (``RemoteCompute.attach_configuration(address=…)``)."""
        config = dict(attach_configuration.settings)
        config["type"] = attach_configuration.type
        return _record(workspace, name, RAY, config)

    @staticmethod
    def list(workspace: Workspace) -> builtins.list[ComputeTarget]:
        """The workspace's targets, ``local`` first."""
        backend = workspace._connection.backend
        infos = [_builtin_local(), *backend.list_compute_targets()]
        return [ComputeTarget._wrap(workspace, info) for info in infos]

    def delete(self) -> None:
        """Forget the target (its runs keep their records; a Ray cluster keeps running)."""
        if self.name == LOCAL:
            raise ComputeTargetException("the built-in 'local' target cannot be deleted")
        try:
            self.workspace._connection.backend.delete_compute_target(self.name)
        except NotFoundError as exc:
            raise ComputeTargetException(str(exc)) from None

    def detach(self) -> None:
        """Same as :meth:`delete` (the original's name for attached targets)."""
        self.delete()

    # ---- status -----------------------------------------------------------------------
    def get_status(self) -> ComputeTargetStatus:
        """Whether the target answers: a local pool always; a Ray cluster if its job server does."""
        if self.kind == LOCAL:
            nodes = int(self.max_nodes or 1)
            return ComputeTargetStatus("Succeeded", "Steady", nodes, {"idleNodeCount": nodes})
        from runhistory.compute.ray_target import cluster_nodes

        try:
            alive = cluster_nodes(str(self.address))
        except RunhistoryError as exc:
            return ComputeTargetStatus("Failed", "Unreachable", 0, {}, [str(exc)])
        return ComputeTargetStatus("Succeeded", "Steady", alive, {"runningNodeCount": alive})

    def wait_for_completion(
        self,
        show_output: bool = False,
        min_node_count: int | None = None,
        timeout_in_minutes: float = 20,
        is_delete_operation: bool = False,
    ) -> None:
        """Wait until the target answers (a Ray cluster: its job server and ``min_node_count``).

        Raises:
            ComputeTargetException: it did not answer within ``timeout_in_minutes``.
        """
        if is_delete_operation:
            return
        deadline = time.monotonic() + timeout_in_minutes * 60
        while True:
            status = self.get_status()
            enough = status.current_node_count >= (min_node_count or 0)
            if status.provisioning_state == "Succeeded" and enough:
                break
            if time.monotonic() > deadline:
                raise ComputeTargetException(
                    f"compute target {self.name!r} is not ready after {timeout_in_minutes} "
                    f"minutes: {'; '.join(status.errors) or status.state}"
                )
            time.sleep(1.0)
        if show_output:
            print(f"{self.name}: provisioning state {status.provisioning_state}, "
                  f"{status.current_node_count} node(s) ({self.kind})", flush=True)  # fmt: skip

    def __repr__(self) -> str:
        where = self.address if self.kind == RAY else f"{self.max_nodes} job(s) at once"
        return f"{self.type}(name={self.name!r}, kind={self.kind!r}, {where})"


def _load(workspace: Workspace, name: str) -> ComputeTargetInfo:
    if name == LOCAL:
        return _builtin_local()
    try:
        info: ComputeTargetInfo = workspace._connection.backend.get_compute_target(name)
    except NotFoundError:
        raise ComputeTargetException(
            f"compute target {name!r} not found in the workspace; create it with "
            f"ComputeTarget.create or 'runhistory compute attach ray --name {name} --address URL'"
        ) from None
    except RunhistoryError as exc:
        raise ComputeTargetException(str(exc)) from None
    return info


def _record(workspace: Workspace, name: str, kind: str, config: dict[str, Any]) -> ComputeTarget:
    try:
        info = workspace._connection.backend.create_compute_target(name, kind, config)
    except RunhistoryError as exc:
        raise ComputeTargetException(str(exc)) from None
    return ComputeTarget._wrap(workspace, info)


def _provisioning(kind_type: str, vm_size: str, min_nodes: int, max_nodes: int | None,
                  extra: dict[str, Any]) -> ComputeProvisioningConfiguration:  # fmt: skip
    settings_: dict[str, Any] = {
        "vm_size": vm_size or None,
        "min_nodes_requested": min_nodes or None,
    }
    if max_nodes is not None:
        settings_["max_nodes_requested"] = max_nodes
    settings_.update({k: v for k, v in extra.items() if v is not None})
    return ComputeProvisioningConfiguration(kind_type, settings_)


class AmlCompute(ComputeTarget):
    """A cluster: a Ray cluster (``RUNHISTORY_DEFAULT_CLUSTER``) or a local pool of processes."""

    _type = "AmlCompute"

    @staticmethod
    def provisioning_configuration(
        vm_size: str = "",
        vm_priority: str = "dedicated",
        min_nodes: int = 0,
        max_nodes: int | None = None,
        idle_seconds_before_scaledown: int | None = None,
        admin_username: str | None = None,
        admin_user_password: str | None = None,
        admin_user_ssh_key: str | None = None,
        vnet_resourcegroup_name: str | None = None,
        vnet_name: str | None = None,
        subnet_name: str | None = None,
        tags: dict[str, str] | None = None,
        description: str | None = None,
        **kwargs: Any,
    ) -> ComputeProvisioningConfiguration:
        """A cluster request: ``max_nodes`` = concurrent jobs of a local pool (recorded on Ray).

        ``vm_size``, ``vm_priority``, scale-down and network settings are recorded only (nothing
        is provisioned); credentials are neither needed nor kept.
        """
        extra = {
            "vm_priority": vm_priority,
            "idle_seconds_before_scaledown": idle_seconds_before_scaledown,
            "tags": tags,
            "description": description,
        }
        return _provisioning("AmlCompute", vm_size, min_nodes, max_nodes, extra)

    @staticmethod
    def supported_vmsizes(
        workspace: Workspace | None = None, location: str | None = None
    ) -> list[dict[str, Any]]:
        """The VM size names accepted (recorded with the target; nothing is provisioned)."""
        return [dict(size) for size in _VM_SIZES]

    def list_nodes(self) -> builtins.list[dict[str, Any]]:
        """The target's nodes as the original lists them: a local pool's job slots (on this
        machine, ``nodeState`` idle), a Ray cluster's alive nodes (running)."""
        status = self.get_status()
        local = self.kind == LOCAL
        return [
            {
                "nodeId": f"{self.name}-{index}",
                "port": None,
                "publicIpAddress": None,
                "privateIpAddress": "127.0.0.1" if local else None,
                "nodeState": "idle" if local else "running",
            }
            for index in range(status.current_node_count)
        ]

    def update(
        self,
        min_nodes: int | None = None,
        max_nodes: int | None = None,
        idle_seconds_before_scaledown: int | None = None,
    ) -> None:
        """Change the recorded scale settings; ``max_nodes`` is also the number of jobs a local
        pool runs at once from the next submission on. The record is written anew (same name).

        Raises:
            ComputeTargetException: the settings are not usable or the target is gone.
        """
        config = dict(self._info.config)
        changes = {
            "min_nodes_requested": min_nodes,
            "max_nodes_requested": max_nodes,
            "idle_seconds_before_scaledown": idle_seconds_before_scaledown,
        }
        config.update({key: value for key, value in changes.items() if value is not None})
        if min_nodes == 0:  # scale to zero: recorded as no minimum, as at creation
            config.pop("min_nodes_requested", None)
        if max_nodes is not None and self.kind == LOCAL:
            config["max_nodes"] = int(max_nodes)
        backend = self.workspace._connection.backend
        try:
            check_compute_target(self.name, self.kind, config)  # before the old record goes
            backend.delete_compute_target(self.name)
            self._info = backend.create_compute_target(self.name, self.kind, config)
        except RunhistoryError as exc:
            raise ComputeTargetException(str(exc)) from None


class ComputeInstance(ComputeTarget):
    """A single machine: a local pool running one job at a time."""

    _type = "ComputeInstance"

    @staticmethod
    def provisioning_configuration(
        vm_size: str = "",
        ssh_public_access: bool = False,
        admin_user_ssh_public_key: str | None = None,
        vnet_resourcegroup_name: str | None = None,
        vnet_name: str | None = None,
        subnet_name: str | None = None,
        tags: dict[str, str] | None = None,
        description: str | None = None,
        **kwargs: Any,
    ) -> ComputeProvisioningConfiguration:
        """A one-job-at-a-time local target (``vm_size`` recorded only)."""
        return _provisioning(
            "ComputeInstance", vm_size, 0, 1, {"tags": tags, "description": description}
        )

    @staticmethod
    def supported_vmsizes(
        workspace: Workspace | None = None, location: str | None = None
    ) -> list[dict[str, Any]]:
        """The VM size names accepted (recorded only)."""
        return AmlCompute.supported_vmsizes(workspace, location)


class RemoteCompute(ComputeTarget):
    """An existing machine or cluster attached by address: here, a Ray cluster's job server."""

    _type = "RemoteCompute"

    @staticmethod
    def attach_configuration(
        resource_id: str | None = None,
        ssh_port: int = 22,
        username: str = "",
        password: str = "",
        private_key_file: str = "",
        private_key_passphrase: str = "",
        address: str | None = None,
    ) -> ComputeProvisioningConfiguration:
        """Attach the Ray cluster whose job server is at ``address`` (``http://host:8265``).

        SSH settings are not used (jobs go through the Ray Jobs API) and are never stored.

        Raises:
            ComputeTargetException: ``address`` is not the http(s) URL of a job server.
        """
        try:
            checked = check_ray_address(address)
        except RunhistoryError as exc:
            raise ComputeTargetException(str(exc)) from None
        return ComputeProvisioningConfiguration("RemoteCompute", {"address": checked})


class RayCompute(ComputeTarget):
    """A Ray cluster attached by the address of its job server."""

    _type = "RayCluster"

    @staticmethod
    def attach_configuration(address: str) -> ComputeProvisioningConfiguration:
        """Attach the Ray cluster whose job server (dashboard) is at ``address``."""
        try:
            checked = check_ray_address(address)
        except RunhistoryError as exc:
            raise ComputeTargetException(str(exc)) from None
        return ComputeProvisioningConfiguration("RayCluster", {"address": checked})


_CLASSES: dict[str, type[ComputeTarget]] = {
    "AmlCompute": AmlCompute,
    "ComputeInstance": ComputeInstance,
    "RemoteCompute": RemoteCompute,
    "RayCluster": RayCompute,
}
