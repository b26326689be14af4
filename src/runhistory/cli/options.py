"""Options shared by every command, and parsers of ``key=value`` arguments.

``-w/--workspace``, ``--tracking-uri`` and ``--debug`` are accepted both before the command
(``runhistory -w team run list``) and after it (``runhistory run list -w team``); their values
are kept in ``ctx.meta``, which every context of one invocation shares.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

_WORKSPACE = "runhistory.workspace"
_TRACKING_URI = "runhistory.tracking_uri"
_DEBUG = "runhistory.debug"
OUTPUT_FORMATS = ("table", "json", "tsv", "yaml")


class AnyCaseChoice(click.Choice):
    """A choice matched in any case and named in its own case in error messages."""

    def __init__(self, choices: tuple[str, ...]) -> None:
        super().__init__(choices, case_sensitive=False)

    def get_invalid_choice_message(self, value: Any, ctx: click.Context | None) -> str:
        return f"{value!r} is not one of {', '.join(map(str, self.choices))}."


def _remember(key: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if value:
            ctx.meta[key] = value

    return callback


def common_options(function: F) -> F:
    """Add ``-w/--workspace``, ``--tracking-uri`` and ``--debug`` to a command."""
    decorators = [
        click.option(
            "-w",
            "--workspace",
            metavar="NAME|FOLDER",
            expose_value=False,
            callback=_remember(_WORKSPACE),
            help="A named local workspace or a workspace folder.",
        ),
        click.option(
            "--tracking-uri",
            metavar="URI",
            expose_value=False,
            callback=_remember(_TRACKING_URI),
            help="Tracking URI: a folder, sqlite:///…, postgresql://… or http(s)://host:port.",
        ),
        click.option(
            "--debug",
            is_flag=True,
            expose_value=False,
            callback=_remember(_DEBUG),
            help="Show the full traceback of errors.",
        ),
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def debug_enabled(ctx: click.Context) -> bool:
    """Whether ``--debug`` was given anywhere on the command line."""
    return bool(ctx.meta.get(_DEBUG))


def workspace_choice(ctx: click.Context) -> tuple[str | None, str | None]:
    """The ``(--workspace, --tracking-uri)`` values given on the command line."""
    return ctx.meta.get(_WORKSPACE), ctx.meta.get(_TRACKING_URI)


def _check_query(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    import jmespath
    from jmespath.exceptions import JMESPathError

    try:
        return jmespath.compile(value)
    except JMESPathError as exc:
        raise click.BadParameter(
            f"invalid JMESPath expression {value!r}: {_jmespath_problem(exc)}"
        ) from None


def _jmespath_problem(exc: Exception) -> str:
    """The first line of a JMESPath syntax error, with the column where it is."""
    import re

    first = str(exc).splitlines()[0].rstrip(":").removesuffix(", for expression")
    first = re.sub(r"^(Invalid|Bad) jmespath expression: ", "", first)
    position = getattr(exc, "lex_position", None)
    if position is not None and "column" not in first:
        first += f" at column {position}"
    return first[:1].lower() + first[1:]


def output_options(function: F) -> F:
    """Add ``-o/--output`` and ``--query`` to a command that prints data."""
    function = click.option(
        "--query",
        "query",
        metavar="JMESPATH",
        callback=_check_query,
        help="JMESPath expression applied to the JSON form, e.g. \"[?status=='Failed'].runId\".",
    )(function)
    function = click.option(
        "-o",
        "--output",
        "output",
        type=click.Choice(OUTPUT_FORMATS),
        default="table",
        show_default=True,
        help="Output format.",
    )(function)
    return function


def parse_pair(text: str, value_required: bool) -> tuple[str, str | None]:
    """Split ``key=value`` (or a bare ``key`` when ``value_required`` is False).

    Raises:
        click.BadParameter: the key is empty, or the value is missing but required.
    """
    key, sep, value = text.partition("=")
    expected = "KEY=VALUE" if value_required else "KEY=VALUE or KEY"
    if not key.strip():
        raise click.BadParameter(f"expected {expected}, got {text!r}: the key is empty")
    if not sep:
        if value_required:
            raise click.BadParameter(f"expected {expected}, got {text!r}: no '='")
        return key, None
    return key, value


def pairs(value_required: bool) -> Callable[[click.Context, click.Parameter, Any], dict[str, Any]]:
    """A callback turning a repeated ``key=value`` option (or argument) into a dictionary."""

    def callback(ctx: click.Context, param: click.Parameter, texts: Any) -> dict[str, Any]:
        return dict(parse_pair(text, value_required) for text in texts or ())

    return callback


def filter_option(flag: str, dest: str, help_text: str) -> Callable[[F], F]:
    """A repeatable ``--tag``/``--property`` filter option: ``KEY`` or ``KEY=VALUE``."""
    return click.option(  # type: ignore[return-value]
        flag, dest, multiple=True, metavar="KEY[=VALUE]", callback=pairs(False), help=help_text
    )


def confirm(question: str, yes: bool) -> None:
    """Ask ``question`` unless ``yes``; without a terminal to ask on, require ``--yes``.

    Raises:
        click.UsageError: no terminal and no ``--yes``.
        click.Abort: the answer was no.
    """
    if yes:
        return
    if not sys.stdin.isatty():
        raise click.UsageError("not asking without a terminal: pass --yes to confirm")
    click.confirm(question, abort=True, err=True)
