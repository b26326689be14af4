"""Environment: what a submitted script runs with.

``python.user_managed_dependencies = True`` runs the script with an interpreter as it is
(``python.interpreter_path``; ``python`` means the current one). Otherwise the pip packages of
``python.conda_dependencies`` are installed into a venv cached by the hash of the list and
reused by later runs; conda packages need conda on ``PATH``. Docker settings are kept for
round-tripping but the local target runs without Docker.
"""

from __future__ import annotations

import copy
import json
import os
from typing import Any

from runhistory.errors import NotFoundError, ValidationError
from runhistory.sdk.conda_dependencies import CondaDependencies
from runhistory.sdk.distributed import DEFAULT_CPU_IMAGE

__all__ = ["CondaDependencies", "DockerSection", "Environment", "PythonSection"]

_ENV_FILE = "azureml_environment.json"
_CONDA_FILE = "conda_dependencies.yml"
_NO_LABELS = (
    "runhistory keeps no environment labels; address a registered environment by name and "
    "version: Environment.get(workspace, name, version='2')"
)


class PythonSection:
    """The Python part of an environment."""

    def __init__(
        self,
        user_managed_dependencies: bool = False,
        interpreter_path: str = "python",
        conda_dependencies: CondaDependencies | None = None,
        conda_dependencies_file: str | None = None,
        base_conda_environment: str | None = None,
    ) -> None:
        self.user_managed_dependencies = user_managed_dependencies
        self.interpreter_path = interpreter_path
        self.conda_dependencies = conda_dependencies or CondaDependencies()
        self.conda_dependencies_file = conda_dependencies_file
        self.base_conda_environment = base_conda_environment

    def to_dict(self) -> dict[str, Any]:
        """The ``.runconfig`` layout of this section."""
        return {
            "userManagedDependencies": bool(self.user_managed_dependencies),
            "interpreterPath": self.interpreter_path,
            "condaDependenciesFile": self.conda_dependencies_file,
            "baseCondaEnvironment": self.base_conda_environment,
            "condaDependencies": self.conda_dependencies.as_dict(),
        }

    @staticmethod
    def from_dict(data: dict[str, Any], base_folder: str | None = None) -> PythonSection:
        """Read the ``.runconfig`` layout (a relative conda file is found from ``base_folder``)."""
        file_name = data.get("condaDependenciesFile")
        if file_name and base_folder and os.path.isfile(os.path.join(base_folder, file_name)):
            deps = CondaDependencies(os.path.join(base_folder, file_name))
            file_name = None  # its contents are now part of this section
        elif data.get("condaDependencies"):
            deps = CondaDependencies(_underlying_structure=data["condaDependencies"])
        else:
            deps = CondaDependencies()
        return PythonSection(
            user_managed_dependencies=bool(data.get("userManagedDependencies", False)),
            interpreter_path=data.get("interpreterPath") or "python",
            conda_dependencies=deps,
            conda_dependencies_file=file_name,
            base_conda_environment=data.get("baseCondaEnvironment"),
        )


class ContainerRegistry:
    """Where a base image comes from (kept as given; the local target pulls no image)."""

    def __init__(
        self, address: str | None = None, username: str | None = None, password: str | None = None
    ) -> None:
        self.address = address
        self.username = username
        self.password = password

    def __repr__(self) -> str:  # the password is never shown
        return f"ContainerRegistry(address={self.address!r}, username={self.username!r})"


class DockerSection:
    """Docker settings with the original's defaults, kept as given; the local target uses none."""

    def __init__(
        self,
        enabled: bool = False,
        base_image: str | None = DEFAULT_CPU_IMAGE,
        base_dockerfile: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.enabled = enabled
        self.base_image = base_image
        self.base_dockerfile = base_dockerfile
        self.base_image_registry = ContainerRegistry()
        self.arguments: list[str] = list(kwargs.get("arguments") or [])
        self.shared_volumes: bool = bool(kwargs.get("shared_volumes", True))
        self.shm_size: str = str(kwargs.get("shm_size") or "2g")
        self.gpu_support = bool(kwargs.get("gpu_support", False))

    def to_dict(self) -> dict[str, Any]:
        """The ``.runconfig`` layout of this section."""
        return {
            "enabled": self.enabled,
            "baseImage": self.base_image,
            "baseDockerfile": self.base_dockerfile,
            "baseImageRegistry": {"address": self.base_image_registry.address},
            "arguments": self.arguments,
            "sharedVolumes": self.shared_volumes,
            "shmSize": self.shm_size,
        }

    @staticmethod
    def from_dict(data: dict[str, Any]) -> DockerSection:
        """Read the ``.runconfig`` layout."""
        section = DockerSection(
            bool(data.get("enabled", False)),
            data.get("baseImage", DEFAULT_CPU_IMAGE),
            data.get("baseDockerfile"),
            arguments=data.get("arguments"),
            shared_volumes=data.get("sharedVolumes", True),
            shm_size=data.get("shmSize"),
        )
        section.base_image_registry.address = (data.get("baseImageRegistry") or {}).get("address")
        return section


class Environment:
    """A named description of the Python a script runs with.

    Example:
        >>> env = Environment("sklearn")
        >>> env.python.conda_dependencies = CondaDependencies.create(pip_packages=["scikit-learn"])
        >>> env.python.user_managed_dependencies
        False
    """

    def __init__(self, name: str, **kwargs: Any) -> None:
        if not isinstance(name, str) or not name.strip():
            raise ValidationError(f"an environment needs a non-empty name, got {name!r}")
        self.name = name
        self.version: str | None = kwargs.get("version")
        self.python = PythonSection()
        self.docker = DockerSection()
        self._environment_variables: dict[str, str] = {}
        self.inferencing_stack_version: str | None = None

    @property
    def environment_variables(self) -> dict[str, str]:
        """Variables set in the job's process (a dict you may change in place)."""
        return self._environment_variables

    @environment_variables.setter
    def environment_variables(self, value: dict[str, str]) -> None:
        self._environment_variables = {str(k): str(v) for k, v in value.items()}

    # ---- serialisation ----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The ``.runconfig`` layout: name, version, python, docker, environmentVariables."""
        return {
            "name": self.name,
            "version": self.version,
            "environmentVariables": dict(self.environment_variables),
            "python": self.python.to_dict(),
            "docker": self.docker.to_dict(),
        }

    @staticmethod
    def from_dict(data: dict[str, Any], base_folder: str | None = None) -> Environment:
        """An environment from its ``.runconfig`` layout."""
        env = Environment(str(data.get("name") or "unnamed"), version=data.get("version"))
        env.python = PythonSection.from_dict(data.get("python") or {}, base_folder)
        env.docker = DockerSection.from_dict(data.get("docker") or {})
        env.environment_variables = {
            str(k): str(v) for k, v in (data.get("environmentVariables") or {}).items()
        }
        return env

    def clone(self, new_name: str) -> Environment:
        """A copy under another name."""
        twin = copy.deepcopy(self)
        twin.name = new_name
        twin.version = None
        return twin

    # ---- constructors -----------------------------------------------------------------
    @staticmethod
    def from_conda_specification(name: str, file_path: str) -> Environment:
        """An environment from a conda ``environment.yml``."""
        env = Environment(name)
        env.python.conda_dependencies = CondaDependencies(file_path)
        return env

    @staticmethod
    def from_pip_requirements(
        name: str, file_path: str, pip_version: str | None = None
    ) -> Environment:
        """An environment from a pip ``requirements.txt`` (options such as ``--find-links`` kept).

        ``pip_version`` is accepted for compatibility; the submitting environment's pip is used.
        """
        try:
            with open(file_path, encoding="utf-8") as handle:
                lines = [line.split(" #")[0].strip() for line in handle]
        except OSError as exc:
            raise ValidationError(f"cannot read pip requirements {file_path!r}: {exc}") from exc
        deps = CondaDependencies.create()
        deps.remove_pip_package("azureml-defaults")
        for line in lines:
            if not line or line.startswith("#"):
                continue
            if line.startswith("-"):
                deps.set_pip_option(line)
            else:
                deps.add_pip_package(line)
        env = Environment(name)
        env.python.conda_dependencies = deps
        return env

    @staticmethod
    def from_existing_conda_environment(name: str, conda_environment_name: str) -> Environment:
        """A user-managed environment running the Python of an existing conda environment.

        Raises:
            EnvironmentBuildError: there is no conda on ``PATH`` (the message says what to use
                instead) or no conda environment of that name.
        """
        from runhistory.compute.envbuild import find_conda_python

        env = Environment(name)
        env.python.user_managed_dependencies = True
        env.python.interpreter_path = find_conda_python(conda_environment_name)
        return env

    @staticmethod
    def from_docker_image(
        name: str,
        image: str,
        container_registry: Any = None,
        conda_specification: str | None = None,
        pip_requirements: str | None = None,
    ) -> Environment:
        """Not available: the local target runs without Docker."""
        raise ValidationError(_docker_message(name))

    @staticmethod
    def from_dockerfile(
        name: str,
        dockerfile: str,
        conda_specification: str | None = None,
        pip_requirements: str | None = None,
    ) -> Environment:
        """Not available: the local target runs without Docker."""
        raise ValidationError(_docker_message(name))

    @staticmethod
    def from_docker_build_context(name: str, docker_build_context: Any) -> Environment:
        """Not available: the local target runs without Docker."""
        raise ValidationError(_docker_message(name))

    # ---- files ------------------------------------------------------------------------
    def save_to_directory(self, path: str, overwrite: bool = False) -> None:
        """Write ``azureml_environment.json`` and ``conda_dependencies.yml`` into ``path``."""
        target = os.path.join(path, _ENV_FILE)
        if os.path.exists(target) and not overwrite:
            raise ValidationError(f"{target} exists; pass overwrite=True to replace it")
        os.makedirs(path, exist_ok=True)
        data = self.to_dict()
        data["python"].pop("condaDependencies")
        data["python"]["condaDependenciesFile"] = _CONDA_FILE
        with open(target, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
        self.python.conda_dependencies.save(os.path.join(path, _CONDA_FILE))

    @staticmethod
    def load_from_directory(path: str) -> Environment:
        """Read an environment written by :meth:`save_to_directory`."""
        source = os.path.join(path, _ENV_FILE)
        try:
            with open(source, encoding="utf-8") as handle:
                data = json.load(handle)
        except FileNotFoundError:
            raise NotFoundError(f"no environment in {path!r}: {_ENV_FILE} is missing") from None
        return Environment.from_dict(data, base_folder=path)

    # ---- building ---------------------------------------------------------------------
    def build_local(self, workspace: Any = None, platform: Any = None, **kwargs: Any) -> str:
        """Build (or reuse) this environment on this machine; returns its interpreter."""
        from runhistory.client.backend import home_folder
        from runhistory.compute.envbuild import plan_environment, prepare_interpreter

        plan = plan_environment(self.to_dict())
        return prepare_interpreter(plan, os.path.join(home_folder(), "envs"), print)

    # ---- the workspace's registry ------------------------------------------------------
    def register(self, workspace: Any) -> Environment:
        """Register this environment in the workspace as the next version of its name.

        Registering an unchanged definition again keeps its version. Returns the registered
        environment; ``self.version`` is set too.
        """
        from runhistory.sdk import environment_registry

        return environment_registry.register(self, workspace)

    @staticmethod
    def get(
        workspace: Any, name: str, version: str | None = None, label: str | None = None
    ) -> Environment:
        """A registered environment (newest version unless ``version``).

        A curated name of the original (``AzureML-…``) that is not registered resolves to
        its local equivalent, the current interpreter, with a notice.

        Raises:
            NotFoundError: no environment of that name and version is registered.
            ValidationError: ``label`` was given (labels are not kept).
        """
        from runhistory.sdk import environment_registry

        if label is not None:
            raise ValidationError(_NO_LABELS)
        return environment_registry.get(workspace, name, version)

    @staticmethod
    def list(workspace: Any) -> dict[str, Environment]:
        """The newest version of each registered environment, and the curated names."""
        from runhistory.sdk import environment_registry

        return environment_registry.list_all(workspace)

    @staticmethod
    def label(workspace: Any, name: str, version: str, labels: Any) -> None:
        """Not available: versions are addressed by number."""
        raise ValidationError(_NO_LABELS)

    def build(self, workspace: Any, image_build_compute: Any = None) -> Any:
        """Not available: images are a cloud feature; use :meth:`build_local`."""
        raise ValidationError("runhistory builds no images; use Environment.build_local()")

    def get_image_details(self, workspace: Any) -> Any:
        """Not available: images are a cloud feature."""
        raise ValidationError("runhistory builds no images; use Environment.build_local()")

    @staticmethod
    def add_private_pip_wheel(workspace: Any, file_path: str, exist_ok: bool = False) -> str:
        """Not available: reference the wheel with a pip ``--find-links`` option instead."""
        raise ValidationError(
            "runhistory has no wheel store; use CondaDependencies.set_pip_option("
            "'--find-links <folder>') and list the package by name"
        )

    def __repr__(self) -> str:
        return f"Environment(Name: {self.name}, Version: {self.version})"


def _docker_message(name: str) -> str:
    return (
        f"environment {name!r}: runhistory's local target runs without Docker; describe the "
        f"packages with CondaDependencies or a requirements file, or use a user-managed "
        f"interpreter"
    )
