"""``runhistory folder attach``: write the workspace config of a project folder."""

from __future__ import annotations

import os

import click

from runhistory.cli.options import common_options


@click.group()
def folder() -> None:
    """Attach a project folder to a workspace."""


@folder.command("attach")
@click.option(
    "-d",
    "--path",
    "path",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False),
    help="The project folder.",
)
@common_options
def attach(path: str) -> None:
    """Write .runhistory/config.json so commands and scripts in the folder use this workspace.

    The workspace is the one -w/--workspace or --tracking-uri names (a named local workspace
    is created if needed), else the one in use here.

    \b
    Examples:
      runhistory folder attach -w team-experiments
      runhistory folder attach --tracking-uri http://tracking.example:5000
    """
    from runhistory.cli.workspace import open_workspace

    workspace = open_workspace(create_named=True)
    folder_path = os.path.abspath(path)
    os.makedirs(folder_path, exist_ok=True)
    written = workspace.write_config(path=folder_path)
    click.echo(
        f"attached {folder_path} to workspace {workspace.name} "
        f"({workspace.tracking_uri}); config: {written}"
    )
