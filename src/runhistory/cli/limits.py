"""The size options of listings (``--last N``, ``--all``) and how a listing is printed with
them: the first 50 by default with a line on stderr saying how to see more, the first N, or
every item streamed page by page in bounded memory."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import click

from runhistory.cli.output import Columns

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_LAST = 50


def limit_options(noun: str, order: str) -> Callable[[F], F]:
    """Add ``--last N`` and ``--all`` to a listing of ``noun`` (plural) shown in ``order``."""

    def decorate(function: F) -> F:
        function = click.option(
            "--all", "all_items", is_flag=True,
            help=f"Every one of the {noun}, printed page by page as they arrive.",
        )(function)  # fmt: skip
        return click.option(  # type: ignore[no-any-return]
            "--last", type=click.IntRange(min=1), metavar="N",
            help=f"Only the first N {noun} ({order}; default {DEFAULT_LAST}).",
        )(function)  # fmt: skip

    return decorate


def emit_limited(
    records: Iterable[dict[str, Any]],
    last: int | None,
    all_items: bool,
    output: str,
    query: Any,
    columns: Columns,
    noun: str,
) -> None:
    """Print ``records`` (a lazy listing) as ``--last``/``--all`` ask: see the module."""
    from runhistory.cli.output import emit
    from runhistory.cli.streaming import emit_stream

    if all_items and last is not None:
        raise click.UsageError("give --last N or --all, not both")
    if all_items:
        emit_stream(records, output, query, columns)
        return
    wanted = last or DEFAULT_LAST
    found = list(itertools.islice(records, wanted + 1))  # one more tells whether there are more
    emit(found[:wanted], output, query, columns)
    if len(found) > wanted and last is None:
        click.echo(
            f"(the first {wanted} {noun}; --last N shows the first N, --all shows every one)",
            err=True,
        )
