"""``runhistory model …``: list, show and download registered models."""

from __future__ import annotations

import os
from typing import Any

import click

from runhistory.cli.limits import DEFAULT_LAST, emit_limited, limit_options
from runhistory.cli.options import common_options, filter_option, output_options


@click.group()
def model() -> None:
    """List, show and download registered models."""


@model.command("list")
@click.option("-n", "--name", metavar="NAME", help="Only versions of this model.")
@filter_option("--tag", "tags", "Only models with this tag (and value); repeatable.")
@filter_option("--property", "properties", "Only models with this property; repeatable.")
@click.option("-r", "--run", "run_id", metavar="ID", help="Only models registered by this run.")
@click.option("--latest", is_flag=True, help="Only the newest version of each model.")
@limit_options("model versions", "by name, newest version first")
@output_options
@common_options
def list_models(
    name: str | None,
    tags: dict[str, Any],
    properties: dict[str, Any],
    run_id: str | None,
    latest: bool,
    last: int | None,
    all_items: bool,
    output: str,
    query: Any,
) -> None:
    """List registered model versions by name, newest version first: the first 50 unless
    --last N or --all is given (--all prints them page by page as they arrive)."""
    from runhistory.cli.views import MODEL_COLUMNS, model_record
    from runhistory.cli.workspace import open_workspace
    from runhistory.sdk.model import Model, model_infos

    if all_items and last is not None:
        raise click.UsageError("give --last N or --all, not both")
    workspace = open_workspace()
    page_size = 1000 if all_items else (last or DEFAULT_LAST) + 1
    infos = model_infos(
        workspace, page_size, name=name, tags=tags or None, properties=properties or None,
        run_id=run_id, latest=latest,
    )  # fmt: skip
    records = (model_record(Model._from_info(workspace, i)) for i in infos)
    emit_limited(records, last, all_items, output, query, MODEL_COLUMNS, "model versions")


@model.command("show")
@click.argument("name", metavar="NAME[:VERSION]")
@click.option("-v", "--version", type=click.IntRange(min=1), help="Version (default: latest).")
@output_options
@common_options
def show(name: str, version: int | None, output: str, query: Any) -> None:
    """Show one model version."""
    from runhistory.cli.output import emit
    from runhistory.cli.views import model_record

    emit(model_record(_get(name, version)), output, query)


@model.command("download")
@click.argument("name", metavar="NAME[:VERSION]")
@click.option("-v", "--version", type=click.IntRange(min=1), help="Version (default: latest).")
@click.option(
    "-o",
    "--output-dir",
    "--target-dir",
    "target_dir",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder to download into.",
)
@click.option("--overwrite", is_flag=True, help="Replace files that exist already.")
@common_options
def download(name: str, version: int | None, target_dir: str, overwrite: bool) -> None:
    """Download a model version's files; prints the model's local path."""
    from runhistory.errors import ConflictError

    found = _get(name, version)
    try:
        path = found.download(target_dir=os.path.abspath(target_dir), exist_ok=overwrite)
    except ConflictError as exc:
        reason = str(exc).split(";")[0]
        raise click.ClickException(f"{reason}; pass --overwrite to replace it") from None
    click.echo(path)


def _get(name: str, version: int | None) -> Any:
    from runhistory.cli.lookup import get_model
    from runhistory.cli.workspace import open_workspace

    return get_model(open_workspace(), name, version)
