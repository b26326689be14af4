"""Which workspace a command works on.

In order: ``--tracking-uri``; ``-w/--workspace`` (a folder when it looks like a path or is an
existing folder, else a named local workspace); ``RUNHISTORY_TRACKING_URI``; the nearest config
file above the working directory; the default workspace.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

from runhistory.cli.options import workspace_choice

if TYPE_CHECKING:
    from runhistory.sdk.workspace import Workspace


def looks_like_folder(value: str) -> bool:
    """Whether ``-w`` names a folder rather than a named local workspace."""
    separators = {"/", os.sep, *(os.altsep or "")}
    return (
        any(s in value for s in separators) or value.startswith((".", "~")) or os.path.isdir(value)
    )


def open_workspace(create_named: bool = False) -> Workspace:
    """The workspace chosen by the command line, the environment or a config file.

    Args:
        create_named: create a named local workspace that does not exist yet (``folder
            attach``); otherwise an unknown name is an error.
    """
    from runhistory import settings
    from runhistory.sdk.config import find_config_file
    from runhistory.sdk.workspace import Workspace

    name, tracking_uri = workspace_choice(click.get_current_context())
    if tracking_uri:
        return Workspace(tracking_uri=tracking_uri)
    if name:
        return _named_or_folder(name, create_named)
    if settings.get("RUNHISTORY_TRACKING_URI"):
        return Workspace()
    found = find_config_file()
    if found is not None:
        return Workspace.from_config(path=found)
    return Workspace()


def chosen_workspace() -> tuple[str, str | None] | None:
    """``(tracking URI, token of its config file)`` of the workspace :func:`open_workspace`
    would open, found without opening it (nothing heavy is imported), or ``None`` when only
    opening it can tell (a named local workspace that does not exist: opening it names the
    problem).

    The token is the one a config file gives the workspace (``RUNHISTORY_TRACKING_TOKEN``,
    when set, wins over it, as when the workspace is opened); ``None`` when no config file
    names the workspace.
    """
    from runhistory import settings
    from runhistory.client.location import choose_uri, workspaces_folder
    from runhistory.sdk.config import find_config_file, read_config

    name, tracking_uri = workspace_choice(click.get_current_context())
    if tracking_uri:
        return tracking_uri, None
    env_uri = settings.get("RUNHISTORY_TRACKING_URI")
    if name:
        if looks_like_folder(name):
            return os.path.abspath(os.path.expanduser(name)), None
        found = find_config_file()
        config = read_config(found) if found is not None else None
        if config is not None and config.name == name:
            uri = str(env_uri or choose_uri(config.name, None, config.tracking_uri))
            return uri, config.token
        if name == "default":
            return choose_uri(None, None, None), None
        folder = os.path.join(workspaces_folder(), name)
        return (folder, None) if os.path.exists(os.path.join(folder, "runhistory.db")) else None
    if env_uri:
        return str(env_uri), None
    found = find_config_file()
    if found is not None:
        config = read_config(found)
        return choose_uri(config.name, None, config.tracking_uri), config.token
    return choose_uri(None, None, None), None


def _named_or_folder(value: str, create: bool) -> Workspace:
    from runhistory.errors import NotFoundError
    from runhistory.sdk.workspace import Workspace

    if looks_like_folder(value):
        return Workspace(path=os.path.abspath(os.path.expanduser(value)))
    if create:
        return Workspace.create(value, exist_ok=True)
    try:
        return Workspace.get(value)
    except NotFoundError as exc:
        raise click.ClickException(
            f"{exc}; create it with `runhistory folder attach -w {value}`, or pass a folder "
            f"path (./{value}) to use a workspace folder"
        ) from None


def store_location(
    backend_store_uri: str | None, artifact_location: str | None
) -> tuple[str, str | None]:
    """The database (and artifact location) to use: the option, else the CLI's workspace."""
    if backend_store_uri:
        return backend_store_uri, artifact_location
    from runhistory.cli.workspace import open_workspace
    from runhistory.client.backend import close_all

    workspace = open_workspace()
    uri, artifacts = workspace.tracking_uri, artifact_location or workspace.artifact_location
    close_all()
    if uri.startswith(("http://", "https://")):
        raise click.ClickException(
            f"the workspace is itself a server ({uri}); pass --backend-store-uri "
            "postgresql://… or sqlite:///… (the database the server should use)"
        )
    return uri, artifacts


STORE_OPTION = click.option(
    "--backend-store-uri", metavar="URI", envvar="RUNHISTORY_BACKEND_STORE_URI",
    help="The server's database (default: the CLI's workspace).",
)  # fmt: skip
