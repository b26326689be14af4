"""``runhistory experiment …``: list, archive, reactivate and delete experiments."""

from __future__ import annotations

from typing import Any

import click

from runhistory.cli.limits import emit_limited, limit_options
from runhistory.cli.options import (
    AnyCaseChoice,
    common_options,
    confirm,
    filter_option,
    output_options,
)

VIEW_TYPES = ("ActiveOnly", "ArchivedOnly", "All")


@click.group()
def experiment() -> None:
    """List, archive, reactivate and delete experiments."""


@experiment.command("list")
@click.option(
    "--view-type",
    type=AnyCaseChoice(VIEW_TYPES),
    default="ActiveOnly",
    show_default=True,
    help="Which experiments to list.",
)
@filter_option("--tag", "tags", "Only experiments with this tag (and value); repeatable.")
@limit_options("experiments", "oldest first")
@output_options
@common_options
def list_experiments(
    view_type: str,
    tags: dict[str, Any],
    last: int | None,
    all_items: bool,
    output: str,
    query: Any,
) -> None:
    """List experiments, oldest first: the first 50 unless --last N or --all is given."""
    from runhistory.cli.views import EXPERIMENT_COLUMNS, experiment_record
    from runhistory.cli.workspace import open_workspace
    from runhistory.sdk.experiment import Experiment

    if all_items and last is not None:
        raise click.UsageError("give --last N or --all, not both")
    found = Experiment.list(open_workspace(), view_type=view_type, tags=tags or None)
    records = (experiment_record(e) for e in found)
    emit_limited(records, last, all_items, output, query, EXPERIMENT_COLUMNS, "experiments")


@experiment.command("archive", short_help="Archive an experiment.")
@click.argument("name")
@output_options
@common_options
def archive(name: str, output: str, query: Any) -> None:
    """Archive the active experiment NAME (hidden from default listings)."""
    found = _find(name, "ActiveOnly")
    found.archive()
    _emit(found, output, query)


@experiment.command("reactivate")
@click.argument("name")
@click.option("--new-name", metavar="NAME", help="Reactivate under this name.")
@output_options
@common_options
def reactivate(name: str, new_name: str | None, output: str, query: Any) -> None:
    """Make the archived experiment NAME (or id) active again."""
    found = _find(name, "ArchivedOnly")
    found.reactivate(new_name=new_name)
    _emit(found, output, query)


@experiment.command("delete")
@click.argument("name")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@common_options
def delete(name: str, yes: bool) -> None:
    """Delete the experiment NAME (or id) with all its runs."""
    from runhistory.cli.workspace import open_workspace
    from runhistory.sdk.experiment import Experiment

    found = _find(name, "All")
    confirm(f"Delete experiment {found.name} ({found.id}) with all its runs?", yes)
    Experiment.delete(open_workspace(), found.id)
    click.echo(f"deleted experiment {found.name} ({found.id})", err=True)


def _find(name: str, view_type: str) -> Any:
    from runhistory.cli.lookup import find_experiment
    from runhistory.cli.workspace import open_workspace

    return find_experiment(open_workspace(), name, view_type)


def _emit(found: Any, output: str, query: Any) -> None:
    from runhistory.cli.output import emit
    from runhistory.cli.views import experiment_record

    emit(experiment_record(found), output, query)
