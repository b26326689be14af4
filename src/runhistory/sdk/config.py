"""Finding and reading workspace configuration files."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from runhistory.errors import ConfigurationError

CONFIG_CANDIDATES = (
    os.path.join(".runhistory", "config.json"),
    os.path.join(".azureml", "config.json"),
    "config.json",
)


@dataclass(frozen=True)
class WorkspaceConfig:
    """What a config file says about a workspace."""

    path: str
    name: str | None = None
    tracking_uri: str | None = None
    artifact_location: str | None = None
    subscription_id: str | None = None
    resource_group: str | None = None
    experiment_name: str | None = None
    location: str | None = None
    token: str | None = None  # bearer token for a server tracking URI


def find_config_file(start: str | None = None, file_name: str | None = None) -> str | None:
    """The first config file in ``start`` (default: the working directory) or its parents."""
    folder = os.path.abspath(start or os.getcwd())
    if os.path.isfile(folder):
        return folder
    candidates = (file_name,) if file_name else CONFIG_CANDIDATES
    while True:
        for candidate in candidates:
            path = os.path.join(folder, candidate)
            if os.path.isfile(path):
                return path
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def read_config(path: str) -> WorkspaceConfig:
    """Parse a runhistory config or one in the original SDK's format."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read workspace config {path!r}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"workspace config {path!r} must hold a JSON object")
    tracking_uri = data.get("tracking_uri")
    if tracking_uri and "://" not in tracking_uri and not os.path.isabs(tracking_uri):
        # A relative folder in a config file is relative to the project folder holding it.
        tracking_uri = os.path.normpath(os.path.join(_project_folder(path), tracking_uri))
    return WorkspaceConfig(
        path=path,
        name=data.get("workspace_name") or data.get("name"),
        tracking_uri=tracking_uri,
        artifact_location=data.get("artifact_location"),
        subscription_id=data.get("subscription_id"),
        resource_group=data.get("resource_group"),
        experiment_name=data.get("experiment_name"),
        location=data.get("location"),
        token=data.get("token"),
    )


def _project_folder(config_path: str) -> str:
    folder = os.path.dirname(os.path.abspath(config_path))
    if os.path.basename(folder) in (".runhistory", ".azureml"):
        folder = os.path.dirname(folder)
    return folder


def write_config(path: str, content: dict[str, str]) -> str:
    """Write ``content`` as ``<path>/.runhistory/config.json``; returns the file path."""
    folder = os.path.join(os.path.abspath(path), ".runhistory")
    os.makedirs(folder, exist_ok=True)
    target = os.path.join(folder, "config.json")
    with open(target, "w", encoding="utf-8") as handle:
        json.dump(content, handle, indent=2)
        handle.write("\n")
    return target
