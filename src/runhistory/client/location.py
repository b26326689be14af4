"""Where a workspace keeps its data: the database, artifact store and key file behind a
tracking URI, and which tracking URI a workspace name or folder stands for.

Light on purpose (no store, no HTTP client): the command line resolves a workspace with it
before deciding how to read it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlparse

from runhistory import settings
from runhistory.errors import ConfigurationError

DEFAULT_WORKSPACE = "default"

DATABASE_FILE = "runhistory.db"
ARTIFACT_FOLDER = "artifacts"
SECRET_KEY_FILE = "secrets.key"


@dataclass(frozen=True)
class Location:
    """Where a workspace keeps its data, resolved from a tracking URI."""

    kind: str  # "local" (a folder), "sql" (a database URL) or "remote" (a server)
    tracking_uri: str
    database_url: str | None
    artifact_location: str | None
    secret_key_path: str | None


def resolve_location(tracking_uri: str, artifact_location: str | None = None) -> Location:
    """Work out the database, artifact store and key file behind a tracking URI."""
    scheme = urlparse(tracking_uri).scheme.lower()
    if scheme in ("http", "https"):
        return Location("remote", tracking_uri, None, None, None)
    if scheme == "sqlite":
        db_path = tracking_uri.split("sqlite:///", 1)[-1]
        folder = os.path.dirname(os.path.abspath(db_path))
        artifacts = artifact_location or os.path.join(folder, ARTIFACT_FOLDER)
        return Location(
            "sql", tracking_uri, tracking_uri, artifacts, os.path.join(folder, SECRET_KEY_FILE)
        )
    if scheme.startswith("postgresql"):
        artifacts = artifact_location or settings.get("RUNHISTORY_ARTIFACT_LOCATION")
        if not artifacts:
            raise ConfigurationError(
                "a postgresql:// tracking URI needs an artifact location (a folder or "
                "s3://bucket/prefix): set artifact_location in the config or "
                "RUNHISTORY_ARTIFACT_LOCATION"
            )
        import hashlib  # here: loading it costs every command-line start a few ms

        digest = hashlib.sha256(tracking_uri.encode()).hexdigest()[:16]
        key = os.path.join(home_folder(), "keys", f"{digest}.key")
        return Location("sql", tracking_uri, tracking_uri, artifacts, key)
    if scheme in ("", "file") or len(scheme) == 1:  # a path (len 1: a Windows drive letter)
        folder = os.path.abspath(os.path.expanduser(tracking_uri.removeprefix("file://")))
        database = "sqlite:///" + os.path.join(folder, DATABASE_FILE)
        artifacts = artifact_location or os.path.join(folder, ARTIFACT_FOLDER)
        return Location("local", folder, database, artifacts, os.path.join(folder, SECRET_KEY_FILE))
    raise ConfigurationError(
        f"unsupported tracking URI {tracking_uri!r}: use a folder path, sqlite:///file.db, "
        f"postgresql://user@host/db or http(s)://host:port"
    )


def home_folder() -> str:
    """``RUNHISTORY_HOME`` (default ``~/.runhistory``), absolute."""
    return os.path.abspath(os.path.expanduser(str(settings.get("RUNHISTORY_HOME"))))


def workspaces_folder() -> str:
    """The folder of the named local workspaces (``$RUNHISTORY_HOME/workspaces``)."""
    return os.path.join(home_folder(), "workspaces")


def choose_uri(workspace_name: str | None, path: object, tracking_uri: str | None) -> str:
    """The tracking URI of a workspace given by URI, folder or name (else the default one)."""
    if tracking_uri:
        return tracking_uri
    if path is not None:
        return str(os.fspath(path))  # type: ignore[call-overload]
    if workspace_name and workspace_name != DEFAULT_WORKSPACE:
        return os.path.join(workspaces_folder(), workspace_name)
    return str(settings.get("RUNHISTORY_TRACKING_URI") or home_folder())
