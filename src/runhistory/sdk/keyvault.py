"""The workspace secret store, as ``ws.get_default_keyvault()`` returns it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runhistory.client.protocol import Backend
    from runhistory.sdk.workspace import Workspace


class Keyvault:
    """Secrets of a workspace, encrypted at rest; values are never listed or logged."""

    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace

    @property
    def _backend(self) -> Backend:
        return self._workspace._connection.backend

    def set_secret(self, name: str, value: str) -> None:
        """Store or replace a secret."""
        self._backend.set_secret(name, value)

    def set_secrets(self, secrets_batch: dict[str, str]) -> None:
        """Store several secrets."""
        for name, value in secrets_batch.items():
            self.set_secret(name, value)

    def get_secret(self, name: str) -> str:
        """A secret's value.

        Raises:
            NotFoundError: there is no such secret.
        """
        return self._backend.get_secret(name)

    def get_secrets(self, secrets: list[str]) -> dict[str, str]:
        """Several secrets as ``{name: value}``."""
        return {name: self.get_secret(name) for name in secrets}

    def list_secrets(self) -> list[dict[str, str]]:
        """Secret names as ``[{'name': ...}]`` (values are never listed)."""
        return [{"name": n} for n in self._backend.list_secret_names()]

    def delete_secret(self, name: str) -> None:
        """Delete a secret."""
        self._backend.delete_secret(name)

    def delete_secrets(self, secrets: list[str]) -> None:
        """Delete several secrets."""
        for name in secrets:
            self.delete_secret(name)

    def __repr__(self) -> str:
        return f"Keyvault(workspace={self._workspace.name!r})"
