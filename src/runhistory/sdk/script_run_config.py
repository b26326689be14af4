"""ScriptRunConfig: a script, its source folder and how to run it — what ``submit`` takes."""

from __future__ import annotations

import copy
import os
import shlex
from typing import TYPE_CHECKING, Any

from runhistory.errors import ValidationError
from runhistory.sdk.distributed import describe, ignored_locally
from runhistory.sdk.environment import Environment
from runhistory.sdk.notices import notice
from runhistory.sdk.run_configuration import RunConfiguration
from runhistory.tracking import status as st

if TYPE_CHECKING:
    from runhistory.sdk.experiment import Experiment
    from runhistory.sdk.run import Run

SCRIPT_RUN_TYPE = "azureml.scriptrun"


class ScriptRunConfig:
    """A script and everything needed to run it: source folder, arguments, target, environment.

    ``Experiment.submit(config)`` snapshots ``source_directory`` (honouring ``.amlignore``, else
    ``.gitignore``), creates the run in ``Queued`` and hands it to the compute target
    (default ``local``: a process on this machine). The call returns at once.

    Args:
        source_directory: folder holding the script and everything it needs.
        script: the script's path, relative to ``source_directory``.
        arguments: command-line arguments for the script.
        run_config: a :class:`RunConfiguration` (default: a new one).
        compute_target: a target name (``local``) or an object with a ``name``.
        environment: an :class:`Environment` (overrides the run configuration's).
        max_run_duration_seconds: the job is stopped and fails after this long.
        command: a command line to run instead of ``script`` (list or string).

    Example:
        >>> config = ScriptRunConfig(source_directory=".", script="train.py",
        ...                          arguments=["--epochs", 3])  # doctest: +SKIP
        >>> run = experiment.submit(config)  # doctest: +SKIP
        >>> run.wait_for_completion(show_output=True)  # doctest: +SKIP
    """

    MAX_DURATION_SECONDS_DEFAULT = 2592000

    def __init__(
        self,
        source_directory: str | os.PathLike[str],
        script: str | None = None,
        arguments: list[Any] | None = None,
        run_config: RunConfiguration | None = None,
        _telemetry_values: Any = None,
        compute_target: Any = None,
        environment: Environment | None = None,
        distributed_job_config: Any = None,
        resume_from: Any = None,
        max_run_duration_seconds: int | None = MAX_DURATION_SECONDS_DEFAULT,
        command: list[str] | str | None = None,
        docker_runtime_config: Any = None,
    ) -> None:
        if script and command:
            raise ValidationError("give either script= or command=, not both")
        self.source_directory = os.fspath(source_directory) if source_directory else "."
        self.run_config = copy.deepcopy(run_config) if run_config else RunConfiguration()
        self.script = script or self.run_config.script
        self.arguments: list[Any] = list(
            arguments if arguments is not None else self.run_config.arguments
        )
        self.command = command or self.run_config.command
        if compute_target is not None:
            self.run_config.target = compute_target
        if environment is not None:
            self.run_config.environment = environment
        if (
            max_run_duration_seconds != self.MAX_DURATION_SECONDS_DEFAULT
            or self.run_config.max_run_duration_seconds is None
        ):
            self.run_config.max_run_duration_seconds = max_run_duration_seconds
        self.run_config.script, self.run_config.arguments = self.script, self.arguments
        self.run_config.command = self.command
        for config in (distributed_job_config, docker_runtime_config):
            if config is not None:
                describe(config)  # refuses anything else now, not at submit
        self.distributed_job_config = distributed_job_config
        self.resume_from = resume_from
        self.docker_runtime_config = docker_runtime_config

    @property
    def identity(self) -> str:
        """A printable identity of the configuration."""
        what = self.script or " ".join(self._command_list())
        return f"ScriptRunConfig({self.source_directory}, {what})"

    @property
    def target(self) -> str:
        """The compute target's name."""
        return self.run_config.target

    @property
    def environment(self) -> Environment:
        """The environment the script runs with."""
        return self.run_config.environment

    def _command_list(self) -> list[str]:
        if isinstance(self.command, str):
            return shlex.split(self.command)
        return [str(part) for part in self.command or []]

    # ---- submission -------------------------------------------------------------------
    def _check(self) -> str:
        """Validate before anything is created; returns the absolute source folder."""
        source = os.path.abspath(self.source_directory)
        if not os.path.isdir(source):
            raise ValidationError(f"source_directory {self.source_directory!r} is not a folder")
        if not self.script and not self._command_list():
            raise ValidationError("ScriptRunConfig needs a script (or a command) to run")
        if self.script:
            script_path = os.path.join(source, self.script)
            if os.path.isabs(self.script) or not os.path.isfile(script_path):
                raise ValidationError(
                    f"script {self.script!r} is not a file inside source_directory {source!r}"
                )
        return source

    def _definition(self) -> dict[str, Any]:
        data = self.run_config.to_dict()
        data["environment"] = {"definition": data["environment"]}
        data["compute"] = {
            "target": self.run_config.target,
            "script": self.script,
            "arguments": [str(a) for a in self.arguments],
            "command": self._command_list(),
            "max_run_duration_seconds": self.run_config.max_run_duration_seconds,
            "output_collection": self.run_config.history.output_collection,
        }
        if self.distributed_job_config is not None:
            data["distributed"] = describe(self.distributed_job_config)
        if self.docker_runtime_config is not None:
            data["dockerRuntime"] = describe(self.docker_runtime_config)
        return data

    def _submit(
        self,
        experiment: Experiment,
        tags: dict[str, str] | None = None,
        parent_run: Run | None = None,
        **kwargs: Any,
    ) -> Run:
        """Create the run (Queued), snapshot the source and hand it to the target."""
        from runhistory.compute import JobSpec, get_target
        from runhistory.compute.envbuild import plan_environment
        from runhistory.compute.local import LocalProcessTarget
        from runhistory.sdk.run import Run

        source = self._check()
        backend = experiment.workspace._connection.backend
        target = get_target(self.run_config.target, backend)
        definition = self._definition()
        target.validate(definition)
        if isinstance(target, LocalProcessTarget):
            for what in ignored_locally(self.distributed_job_config, self.docker_runtime_config):
                notice(f"the local target ignores {what}")
        plan = plan_environment(definition["environment"]["definition"])  # fail now, not later
        for note in plan.notes:
            notice(note)
        info = backend.create_run(
            experiment.id,
            parent_run_id=parent_run.id if parent_run is not None else None,
            status=st.QUEUED,
            run_type=SCRIPT_RUN_TYPE,
            target=target.name or str(self.target),
            tags=tags,
            display_name=kwargs.get("display_name"),
            description=kwargs.get("description"),
        )
        run = Run(experiment, info.run_id, _info=info)
        try:
            run.take_snapshot(source)
            backend.update_run(info.run_id, run_definition=definition)
            location = experiment.workspace._connection.location
            target.submit(
                backend, JobSpec(info.run_id, location.tracking_uri, location.artifact_location)
            )
        except BaseException as exc:
            run.fail(error_details=exc, error_code="SubmissionError")
            raise
        run._refresh()
        return run

    def __repr__(self) -> str:
        return self.identity
