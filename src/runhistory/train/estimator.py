"""Estimator and SKLearn: deprecated wrappers that build a ``ScriptRunConfig``.

``Experiment.submit(estimator)`` submits the ``ScriptRunConfig`` the estimator holds
(:attr:`Estimator.script_run_config`); a ``HyperDriveConfig(estimator=…)`` sweeps it. Container
settings (``use_docker``, ``custom_docker_image``, ``use_gpu``) are recorded but not acted on:
the local target runs processes, not containers.
"""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING, Any

from runhistory.errors import ValidationError
from runhistory.sdk.conda_dependencies import CondaDependencies
from runhistory.sdk.environment import Environment
from runhistory.sdk.script_run_config import ScriptRunConfig

if TYPE_CHECKING:
    from runhistory.sdk.experiment import Experiment
    from runhistory.sdk.run import Run

__all__ = ["Estimator", "SKLearn"]


def script_arguments(script_params: dict[str, Any] | None) -> list[Any]:
    """``{"--lr": 0.1, "--verbose": None}`` → ``["--lr", 0.1, "--verbose"]``."""
    arguments: list[Any] = []
    for name, value in (script_params or {}).items():
        arguments += [name] if value is None else [name, value]
    return arguments


def _environment(
    name: str,
    pip_packages: list[str] | None,
    conda_packages: list[str] | None,
    pip_requirements_file: str | None,
    conda_dependencies_file: str | None,
    environment_variables: dict[str, str] | None,
    user_managed: bool,
) -> Environment | None:
    """The environment the options describe (None: the ScriptRunConfig's default)."""
    if conda_dependencies_file:
        env = Environment.from_conda_specification(name, conda_dependencies_file)
    elif pip_requirements_file:
        env = Environment.from_pip_requirements(name, pip_requirements_file)
    elif pip_packages or conda_packages:
        env = Environment(name)
        env.python.conda_dependencies = CondaDependencies.create(
            pip_packages=pip_packages, conda_packages=conda_packages
        )
    elif environment_variables or user_managed:
        env = Environment(name)
    else:
        return None
    for package in pip_packages or []:
        if conda_dependencies_file or pip_requirements_file:
            env.python.conda_dependencies.add_pip_package(package)
    env.python.user_managed_dependencies = user_managed
    env.environment_variables = dict(environment_variables or {})
    return env


class Estimator:
    """Deprecated: a script with its parameters and packages; prefer ``ScriptRunConfig``.

    Args:
        source_directory: folder holding the script.
        compute_target: where to run (a target name or object; default ``local``).
        entry_script: the script, relative to ``source_directory``.
        script_params: ``{"--name": value}``, given to the script as arguments.
        pip_packages, conda_packages: packages of a new environment for the run.
        conda_dependencies_file, pip_requirements_file: the same, from a file.
        environment_variables: variables set for the script.
        environment_definition: an ``Environment`` to use as it is (no package options then).
        user_managed: run with the interpreter as it is.
        max_run_duration_seconds: stop the run after this long.
        distributed_training: an ``MpiConfiguration``/``PyTorchConfiguration``.

    Raises:
        ValidationError: no entry script, or an environment given with package options.
    """

    _FRAMEWORK: str | None = None

    def __init__(
        self,
        source_directory: str | os.PathLike[str],
        *,
        compute_target: Any = None,
        vm_size: str | None = None,
        vm_priority: str | None = None,
        entry_script: str | None = None,
        script_params: dict[str, Any] | None = None,
        node_count: int = 1,
        process_count_per_node: int = 1,
        distributed_backend: Any = None,
        distributed_training: Any = None,
        use_gpu: bool = False,
        use_docker: bool = True,
        custom_docker_base_image: str | None = None,
        custom_docker_image: str | None = None,
        image_registry_details: Any = None,
        user_managed: bool = False,
        conda_packages: list[str] | None = None,
        pip_packages: list[str] | None = None,
        conda_dependencies_file_path: str | None = None,
        pip_requirements_file_path: str | None = None,
        conda_dependencies_file: str | None = None,
        pip_requirements_file: str | None = None,
        environment_variables: dict[str, str] | None = None,
        environment_definition: Environment | None = None,
        inputs: list[Any] | None = None,
        source_directory_data_store: Any = None,
        shm_size: str | None = None,
        resume_from: Any = None,
        max_run_duration_seconds: int | None = None,
        **kwargs: Any,
    ) -> None:
        warnings.warn(
            f"{type(self).__name__} is deprecated; use ScriptRunConfig with an Environment",
            DeprecationWarning,
            stacklevel=2,
        )
        if not entry_script:
            raise ValidationError(f"{type(self).__name__} needs entry_script=")
        packages = self._packages(pip_packages)
        conda_file = conda_dependencies_file or conda_dependencies_file_path
        pip_file = pip_requirements_file or pip_requirements_file_path
        if environment_definition is not None and (packages or conda_packages or conda_file):
            raise ValidationError(
                "give either environment_definition= or package options, not both"
            )
        environment = environment_definition or _environment(
            f"{type(self).__name__}-environment",
            packages,
            conda_packages,
            pip_file,
            conda_file,
            environment_variables,
            user_managed,
        )
        self.framework = self._FRAMEWORK
        self.use_docker = use_docker
        self.use_gpu = use_gpu
        self.custom_docker_image = custom_docker_image or custom_docker_base_image
        self.node_count = node_count
        self.script_run_config = ScriptRunConfig(
            source_directory,
            script=entry_script,
            arguments=script_arguments(script_params),
            compute_target=compute_target,
            environment=environment,
            distributed_job_config=distributed_training,
            resume_from=resume_from,
            max_run_duration_seconds=max_run_duration_seconds
            or ScriptRunConfig.MAX_DURATION_SECONDS_DEFAULT,
        )

    def _packages(self, pip_packages: list[str] | None) -> list[str] | None:
        return pip_packages

    @property
    def source_directory(self) -> str:
        """The source folder."""
        return str(self.script_run_config.source_directory)

    @property
    def run_config(self) -> Any:
        """The run configuration of the wrapped ``ScriptRunConfig``."""
        return self.script_run_config.run_config

    def _submit(
        self,
        experiment: Experiment,
        tags: dict[str, str] | None = None,
        parent_run: Run | None = None,
        **kwargs: Any,
    ) -> Run:
        return self.script_run_config._submit(
            experiment, tags=tags, parent_run=parent_run, **kwargs
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.script_run_config.identity})"


class SKLearn(Estimator):
    """Deprecated: an :class:`Estimator` for scikit-learn scripts; prefer ``ScriptRunConfig``.

    With package options, ``scikit-learn`` (at ``framework_version`` when given) joins them;
    without any, the script runs in the default environment, which must provide scikit-learn.
    """

    _FRAMEWORK = "scikit-learn"

    def __init__(
        self,
        source_directory: str | os.PathLike[str],
        *,
        framework_version: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.framework_version = framework_version
        super().__init__(source_directory, **kwargs)

    def _packages(self, pip_packages: list[str] | None) -> list[str] | None:
        if not pip_packages:
            return pip_packages
        wanted = "scikit-learn" + (f"=={self.framework_version}" if self.framework_version else "")
        if any(
            p.split("=")[0].split("<")[0].split(">")[0].strip() == "scikit-learn"
            for p in pip_packages
        ):
            return pip_packages
        return [*pip_packages, wanted]
