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
    """Options of one server process (from the command line or RUNHISTORY_* variables).

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
        forwarded_allow_ips: the proxies whose ``X-Forwarded-*`` headers are trusted.
    """

    backend_store_uri: str
    artifact_location: str | None = None
    auth: bool = False
    max_json_bytes: int = 16 * MiB
    max_metric_bytes: int = 256 * MiB
    max_metric_points: int = 2_000_000
    public_url: str | None = None
    secret_key_file: str | None = None
    forwarded_allow_ips: str = "127.0.0.1"


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


def check_secret_key(database_url: str, key_path: str) -> None:
    """Refuse to serve with a key other than the one the database's servers agreed on.

    The first server records the fingerprint of its key (never the key) in the database.

    Raises:
        ConfigurationError: this server's key differs from the recorded one.
    """
    from runhistory.store.sql.engine import create_store_engine
    from runhistory.store.sql.identity import SECRET_KEY_FINGERPRINT, agreed_value
    from runhistory.tracking.secrets import SecretCipher

    mine = SecretCipher.from_key_file(key_path).fingerprint  # creates the file on first use
    engine = create_store_engine(database_url)
    try:
        agreed = agreed_value(engine, SECRET_KEY_FINGERPRINT, mine)
    finally:
        engine.dispose()
    if agreed != mine:
        raise ConfigurationError(
            f"this server's secret key ({key_path}, fingerprint {mine}) is not the key the "
            f"servers of this database use (fingerprint {agreed}): give every server the same "
            "key file with --secret-key-file (or RUNHISTORY_SECRET_KEY_FILE); with another key "
            "it could not read the secrets they stored"
        )


def open_services(settings: ServerSettings, check_key: bool = True) -> Services:
    """Open the stores named by ``settings`` (creating an empty database's schema) and check
    the secret key against the database's (unless ``check_key`` is false: a forked worker
    whose parent's check did it).

    Raises:
        SchemaVersionError: the schema is older (``runhistory db upgrade``) or newer.
        ConfigurationError: the secret key differs from the other servers'.
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
    tracking = open_local_service(location)
    try:
        if check_key and location.secret_key_path and location.database_url:
            check_secret_key(location.database_url, location.secret_key_path)
    except BaseException:
        tracking.close()
        raise
    tokens = None
    if settings.auth:
        from runhistory.store.sql.tokens import SqlTokenStore

        assert location.database_url is not None
        tokens = SqlTokenStore.open(location.database_url)
    return Services(tracking=tracking, tokens=tokens)
