"""CondaDependencies: the package list of an environment, in conda's YAML layout.

runhistory installs the pip part with ``pip`` into a cached venv; conda packages need conda on
``PATH``. ``azureml-*`` pip packages are skipped: runhistory itself provides that API.
"""

from __future__ import annotations

import copy
import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from runhistory.errors import ValidationError

DEFAULT_NAME = "project_environment"
DEFAULT_CHANNELS = ["anaconda", "conda-forge"]


def _current_python() -> str:
    info = sys.version_info
    return f"{info.major}.{info.minor}.{info.micro}"


def _package_name(spec: str) -> str:
    for separator in ("==", ">=", "<=", "~=", "!=", "=", "<", ">", "[", " ", ";"):
        spec = spec.split(separator)[0]
    return spec.strip().lower()


class CondaDependencies:
    """Conda and pip packages of an environment.

    Example:
        >>> deps = CondaDependencies.create(pip_packages=["scikit-learn==1.4.2"])
        >>> list(deps.pip_packages)
        ['azureml-defaults', 'scikit-learn==1.4.2']
    """

    DEFAULT_NAME = DEFAULT_NAME

    def __init__(
        self,
        conda_dependencies_file_path: str | None = None,
        _underlying_structure: dict[str, Any] | None = None,
    ) -> None:
        if conda_dependencies_file_path is not None:
            self._conda = _read_yaml(conda_dependencies_file_path)
        elif _underlying_structure is not None:
            self._conda = copy.deepcopy(_underlying_structure)
        else:
            self._conda = {
                "name": DEFAULT_NAME,
                "dependencies": [f"python={_current_python()}", {"pip": ["azureml-defaults"]}],
                "channels": list(DEFAULT_CHANNELS),
            }
        self._conda.setdefault("dependencies", [])

    @staticmethod
    def create(
        pip_packages: Iterable[str] | None = None,
        conda_packages: Iterable[str] | None = None,
        python_version: str | None = None,
        pin_sdk_version: bool = True,
        pip_indexurl: str | None = None,
        channels: Iterable[str] | None = None,
        **kwargs: Any,
    ) -> CondaDependencies:
        """A dependency list with these pip and conda packages (and a Python version)."""
        deps = CondaDependencies()
        deps.set_python_version(python_version or _current_python())
        for package in conda_packages or []:
            deps.add_conda_package(package)
        for package in pip_packages or []:
            deps.add_pip_package(package)
        for channel in channels or []:
            deps.add_channel(channel)
        if pip_indexurl:
            deps.set_pip_option(f"--index-url {pip_indexurl}")
        return deps

    # ---- reading ----------------------------------------------------------------------
    def _pip_list(self, create: bool = False) -> list[Any] | None:
        for item in self._conda["dependencies"]:
            if isinstance(item, dict) and "pip" in item:
                pip_list: list[Any] = item["pip"]
                return pip_list
        if not create:
            return None
        entry: dict[str, list[Any]] = {"pip": []}
        self._conda["dependencies"].append(entry)
        return entry["pip"]

    @property
    def pip_packages(self) -> Iterator[str]:
        """The pip requirement strings (options excluded)."""
        return iter([str(p) for p in self._pip_list() or [] if not str(p).startswith("-")])

    @property
    def pip_options(self) -> Iterator[str]:
        """pip options such as ``--index-url ...``."""
        return iter([str(p) for p in self._pip_list() or [] if str(p).startswith("-")])

    @property
    def conda_packages(self) -> Iterator[str]:
        """The conda package specs, ``python`` excluded."""
        return iter(
            [
                str(d)
                for d in self._conda["dependencies"]
                if not isinstance(d, dict) and _package_name(str(d)) != "python"
            ]
        )

    @property
    def conda_channels(self) -> Iterator[str]:
        """The conda channels."""
        return iter(list(self._conda.get("channels") or []))

    def get_python_version(self) -> str | None:
        """The requested Python version, or None."""
        for item in self._conda["dependencies"]:
            if not isinstance(item, dict) and _package_name(str(item)) == "python":
                return str(item).split("=", 1)[1].lstrip("=") if "=" in str(item) else None
        return None

    # ---- changing ---------------------------------------------------------------------
    def add_pip_package(self, pip_package: str) -> None:
        """Add (or replace, by package name) a pip requirement."""
        if not isinstance(pip_package, str) or not pip_package.strip():
            raise ValidationError(f"a pip package must be a non-empty string, got {pip_package!r}")
        self.remove_pip_package(_package_name(pip_package))
        pip_list = self._pip_list(create=True)
        assert pip_list is not None
        pip_list.append(pip_package.strip())

    def remove_pip_package(self, pip_package: str) -> None:
        """Remove a pip requirement by package name."""
        pip_list = self._pip_list()
        if pip_list is not None:
            name = _package_name(pip_package)
            pip_list[:] = [
                p for p in pip_list if str(p).startswith("-") or _package_name(str(p)) != name
            ]

    def set_pip_option(self, pip_option: str) -> None:
        """Add a pip option (``--index-url``, ``--extra-index-url``, ``--find-links``...)."""
        if not pip_option.startswith("-"):
            raise ValidationError(f"a pip option starts with '-', got {pip_option!r}")
        pip_list = self._pip_list(create=True)
        assert pip_list is not None
        flag = pip_option.split()[0]
        pip_list[:] = [p for p in pip_list if str(p).split()[0] != flag]
        pip_list.insert(0, pip_option)

    def add_conda_package(self, conda_package: str) -> None:
        """Add (or replace, by package name) a conda package."""
        self.remove_conda_package(conda_package)
        self._conda["dependencies"].insert(len(self._non_pip()), conda_package)

    def _non_pip(self) -> list[Any]:
        return [d for d in self._conda["dependencies"] if not isinstance(d, dict)]

    def remove_conda_package(self, conda_package: str) -> None:
        """Remove a conda package by name."""
        name = _package_name(conda_package)
        self._conda["dependencies"] = [
            d
            for d in self._conda["dependencies"]
            if isinstance(d, dict) or _package_name(str(d)) != name
        ]

    def set_python_version(self, version: str) -> None:
        """Ask for this Python version (a different one than the current needs conda)."""
        self.remove_conda_package("python")
        self._conda["dependencies"].insert(0, f"python={version}")

    def add_channel(self, channel: str) -> None:
        """Add a conda channel."""
        channels = self._conda.setdefault("channels", [])
        if channel not in channels:
            channels.append(channel)

    def remove_channel(self, channel: str) -> None:
        """Remove a conda channel."""
        self._conda["channels"] = [c for c in self._conda.get("channels") or [] if c != channel]

    # ---- output -----------------------------------------------------------------------
    def as_dict(self) -> dict[str, Any]:
        """A copy of the conda specification."""
        return copy.deepcopy(self._conda)

    def serialize_to_string(self) -> str:
        """The specification as conda YAML."""
        import yaml

        return str(yaml.safe_dump(self._conda, sort_keys=False))

    def save(self, path: str | None = None) -> str:
        """Write the YAML to ``path`` (default ``conda_dependencies.yml``); returns the path."""
        target = os.path.abspath(path or "conda_dependencies.yml")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8") as handle:
            handle.write(self.serialize_to_string())
        return target

    def save_to_file(self, base_directory: str, conda_file_path: str | None = None) -> str:
        """Write the YAML under ``base_directory``; returns the path."""
        return self.save(os.path.join(base_directory, conda_file_path or "conda_dependencies.yml"))

    def __repr__(self) -> str:
        return f"CondaDependencies({self._conda!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CondaDependencies) and other._conda == self._conda


def _read_yaml(path: str) -> dict[str, Any]:
    import yaml

    try:
        with open(path, encoding="utf-8") as handle:
            loaded = yaml.safe_load(handle)
    except OSError as exc:
        raise ValidationError(f"cannot read conda specification {path!r}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ValidationError(f"conda specification {path!r} is not valid YAML: {exc}") from exc
    if not isinstance(loaded, dict):
        raise ValidationError(f"conda specification {path!r} must be a mapping with 'dependencies'")
    return loaded
