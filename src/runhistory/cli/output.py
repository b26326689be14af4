"""Printing command results as JSON, a table, tab-separated values or YAML.

Every command builds the JSON form of its result (plain dicts, lists and scalars) and hands it
to :func:`emit`. ``--query`` (a compiled JMESPath expression) is applied to that JSON form
first, as ``az`` does; the other formats are renderings of the (queried) JSON form:

- ``table``: a list of records is one row per record (the command's columns, or every key
  after a query); one record is a two-column field/value table; rendered with rich.
- ``tsv``: the same rows as the table, values separated by tabs, no header; nested values
  as compact JSON.
- ``yaml``: the JSON form as YAML.
"""

from __future__ import annotations

import json
import math
import re
import sys
from dataclasses import dataclass
from typing import Any

import click

MAX_LIST_CELL = 8
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


@dataclass(frozen=True)
class Columns:
    """How a result is laid out as a table: ``(header, key)`` pairs, and the two headers of
    a single record shown as field/value rows."""

    pairs: tuple[tuple[str, str], ...] = ()
    field_header: str = "Field"
    value_header: str = "Value"


def emit(data: Any, output: str, query: Any = None, columns: Columns | None = None) -> None:
    """Print ``data`` in the ``output`` format after applying ``query`` (a compiled JMESPath)."""
    if query is not None:
        data = apply_query(query, data)
        layout = Columns(
            field_header=(columns or Columns()).field_header,
            value_header=(columns or Columns()).value_header,
        )
    else:
        layout = columns or Columns()
    if output == "json":
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    elif output == "yaml":
        click.echo(to_yaml(data), nl=False)
    elif output == "tsv":
        for row in _rows(data, layout):
            click.echo("\t".join(_tsv_cell(v) for v in row))
    else:
        _print_table(data, layout)


def apply_query(query: Any, data: Any) -> Any:
    """Apply a compiled JMESPath expression.

    Raises:
        click.ClickException: the expression fails on this data (for example a function
            given a value of the wrong type).
    """
    from jmespath.exceptions import JMESPathError

    try:
        return query.search(data)
    except JMESPathError as exc:
        detail = " ".join(str(exc).split())
        raise click.ClickException(f"--query {query.expression!r} failed: {detail}") from None


def _record_keys(records: list[dict[str, Any]]) -> list[str]:
    keys: dict[str, None] = {}
    for record in records:
        keys.update(dict.fromkeys(record))
    return list(keys)


def _rows(data: Any, layout: Columns) -> list[list[Any]]:
    if isinstance(data, list) and data and all(isinstance(d, dict) for d in data):
        keys = [k for _, k in layout.pairs] or _record_keys(data)
        return [[record.get(k) for k in keys] for record in data]
    if isinstance(data, list):
        return [[item] for item in data]
    if isinstance(data, dict):
        return [list(data.values())]
    return [] if data is None else [[data]]


def _tsv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    elif isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def cell_text(value: Any) -> str:
    """How one value reads in a table cell (timestamps to the second, lists shortened)."""
    if value is None:
        return ""
    if isinstance(value, str) and _TIMESTAMP.match(value):
        return f"{value[:10]} {value[11:19]}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        if all(not isinstance(v, (dict, list)) for v in value.values()):
            return ", ".join(k if v is None else f"{k}={cell_text(v)}" for k, v in value.items())
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return _list_text(value)
    return str(value)


def _list_text(values: list[Any]) -> str:
    if any(isinstance(v, (dict, list)) for v in values):
        text = json.dumps(values, ensure_ascii=False)
        return text if len(text) <= 200 else f"{text[:200]}… ({len(values)} items)"
    if len(values) <= MAX_LIST_CELL:
        return ", ".join(cell_text(v) for v in values)
    head = ", ".join(cell_text(v) for v in values[:3])
    return f"{head}, …, {cell_text(values[-1])} ({len(values)} values)"


def _print_table(data: Any, layout: Columns, show_header: bool = True) -> None:
    from rich import box
    from rich.table import Table

    if data is None or (data == [] and not layout.pairs):
        return
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", show_edge=False, pad_edge=False,
                  show_header=show_header)  # fmt: skip
    if isinstance(data, dict):
        table.add_column(layout.field_header, style="bold")
        table.add_column(layout.value_header, overflow="fold")
        for key, value in data.items():
            table.add_row(str(key), cell_text(value))
    elif isinstance(data, list) and all(isinstance(d, dict) for d in data):
        pairs = layout.pairs or tuple((k, k) for k in _record_keys(data))
        for header, _ in pairs:
            table.add_column(header, overflow="fold")
        for record in data:
            table.add_row(*(cell_text(record.get(k)) for _, k in pairs))
    elif isinstance(data, list):
        table.add_column(layout.value_header)
        for item in data:
            table.add_row(cell_text(item))
    else:
        click.echo(cell_text(data))
        return
    _print(table)


def _print(table: Any) -> None:
    from rich.console import Console

    if sys.stdout.isatty():
        Console(highlight=False).print(table)
        return
    # Piped: no colours, no wrapping at 80 columns (every cell survives), no trailing blanks.
    console = Console(highlight=False, width=100_000, no_color=True, color_system=None)
    with console.capture() as captured:
        console.print(table)
    for line in captured.get().splitlines():
        click.echo(line.rstrip())


def to_yaml(value: Any) -> str:
    """``value`` (JSON-like data) as a YAML document, keys in their given order."""
    import yaml  # imported here: only ``-o yaml`` needs it

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    text: str = yaml.dump(
        _plain(value), Dumper=dumper, sort_keys=False, allow_unicode=True,
        default_flow_style=False, width=1_000_000,
    )  # fmt: skip
    return text


def _plain(value: Any) -> Any:
    """Tuples as lists, recursively (the safe dumper writes only plain YAML types)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value
