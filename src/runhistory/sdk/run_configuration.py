"""RunConfiguration: how a script runs (target, environment, history), kept in ``.runconfig`` files.

A ``.runconfig`` file is YAML in the original layout (``script``, ``arguments``, ``target``,
``environment``, ``history``, ...), so files written by the original tools load here and files
saved here load there. ``save(path, name)`` writes ``<path>/.azureml/<name>.runconfig`` (or
``<path>/.runhistory/`` when only that folder exists); ``load`` looks in ``.runhistory/``,
``.azureml/`` and ``aml_config/``.
"""

from __future__ import annotations

import os
from typing import Any

from runhistory.errors import NotFoundError, ValidationError
from runhistory.sdk.conda_dependencies import CondaDependencies
from runhistory.sdk.environment import Environment

_FOLDERS = (".runhistory", ".azureml", "aml_config")
_SUFFIX = ".runconfig"
_ENV_YAML = "environment.yml"


class HistoryConfiguration:
    """What is collected from a run: ``./outputs`` and the watched folders."""

    def __init__(
        self,
        output_collection: bool = True,
        snapshot_project: bool = True,
        directories_to_watch: list[str] | None = None,
    ) -> None:
        self.output_collection = output_collection
        self.snapshot_project = snapshot_project
        self.directories_to_watch = list(directories_to_watch or ["logs"])

    def to_dict(self) -> dict[str, Any]:
        """The ``.runconfig`` layout."""
        return {
            "outputCollection": self.output_collection,
            "snapshotProject": self.snapshot_project,
            "directoriesToWatch": list(self.directories_to_watch),
        }


class RunConfiguration:
    """Target, environment and history settings of a run; saved as a ``.runconfig`` file.

    Example:
        >>> rc = RunConfiguration()
        >>> rc.target
        'local'
        >>> rc.environment.python.user_managed_dependencies = True
    """

    def __init__(
        self,
        script: str | None = None,
        arguments: list[Any] | None = None,
        framework: str | None = None,
        communicator: str | None = None,
        conda_dependencies: CondaDependencies | None = None,
        _history_enabled: bool | None = None,
        _path: str | None = None,
        _name: str | None = None,
        command: list[str] | str | None = None,
    ) -> None:
        self.script = script
        self.arguments: list[Any] = list(arguments or [])
        self.command: list[str] | str = command or []
        self.framework = framework or "Python"
        self.communicator = communicator or "None"
        self.node_count = 1
        self.max_run_duration_seconds: int | None = None
        # What one process asks of a cluster target: {"cpu": 2, "gpu": 1, "memory_gb": 4}.
        self.resources: dict[str, float] = {}
        self.environment = Environment("runhistory-default")
        if conda_dependencies is not None:
            self.environment.python.conda_dependencies = conda_dependencies
        self.history = HistoryConfiguration(output_collection=_history_enabled is not False)
        self._target: str = "local"
        self._path = _path
        self._name = _name
        self._extra: dict[str, Any] = {}

    # ---- properties -------------------------------------------------------------------
    @property
    def target(self) -> str:
        """Name of the compute target (default ``local``); a compute object's name is taken."""
        return self._target

    @target.setter
    def target(self, value: Any) -> None:
        name = getattr(value, "name", value)
        if not isinstance(name, str) or not name:
            raise ValidationError(f"target must be a compute target name, got {value!r}")
        self._target = name

    @property
    def environment_variables(self) -> dict[str, str]:
        """Environment variables set for the script (those of :attr:`environment`)."""
        return self.environment.environment_variables

    @environment_variables.setter
    def environment_variables(self, value: dict[str, str]) -> None:
        self.environment.environment_variables = {str(k): str(v) for k, v in value.items()}

    @property
    def auto_prepare_environment(self) -> bool:
        """Always True: the environment is prepared when the job starts."""
        return True

    @auto_prepare_environment.setter
    def auto_prepare_environment(self, value: bool) -> None:
        pass  # kept for compatibility

    # ---- dict form --------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The ``.runconfig`` layout."""
        data = dict(self._extra)
        data.update(
            {
                "script": self.script,
                "command": self.command,
                "arguments": [str(a) for a in self.arguments],
                "target": self.target,
                "framework": self.framework,
                "communicator": self.communicator,
                "nodeCount": self.node_count,
                "maxRunDurationSeconds": self.max_run_duration_seconds,
                "environment": self.environment.to_dict(),
                "history": self.history.to_dict(),
            }
        )
        if self.resources:
            data["resources"] = dict(self.resources)
        return data

    @staticmethod
    def from_dict(data: dict[str, Any], base_folder: str | None = None) -> RunConfiguration:
        """A run configuration from the ``.runconfig`` layout (unknown keys are kept)."""
        config = RunConfiguration(
            script=data.get("script"),
            arguments=data.get("arguments"),
            framework=data.get("framework"),
            communicator=data.get("communicator"),
            command=data.get("command"),
        )
        config.target = data.get("target") or "local"
        config.node_count = int(data.get("nodeCount") or 1)
        config.max_run_duration_seconds = data.get("maxRunDurationSeconds")
        config.resources = dict(data.get("resources") or {})
        if data.get("environment"):
            config.environment = Environment.from_dict(data["environment"], base_folder)
        history = data.get("history") or {}
        config.history = HistoryConfiguration(
            bool(history.get("outputCollection", True)),
            bool(history.get("snapshotProject", True)),
            history.get("directoriesToWatch"),
        )
        known = (set(config.to_dict()) | {"resources"}) - set(config._extra)
        config._extra = {k: v for k, v in data.items() if k not in known}
        return config

    # ---- files ------------------------------------------------------------------------
    def save(
        self,
        path: str | None = None,
        name: str | None = None,
        separate_environment_yaml: bool = False,
    ) -> str:
        """Write the configuration; returns the file's path.

        Args:
            path: a project folder (the file goes to its ``.azureml/`` or ``.runhistory/``
                folder) or a file path ending in ``.runconfig``. Default: the working directory.
            name: the file's name without ``.runconfig`` (default: the name it was loaded with).
            separate_environment_yaml: also write the conda specification to
                ``environment.yml`` beside the file and reference it.
        """
        import yaml

        target = self._file_for_save(path, name)
        data = self.to_dict()
        if separate_environment_yaml:
            env_file = os.path.join(os.path.dirname(target), _ENV_YAML)
            self.environment.python.conda_dependencies.save(env_file)
            data["environment"]["python"]["condaDependenciesFile"] = _ENV_YAML
            data["environment"]["python"].pop("condaDependencies")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8") as handle:
            yaml.safe_dump(data, handle, sort_keys=False, default_flow_style=False)
        self._path, self._name = target, os.path.basename(target)[: -len(_SUFFIX)]
        return target

    def _file_for_save(self, path: str | None, name: str | None) -> str:
        given = os.path.abspath(path or os.getcwd())
        if given.endswith(_SUFFIX):
            return given
        name = name or self._name
        if not name:
            raise ValidationError(
                "save() needs a name (the file is <path>/.azureml/<name>.runconfig)"
            )
        folder = given
        if os.path.basename(given) not in _FOLDERS:
            has_own = os.path.isdir(os.path.join(given, ".runhistory"))
            has_aml = os.path.isdir(os.path.join(given, ".azureml"))
            folder = os.path.join(given, ".runhistory" if has_own and not has_aml else ".azureml")
        return os.path.join(folder, name + _SUFFIX)

    @staticmethod
    def load(path: str, name: str | None = None) -> RunConfiguration:
        """Read a ``.runconfig`` file: ``path`` is the file, or a project folder with ``name``.

        Raises:
            NotFoundError: no such file in the folder's ``.runhistory/``, ``.azureml/`` or
                ``aml_config/``.
            ValidationError: the file is not a valid run configuration.
        """
        import yaml

        found = _find_runconfig(path, name)
        try:
            with open(found, encoding="utf-8") as handle:
                data = yaml.safe_load(handle)
        except yaml.YAMLError as exc:
            raise ValidationError(f"{found} is not valid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise ValidationError(f"{found} is not a run configuration (expected a mapping)")
        config = RunConfiguration.from_dict(data, base_folder=os.path.dirname(found))
        config._path, config._name = found, os.path.basename(found)[: -len(_SUFFIX)]
        return config

    @staticmethod
    def delete(path: str, name: str) -> None:
        """Delete the ``.runconfig`` file ``name`` of a project folder.

        Raises:
            NotFoundError: there is no such file.
        """
        os.remove(_find_runconfig(path, name))

    def __repr__(self) -> str:
        return f"RunConfiguration(script={self.script!r}, target={self.target!r})"


def _find_runconfig(path: str, name: str | None) -> str:
    base = os.path.abspath(path)
    if os.path.isfile(base) and name is None:
        return base
    if name is None:
        raise NotFoundError(
            f"no run configuration file {path!r} (pass a file, or a folder and a name)"
        )
    file_name = name if name.endswith(_SUFFIX) else name + _SUFFIX
    candidates = [os.path.join(base, file_name)] + [
        os.path.join(base, f, file_name) for f in _FOLDERS
    ]
    for candidate in candidates:
        if os.path.isfile(candidate):
            return candidate
    raise NotFoundError(
        f"no run configuration {file_name!r} in {base} (looked in {', '.join(_FOLDERS)} and the "
        f"folder itself)"
    )
