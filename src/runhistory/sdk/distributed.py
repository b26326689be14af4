"""Distributed-training and Docker settings of the original ``azureml.core.runconfig``.

They are accepted and recorded in the run's definition (``runDefinition["distributed"]`` and
``["docker"]``), so a script written for a cluster submits unchanged. The ``local`` target
runs one process without Docker and says so when the run is submitted.
"""

from __future__ import annotations

from typing import Any

from runhistory.errors import ValidationError

DEFAULT_CPU_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04"
DEFAULT_GPU_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-cuda11.1-cudnn8-ubuntu20.04"


def _count(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValidationError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


class _JobConfig:
    """Common shape: a framework name and a ``to_dict()`` recorded in the run definition."""

    framework = ""

    def to_dict(self) -> dict[str, Any]:
        """The settings as recorded in ``runDefinition["distributed"]``."""
        return {"framework": self.framework, **self._settings()}

    def _settings(self) -> dict[str, Any]:
        raise NotImplementedError

    @property
    def node_count(self) -> int:
        """Number of machines asked for."""
        return int(self._settings().get("nodeCount", 1))

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self._settings().items())
        return f"{type(self).__name__}({shown})"


class MpiConfiguration(_JobConfig):
    """An MPI job: ``process_count_per_node`` processes on each of ``node_count`` nodes."""

    framework = "Python"

    def __init__(self, process_count_per_node: int = 1, node_count: int = 1) -> None:
        self.process_count_per_node = _count("process_count_per_node", process_count_per_node)
        self._nodes = _count("node_count", node_count)

    def _settings(self) -> dict[str, Any]:
        return {"communicator": "IntelMpi", "processCountPerNode": self.process_count_per_node,
                "nodeCount": self._nodes}  # fmt: skip


class PyTorchConfiguration(_JobConfig):
    """A ``torch.distributed`` job of ``process_count`` processes over ``node_count`` nodes."""

    framework = "PyTorch"

    def __init__(
        self,
        communication_backend: str = "Nccl",
        process_count: int | None = None,
        node_count: int = 1,
    ) -> None:
        self.communication_backend = communication_backend
        self.process_count = (
            None if process_count is None else _count("process_count", process_count)
        )
        self._nodes = _count("node_count", node_count)

    def _settings(self) -> dict[str, Any]:
        return {"communicator": self.communication_backend, "processCount": self.process_count,
                "nodeCount": self._nodes}  # fmt: skip


class TensorflowConfiguration(_JobConfig):
    """A parameter-server TensorFlow job of ``worker_count`` workers."""

    framework = "TensorFlow"

    def __init__(self, worker_count: int = 1, parameter_server_count: int = 1) -> None:
        self.worker_count = _count("worker_count", worker_count)
        self.parameter_server_count = _count(
            "parameter_server_count", parameter_server_count, minimum=0
        )

    def _settings(self) -> dict[str, Any]:
        return {"communicator": "ParameterServer", "workerCount": self.worker_count,
                "parameterServerCount": self.parameter_server_count,
                "nodeCount": self.worker_count + self.parameter_server_count}  # fmt: skip


class DockerConfiguration:
    """Whether and how a job runs in a container (recorded; the local target uses no Docker)."""

    def __init__(
        self,
        use_docker: bool | None = None,
        arguments: list[str] | None = None,
        shared_volumes: bool | None = None,
        shm_size: str | None = None,
    ) -> None:
        self.use_docker = use_docker
        self.arguments = list(arguments or [])
        self.shared_volumes = shared_volumes
        self.shm_size = shm_size

    def to_dict(self) -> dict[str, Any]:
        """The settings as recorded in ``runDefinition["docker"]``."""
        return {"useDocker": self.use_docker, "arguments": self.arguments,
                "sharedVolumes": self.shared_volumes, "shmSize": self.shm_size}  # fmt: skip

    def __repr__(self) -> str:
        return f"DockerConfiguration(use_docker={self.use_docker!r}, shm_size={self.shm_size!r})"


def ignored_locally(distributed: Any, docker: Any) -> list[str]:
    """What a single local process leaves out of these settings (empty: nothing)."""
    ignored = []
    if distributed is not None:
        ignored.append(f"distributed_job_config {distributed!r} (one process, one node)")
    if docker is not None and getattr(docker, "use_docker", None):
        ignored.append(f"{docker!r} (no container)")
    return ignored


def describe(config: Any) -> dict[str, Any]:
    """The recorded form of a distributed or Docker configuration object.

    Raises:
        ValidationError: ``config`` is none of the configuration classes.
    """
    to_dict = getattr(config, "to_dict", None)
    if to_dict is None:
        raise ValidationError(
            f"expected MpiConfiguration, PyTorchConfiguration, TensorflowConfiguration or "
            f"DockerConfiguration, got {type(config).__name__}"
        )
    recorded: dict[str, Any] = to_dict()
    return recorded
