"""Workspace: where experiments, runs, models and secrets live."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

from runhistory import settings
from runhistory.client.backend import Connection, connect, home_folder, resolve_location
from runhistory.client.location import DEFAULT_WORKSPACE, choose_uri, workspaces_folder
from runhistory.errors import ConfigurationError, NotFoundError
from runhistory.sdk.config import find_config_file, read_config, write_config
from runhistory.sdk.workspace_cloud import WorkspaceCloudMixin

if TYPE_CHECKING:
    from runhistory.sdk.environment import Environment
    from runhistory.sdk.experiment import Experiment
    from runhistory.sdk.keyvault import Keyvault
    from runhistory.sdk.model import Model
    from runhistory.sdk.run import Run

DEFAULT_NAME = DEFAULT_WORKSPACE
# What a workspace reports where the original names a cloud subscription, group and region.
LOCAL = "local"
_ANNOUNCED: set[str] = set()


def _workspaces_folder() -> str:
    return workspaces_folder()


def _announce(folder: str) -> None:
    if folder in _ANNOUNCED or settings.get("RUNHISTORY_QUIET"):
        return
    _ANNOUNCED.add(folder)
    if not os.path.exists(os.path.join(folder, "runhistory.db")):
        print(f"runhistory: new local workspace at {folder}", file=sys.stderr)


class Workspace(WorkspaceCloudMixin):
    """A place that holds experiments, runs, models and secrets.

    With no arguments it is the default local workspace (``~/.runhistory``, moved by
    ``RUNHISTORY_HOME``; ``RUNHISTORY_TRACKING_URI`` overrides it). The original SDK's
    positional arguments are accepted: ``workspace_name`` names a local workspace under
    ``$RUNHISTORY_HOME/workspaces/``.

    Args:
        subscription_id: kept for scripts that print it (default ``"local"``); no effect.
        resource_group: kept for scripts that print it (default ``"local"``); no effect.
        workspace_name: name of a local workspace.
        path: a folder to hold the workspace (SQLite database + files).
        tracking_uri: a folder, ``sqlite:///…``, ``postgresql://…`` or ``http(s)://host:port``.
        artifact_location: where run files go for database tracking URIs.
        token: bearer token for a server started with ``--auth`` (``RUNHISTORY_TRACKING_TOKEN``
            wins when set).

    Example:
        >>> ws = Workspace(path="/tmp/my-workspace")  # doctest: +SKIP
        >>> exp = Experiment(ws, "mnist")  # doctest: +SKIP
    """

    def __init__(
        self,
        subscription_id: str | None = None,
        resource_group: str | None = None,
        workspace_name: str | None = None,
        auth: Any = None,
        _location: str | None = None,
        _disable_service_check: bool = False,
        _workspace_id: str | None = None,
        sku: str = "basic",
        tags: dict[str, str] | None = None,
        _cloud: str = "AzureCloud",
        *,
        path: str | os.PathLike[str] | None = None,
        tracking_uri: str | None = None,
        artifact_location: str | None = None,
        token: str | None = None,
    ) -> None:
        uri = _choose_uri(workspace_name, path, tracking_uri)
        location = resolve_location(uri, artifact_location)
        if location.kind == "local":
            _announce(location.tracking_uri)
        self._name = workspace_name or _name_for(location.tracking_uri)
        self._subscription_id = subscription_id or LOCAL
        self._resource_group = resource_group or LOCAL
        self._location = _location or LOCAL
        self._sku = sku
        self._tags = dict(tags or {})
        self._connection: Connection = connect(
            location.tracking_uri, location.artifact_location, token=token
        )

    # ---- construction ----------------------------------------------------------------
    @staticmethod
    def from_config(
        path: str | None = None,
        auth: Any = None,
        _logger: Any = None,
        _file_name: str | None = None,
    ) -> Workspace:
        """The workspace named by the nearest config file, searching upward from ``path``.

        Looks for ``.runhistory/config.json``, ``.azureml/config.json`` and ``config.json``.
        ``RUNHISTORY_TRACKING_URI`` overrides what the file says. A config in the original SDK's
        format (``subscription_id``, ``resource_group``, ``workspace_name``) maps to a local
        workspace of that name.

        Raises:
            ConfigurationError: no config file was found and no tracking URI is set.
        """
        found = find_config_file(path, _file_name)
        env_uri = settings.get("RUNHISTORY_TRACKING_URI")
        if found is None:
            if env_uri:
                return Workspace(tracking_uri=env_uri)
            where = os.path.abspath(path or os.getcwd())
            raise ConfigurationError(
                f"no workspace config found in {where} or its parents (looked for "
                f".runhistory/config.json, .azureml/config.json, config.json); run "
                f"'runhistory folder attach' or use Workspace() for the default workspace"
            )
        config = read_config(found)
        return Workspace(
            config.subscription_id,
            config.resource_group,
            config.name,  # names the workspace; with a tracking URI, the URI says where
            _location=config.location,
            tracking_uri=env_uri or config.tracking_uri,
            artifact_location=config.artifact_location,
            token=config.token,
        )

    @staticmethod
    def create(
        name: str,
        auth: Any = None,
        subscription_id: str | None = None,
        resource_group: str | None = None,
        location: str | None = None,
        create_resource_group: bool = True,
        sku: str = "basic",
        tags: Any = None,
        friendly_name: str | None = None,
        exist_ok: bool = False,
        show_output: bool = True,
        **kwargs: Any,
    ) -> Workspace:
        """Create a named local workspace under ``$RUNHISTORY_HOME/workspaces/``.

        Raises:
            ConfigurationError: it exists already and ``exist_ok`` is False.
        """
        folder = os.path.join(_workspaces_folder(), name)
        if os.path.exists(os.path.join(folder, "runhistory.db")) and not exist_ok:
            raise ConfigurationError(
                f"workspace {name!r} already exists at {folder}; pass exist_ok=True to use it"
            )
        return Workspace(
            subscription_id, resource_group, name, _location=location, sku=sku, tags=tags
        )

    @staticmethod
    def get(
        name: str,
        auth: Any = None,
        subscription_id: str | None = None,
        resource_group: str | None = None,
        location: str | None = None,
        cloud: str = "AzureCloud",
        id: str | None = None,
    ) -> Workspace:
        """An existing workspace: the one a config file here names, or a named local one.

        As in the original, a config file in the working directory (or above) that names the
        workspace ``name`` gives it, with its tracking URI.

        Raises:
            NotFoundError: there is no workspace of that name.
        """
        configured = _configured_workspace(name)
        if configured is not None:
            return configured
        if name == DEFAULT_NAME:
            return Workspace(subscription_id, resource_group, _location=location)
        folder = os.path.join(_workspaces_folder(), name)
        if not os.path.exists(os.path.join(folder, "runhistory.db")):
            raise NotFoundError(f"no workspace named {name!r} in {_workspaces_folder()}")
        return Workspace(subscription_id, resource_group, name, _location=location)

    @staticmethod
    def list(
        subscription_id: str | None = None, auth: Any = None, resource_group: str | None = None
    ) -> dict[str, list[Workspace]]:
        """Named local workspaces, as ``{name: [Workspace]}`` like the original."""
        folder = _workspaces_folder()
        names = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
        return {n: [Workspace(workspace_name=n)] for n in names}

    def write_config(self, path: str | None = None, file_name: str | None = None) -> str:
        """Write ``.runhistory/config.json`` under ``path`` (default: working directory)."""
        content = {"workspace_name": self.name, "tracking_uri": self.tracking_uri}
        if self.artifact_location and self._connection.location.kind != "local":
            content["artifact_location"] = self.artifact_location
        return write_config(path or os.getcwd(), content)

    # ---- attributes scripts print ----------------------------------------------------
    @property
    def name(self) -> str:
        """The workspace name."""
        return self._name

    @property
    def location(self) -> str:
        """The config's ``location``, else ``"local"``: there is no cloud region."""
        return self._location

    @property
    def subscription_id(self) -> str:
        """The subscription id of an original-format config, else ``"local"``."""
        return self._subscription_id

    @property
    def resource_group(self) -> str:
        """The resource group of an original-format config, else ``"local"``."""
        return self._resource_group

    @property
    def sku(self) -> str:
        """Kept for compatibility."""
        return self._sku

    @property
    def tags(self) -> dict[str, str]:
        """Workspace tags given at construction."""
        return dict(self._tags)

    @property
    def tracking_uri(self) -> str:
        """Where this workspace's data is: folder, database URL or server URL."""
        return self._connection.location.tracking_uri

    @property
    def artifact_location(self) -> str | None:
        """Where run files are stored."""
        return self._connection.location.artifact_location

    @property
    def discovery_url(self) -> str:
        """The tracking URI (the original returned a service discovery URL)."""
        return self.tracking_uri

    @property
    def service_context(self) -> Any:
        """The backend this workspace talks to."""
        return self._connection.backend

    def get_details(self) -> dict[str, Any]:
        """The workspace described with the original's keys (``id``, ``name``, ``location``…)."""
        import uuid

        arm_id = (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.MachineLearningServices/workspaces/{self.name}"
        )
        return {
            "id": arm_id,
            "name": self.name,
            "location": self.location,
            "type": "Microsoft.MachineLearningServices/workspaces",
            "tags": self.tags,
            "sku": self.sku,
            "workspaceid": str(uuid.uuid5(uuid.NAMESPACE_URL, self.tracking_uri)),
            "description": "",
            "friendlyName": self.name,
            "discoveryUrl": self.discovery_url,
            "provisioningState": "Succeeded",
            "subscriptionId": self.subscription_id,
            "resourceGroup": self.resource_group,
            "trackingUri": self.tracking_uri,
            "artifactLocation": self.artifact_location,
        }

    def get_mlflow_tracking_uri(self, _with_auth: bool = False) -> str:
        """The URI that makes MLflow log into this workspace:
        ``mlflow.set_tracking_uri(ws.get_mlflow_tracking_uri())``.

        For a server it is the server's URL (MLflow's REST API is served there); for an embedded
        workspace it is ``runhistory:<tracking uri>``, handled by the MLflow plugin of the
        ``[mlflow]`` extra through the workspace's own service — MLflow never opens the
        database itself. See docs/mlflow.md.
        """
        location = self._connection.location
        if location.kind == "remote":
            return self.tracking_uri
        return f"runhistory:{self.tracking_uri}"

    # ---- contents -------------------------------------------------------------------
    @property
    def experiments(self) -> dict[str, Experiment]:
        """Active experiments by name."""
        from runhistory.sdk.experiment import Experiment

        return {e.name: e for e in Experiment.list(self)}

    @property
    def models(self) -> dict[str, Model]:
        """The latest version of each registered model, by name."""
        from runhistory.sdk.model import Model

        return {m.name: m for m in Model.list(self, latest=True)}

    @property
    def environments(self) -> dict[str, Environment]:
        """Registered environments (newest version of each) and the curated names."""
        from runhistory.sdk.environment import Environment

        return Environment.list(self)

    @property
    def compute_targets(self) -> dict[str, Any]:
        """The workspace's compute targets (``local`` at least), by name."""
        from runhistory.sdk.compute_target import ComputeTarget

        return {target.name: target for target in ComputeTarget.list(self)}

    def get_run(self, run_id: str) -> Run:
        """The run with this id, in whichever experiment it is."""
        from runhistory.sdk.run import Run

        return Run.get(self, run_id)

    def get_default_keyvault(self) -> Keyvault:
        """The workspace's secret store."""
        from runhistory.sdk.keyvault import Keyvault

        return Keyvault(self)

    def __repr__(self) -> str:
        return f"Workspace.create(name={self.name!r}, tracking_uri={self.tracking_uri!r})"


def _configured_workspace(name: str) -> Workspace | None:
    found = find_config_file()
    if found is None or read_config(found).name != name:
        return None
    return Workspace.from_config(found)


def _choose_uri(workspace_name: str | None, path: Any, tracking_uri: str | None) -> str:
    return choose_uri(workspace_name, path, tracking_uri)


def _name_for(tracking_uri: str) -> str:
    if os.path.abspath(tracking_uri) == home_folder():
        return DEFAULT_NAME
    base = os.path.basename(tracking_uri.rstrip("/"))
    return base or DEFAULT_NAME
