"""``runhistory secret …``: the workspace's secret store. Values are never printed."""

from __future__ import annotations

import sys
from typing import Any

import click

from runhistory.cli.options import common_options, confirm, output_options


@click.group()
def secret() -> None:
    """Set, list and delete workspace secrets (values are never printed)."""


@secret.command("set")
@click.argument("name")
@click.option(
    "--value",
    metavar="VALUE",
    help="The value (default: read from stdin, or asked for without echo).",
)
@common_options
def set_secret(name: str, value: str | None) -> None:
    """Store or replace the secret NAME."""
    from runhistory.cli.workspace import open_workspace

    if value is None:
        value = _read_value(name)
    open_workspace().get_default_keyvault().set_secret(name, value)
    click.echo(f"secret {name} set", err=True)


def _read_value(name: str) -> str:
    if sys.stdin.isatty():
        text: str = click.prompt(
            f"Value of {name}", hide_input=True, confirmation_prompt=True, err=True
        )
        return text
    text = sys.stdin.read()
    if text.endswith("\n"):
        text = text[:-2] if text.endswith("\r\n") else text[:-1]
    if not text:
        raise click.UsageError("no value on stdin: pipe the value in or pass --value")
    return text


@secret.command("list")
@output_options
@common_options
def list_secrets(output: str, query: Any) -> None:
    """List secret names."""
    from runhistory.cli.output import Columns, emit
    from runhistory.cli.workspace import open_workspace

    names = open_workspace().get_default_keyvault().list_secrets()
    emit(names, output, query, Columns(pairs=(("Name", "name"),)))


@secret.command("delete")
@click.argument("name")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@common_options
def delete(name: str, yes: bool) -> None:
    """Delete the secret NAME."""
    from runhistory.cli.workspace import open_workspace

    workspace = open_workspace()
    vault = workspace.get_default_keyvault()
    if name not in {s["name"] for s in vault.list_secrets()}:
        raise click.ClickException(
            f"no secret named {name!r} in workspace {workspace.name!r}; "
            f"`runhistory secret list` shows the names"
        )
    confirm(f"Delete secret {name}?", yes)
    vault.delete_secret(name)
    click.echo(f"deleted secret {name}", err=True)
