"""Members of the original ``Workspace`` that belong to the cloud service.

Listings of cloud resources (datastores, datasets, web services, …) are empty: a local
workspace has none. Calls that would change or create cloud resources raise a
:class:`~runhistory.errors.ValidationError` that says what to do instead.
"""

from __future__ import annotations

from typing import Any, NoReturn

from runhistory.errors import ValidationError


def _refuse(member: str, instead: str) -> NoReturn:
    raise ValidationError(
        f"Workspace.{member} is a cloud feature that runhistory does not provide; {instead}"
    )


_DATA = "read data from a local folder or s3:// path and pass the path to your script"
_NETWORK = "a runhistory workspace is a folder, a database or a server URL: there is no network"
_KEYS = "secrets live in the workspace's key vault: ws.get_default_keyvault().set_secret(...)"


class WorkspaceCloudMixin:
    """Cloud-only members: empty listings, and refusals that name the local way."""

    @property
    def datastores(self) -> dict[str, Any]:
        """Always empty: a local workspace has no datastores."""
        return {}

    @property
    def datasets(self) -> dict[str, Any]:
        """Always empty: a local workspace has no registered datasets."""
        return {}

    @property
    def webservices(self) -> dict[str, Any]:
        """Always empty: runhistory deploys no web services."""
        return {}

    @property
    def images(self) -> dict[str, Any]:
        """Always empty: runhistory builds no images."""
        return {}

    @property
    def linked_services(self) -> dict[str, Any]:
        """Always empty."""
        return {}

    @property
    def private_endpoints(self) -> dict[str, Any]:
        """Always empty."""
        return {}

    def get_default_datastore(self) -> Any:
        """Not available: there are no datastores."""
        _refuse("get_default_datastore", _DATA)

    def set_default_datastore(self, name: str) -> None:
        """Not available: there are no datastores."""
        _refuse("set_default_datastore", _DATA)

    def get_default_compute_target(self, type: str) -> Any:
        """Not available: name a target (``compute_target='local'``) when you submit."""
        _refuse("get_default_compute_target", "pass compute_target='local' to ScriptRunConfig")

    def list_keys(self) -> Any:
        """Not available: there are no storage keys."""
        _refuse("list_keys", _KEYS)

    def sync_keys(self, no_wait: bool = False) -> None:
        """Not available: there are no storage keys."""
        _refuse("sync_keys", _KEYS)

    def add_private_endpoint(self, *args: Any, **kwargs: Any) -> Any:
        """Not available: there is no network to configure."""
        _refuse("add_private_endpoint", _NETWORK)

    def delete_private_endpoint_connection(self, *args: Any, **kwargs: Any) -> None:
        """Not available: there is no network to configure."""
        _refuse("delete_private_endpoint_connection", _NETWORK)

    def get_connection(self, name: str) -> Any:
        """Not available: keep connection secrets in the key vault."""
        _refuse("get_connection", _KEYS)

    def list_connections(self, category: str | None = None, target: str | None = None) -> Any:
        """Not available: keep connection secrets in the key vault."""
        _refuse("list_connections", _KEYS)

    def set_connection(self, *args: Any, **kwargs: Any) -> None:
        """Not available: keep connection secrets in the key vault."""
        _refuse("set_connection", _KEYS)

    def delete_connection(self, name: str) -> None:
        """Not available: keep connection secrets in the key vault."""
        _refuse("delete_connection", _KEYS)

    def delete(self, delete_dependent_resources: bool = False, no_wait: bool = False) -> None:
        """Not available here: delete the workspace's folder or database yourself."""
        _refuse("delete", "delete the workspace's folder (or database) yourself")

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Not available: a workspace's settings are its config file."""
        _refuse("update", "edit the workspace's config file (runhistory folder attach)")

    def update_dependencies(self, *args: Any, **kwargs: Any) -> None:
        """Not available: a local workspace has no dependent cloud resources."""
        _refuse("update_dependencies", _NETWORK)

    def diagnose_workspace(self, diagnose_parameters: Any = None) -> Any:
        """Not available: ``runhistory experiment list`` checks that a workspace answers."""
        _refuse("diagnose_workspace", "run 'runhistory experiment list' to check that it answers")

    @staticmethod
    def setup() -> Any:
        """Not available: a workspace needs no setup (``Workspace()`` creates one)."""
        _refuse("setup", "Workspace() or Workspace.create(name) makes a local workspace")
