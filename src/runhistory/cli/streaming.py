"""Printing long listings as they arrive, a chunk at a time, in bounded memory.

JSON is written as one array, record by record; tab-separated values and YAML row by row;
tables a chunk of rows at a time (the header once). A ``--query`` needs the whole result, so
with one the records are collected first (memory then grows with the listing).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator
from typing import Any

import click

from runhistory.cli.output import Columns, _print_table, _rows, _tsv_cell, emit, to_yaml

CHUNK = 500


def emit_stream(
    records: Iterable[dict[str, Any]],
    output: str,
    query: Any = None,
    columns: Columns | None = None,
) -> int:
    """Print ``records`` like :func:`~runhistory.cli.output.emit` prints a list of them,
    without holding more than :data:`CHUNK` at a time; return how many were printed."""
    if query is not None:
        found = list(records)
        emit(found, output, query, columns)
        return len(found)
    layout = columns or Columns()
    printed = 0
    if output == "json":
        for record in records:
            text = json.dumps(record, indent=2, ensure_ascii=False).replace("\n", "\n  ")
            click.echo(("[\n  " if printed == 0 else ",\n  ") + text, nl=False)
            printed += 1
        click.echo("[]" if printed == 0 else "\n]")
        return printed
    for number, chunk in enumerate(_chunks(records)):
        printed += len(chunk)
        if output == "yaml":
            click.echo(to_yaml(chunk), nl=False)
        elif output == "tsv":
            for row in _rows(chunk, layout):
                click.echo("\t".join(_tsv_cell(v) for v in row))
        else:
            _print_table(chunk, layout, show_header=number == 0)
    if printed == 0:
        emit([], output, None, columns)
    return printed


def _chunks(records: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    found = iter(records)
    while chunk := list(itertools.islice(found, CHUNK)):
        yield chunk
