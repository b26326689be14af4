"""A click group that imports its commands on use and turns runhistory errors into messages.

Errors: a :class:`~runhistory.errors.RunhistoryError` (or an operating-system error) becomes one
line on stderr and exit status 1; click's usage errors keep exit status 2. A traceback is shown
only with ``--debug``.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

import click

from runhistory.cli.options import debug_enabled


class LazyGroup(click.Group):
    """A group whose subcommands are ``"module:attribute"`` strings imported when needed.

    Args:
        commands: name -> (import path, one-line help).
        optional_module: a module that may be absent; when present, ``optional_commands`` are
            attributes of it.
        optional_commands: name -> one-line help of the commands of ``optional_module``.
    """

    def __init__(
        self,
        *args: Any,
        commands: dict[str, tuple[str, str]] | None = None,
        optional_module: str | None = None,
        optional_commands: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._lazy = dict(commands or {})
        self._optional_module = optional_module
        self._optional = dict(optional_commands or {}) if _module_exists(optional_module) else {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self._lazy, *self._optional})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        if cmd_name in self._lazy:
            module_name, _, attribute = self._lazy[cmd_name][0].partition(":")
            command = getattr(importlib.import_module(module_name), attribute)
        elif cmd_name in self._optional and self._optional_module:
            command = getattr(importlib.import_module(self._optional_module), cmd_name, None)
            if command is None:
                return None
        else:
            return None
        self.commands[cmd_name] = command
        return command  # type: ignore[no-any-return]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # One-line helps come from the tables, so ``--help`` imports no command module.
        helps = {name: entry[1] for name, entry in self._lazy.items()}
        helps.update(self._optional)
        rows = [(name, helps.get(name, "")) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            if debug_enabled(ctx):
                raise
            raise translate(exc) from None


def _module_exists(name: str | None) -> bool:
    if not name:
        return False
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def translate(exc: BaseException) -> click.ClickException:
    """The one-line message (with a hint where one helps) for an error raised by a command."""
    from runhistory.errors import (
        AuthenticationError,
        PermissionDeniedError,
        RunhistoryError,
        StorageError,
    )

    if isinstance(exc, AuthenticationError):
        return click.ClickException(
            f"{exc}; set RUNHISTORY_TRACKING_TOKEN to a valid token for this server"
        )
    if isinstance(exc, PermissionDeniedError):
        return click.ClickException(f"{exc}; ask the server's administrator for the right")
    if isinstance(exc, StorageError):
        # The first line names the failure; the rest (SQL text, parameters) is for --debug.
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return click.ClickException(
            f"{first}; check the tracking URI (--tracking-uri, -w or RUNHISTORY_TRACKING_URI), "
            f"or rerun with --debug for details"
        )
    if isinstance(exc, RunhistoryError):
        return click.ClickException(_one_line(str(exc)))
    if isinstance(exc, OSError):
        where = f" {exc.filename!r}" if exc.filename else ""
        return click.ClickException(f"{exc.strerror or exc}{where}")
    return click.ClickException(
        f"unexpected {type(exc).__name__}: {_one_line(str(exc))}; "
        f"rerun with --debug to see the traceback"
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())
