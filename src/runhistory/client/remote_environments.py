"""The environment-registry methods of the remote backend, answered by a server."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from runhistory.client.http import HttpClient
from runhistory.client.wire import record, records
from runhistory.tracking.entities import EnvironmentVersion
from runhistory.tracking.environment_registry import (
    check_environment_name,
    check_environment_version,
)


class RemoteEnvironmentsMixin:
    """``register_environment``, ``get_environment`` and ``list_environments`` over HTTP."""

    http: HttpClient

    if TYPE_CHECKING:  # provided by RemoteBackend

        def _all_pages(self, path: str, params: list[tuple[str, Any]]) -> list[Any]: ...

    def register_environment(self, name: str, definition: dict[str, Any]) -> EnvironmentVersion:
        """Register ``definition`` under ``name``; an unchanged definition keeps its version."""
        body = {"name": check_environment_name(name), "definition": definition}
        return record(EnvironmentVersion, self.http.call("POST", "/environments", body))

    def get_environment(self, name: str, version: int | str | None = None) -> EnvironmentVersion:
        """A registered environment; the newest version when ``version`` is None."""
        number = check_environment_version(version)
        path = f"/environments/{quote(check_environment_name(name), safe='')}/versions/"
        found = self.http.call("GET", path + ("latest" if number is None else str(number)))
        return record(EnvironmentVersion, found)

    def list_environments(
        self, name: str | None = None, latest: bool = True
    ) -> list[EnvironmentVersion]:
        """Registered environments by name; every version unless ``latest``."""
        params: list[tuple[str, Any]] = [("latest", "true" if latest else "false")]
        if name is not None:
            params.append(("name", check_environment_name(name)))
        return records(EnvironmentVersion, self._all_pages("/environments", params))
