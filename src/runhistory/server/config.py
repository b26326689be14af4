"""What the server is built from: its settings and the services it hosts."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from runhistory.errors import ConfigurationError

if TYPE_CHECKING:
    from runhistory.store.sql.tokens import SqlTokenStore
    from runhistory.tracking.service import TrackingService

MiB = 1024 * 1024


@dataclass(frozen=True)
class ServerSettings:
    """Options of one server process (all of them come from the command line).

    Args:
        backend_store_uri: ``sqlite:///…``, ``postgresql://…`` or a workspace folder.
        artifact_location: a folder or ``s3://bucket/prefix`` (default: next to a SQLite file).
        auth: require ``Authorization: Bearer <token>`` on every route but ``/healthz``.
        max_json_bytes: largest JSON request body (after decompression).
        max_metric_bytes: largest metric batch request body (after decompression).
        max_metric_points: most metric points in one request.
        public_url: the URL clients use, shown in portal links and messages.
        secret_key_file: the key that encrypts secrets (default: chosen from the store URI);
            every server of one database needs the same key.
    """

    backend_store_uri: str
    artifact_location: str | None = None
    auth: bool = False
    max_json_bytes: int = 16 * MiB
    max_metric_bytes: int = 256 * MiB
    max_metric_points: int = 2_000_000
    public_url: str | None = None
    secret_key_file: str | None = None


@dataclass
class Services:
    """The objects the routes call: the tracking service and (with auth) the token store."""

    tracking: TrackingService
    tokens: SqlTokenStore | None = None

    def close(self) -> None:
        """Release database connections."""
        self.tracking.close()
        if self.tokens is not None:
            self.tokens.close()


def open_services(settings: ServerSettings) -> Services:
    """Open (and migrate) the stores named by ``settings``.

    Raises:
        SchemaVersionError: the database was written by a newer runhistory.
        StorageError: the database or artifact store cannot be opened.
        ConfigurationError: the URIs are incomplete.
    """
    from runhistory.client.backend import open_local_service, resolve_location

    location = resolve_location(settings.backend_store_uri, settings.artifact_location)
    if location.kind == "remote":
        raise ConfigurationError(
            "--backend-store-uri must be a database (sqlite:///…, postgresql://…) or a "
            f"folder, not another server ({settings.backend_store_uri})"
        )
    if settings.secret_key_file:
        location = replace(location, secret_key_path=settings.secret_key_file)
    if location.secret_key_path:
        from runhistory.tracking.secrets import SecretCipher

        SecretCipher.from_key_file(location.secret_key_path)  # made once, before any worker forks
    tracking = open_local_service(location)
    tokens = None
    if settings.auth:
        from runhistory.store.sql.tokens import SqlTokenStore

        assert location.database_url is not None
        tokens = SqlTokenStore.open(location.database_url)
    return Services(tracking=tracking, tokens=tokens)
