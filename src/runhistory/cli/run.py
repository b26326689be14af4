"""``runhistory run …``: list, show, tag, cancel and delete runs (``az ml run`` commands)."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import click

from runhistory.cli.options import (
    AnyCaseChoice,
    common_options,
    confirm,
    filter_option,
    output_options,
    pairs,
)
from runhistory.cli.run_files import download, logs
from runhistory.cli.run_submit import submit_script
from runhistory.tracking.status import ALL_STATUSES

if TYPE_CHECKING:
    from runhistory.sdk.experiment import Experiment
    from runhistory.sdk.run import Run
    from runhistory.tracking.entities import RunInfo, RunsPage

DEFAULT_LAST = 50
STREAM_PAGES = (1000,)
RUN_ID_HELP = "The run id (`runhistory run list` shows them)."


def run_id_option(function: Any) -> Any:
    """The ``-r/--run`` option naming a run."""
    return click.option("-r", "--run", "run_id", required=True, metavar="ID", help=RUN_ID_HELP)(
        function
    )


@click.group()
def run() -> None:
    """List, inspect, tag, cancel, submit and delete runs."""


run.add_command(logs)
run.add_command(download)
run.add_command(submit_script)


@run.command("list", short_help="List runs, newest first.")
@click.option("-e", "--experiment-name", metavar="NAME", help="Only runs of this experiment.")
@click.option(
    "--status",
    type=AnyCaseChoice(ALL_STATUSES),
    help="Only runs with this status.",
)
@filter_option("--tag", "tags", "Only runs with this tag (and value); repeatable.")
@filter_option("--property", "properties", "Only runs with this property (and value); repeatable.")
@click.option("--include-children", is_flag=True, help="Include child runs.")
@click.option(
    "--since",
    metavar="TIME",
    help="Only runs created at or after TIME: an ISO date or time (UTC unless an offset is "
    "given) or a duration before now (30m, 2h, 3d, 1w).",
)
@click.option(
    "--until", metavar="TIME", help="Only runs created before TIME (written as for --since)."
)
@click.option(
    "--last",
    type=click.IntRange(min=1),
    metavar="N",
    help=f"Only the N newest runs (default {DEFAULT_LAST}).",
)
@click.option(
    "--all", "all_runs", is_flag=True, help="Every run, printed page by page as it arrives."
)
@output_options
@common_options
def list_runs(
    experiment_name: str | None,
    status: str | None,
    tags: dict[str, Any],
    properties: dict[str, Any],
    include_children: bool,
    since: str | None,
    until: str | None,
    last: int | None,
    all_runs: bool,
    output: str,
    query: Any,
) -> None:
    """List runs, newest first (all active experiments unless -e is given): the newest 50
    unless --last N or --all is given.

    \b
    Examples:
      runhistory run list -e mnist --status Failed
      runhistory run list -e mnist --since 3d --until 1d
      runhistory run list -e mnist --all -o tsv > runs.tsv
      runhistory run list --query "[?properties.author=='azureml-user']"
      runhistory run list --query "[?tags.keys(@)[?starts_with(@, 'worth another look')]]"
    """
    from runhistory.cli.output import emit
    from runhistory.cli.streaming import emit_stream
    from runhistory.cli.views import RUN_COLUMNS, run_info_record

    if all_runs and last is not None:
        raise click.UsageError("give --last N or --all, not both")
    filters = {
        "tags": tags or None,
        "properties": properties or None,
        "status": status,
        "include_children": include_children,
        **_created_range(since, until),
    }
    if all_runs:
        runs = _find_runs(experiment_name, filters, STREAM_PAGES)
        emit_stream((run_info_record(r) for r in runs), output, query, RUN_COLUMNS)
        return
    wanted = last or DEFAULT_LAST
    # One run more than shown tells whether there are more; one request per experiment.
    runs = _find_runs(experiment_name, filters, (wanted + 1,), one_page=True)
    found = list(itertools.islice(runs, wanted + 1))
    emit([run_info_record(r) for r in found[:wanted]], output, query, RUN_COLUMNS)
    if len(found) > wanted and last is None:
        click.echo(
            f"(the {wanted} newest runs; --last N shows the N newest, --all shows every run)",
            err=True,
        )


def _created_range(since: str | None, until: str | None) -> dict[str, float | None]:
    """``created_after`` / ``created_before`` from ``--since`` / ``--until``."""
    if since is None and until is None:
        return {"created_after": None, "created_before": None}
    import time

    from runhistory.cli.durations import parse_time
    from runhistory.errors import ValidationError

    now = time.time()
    try:
        after = None if since is None else parse_time(since, now)
        before = None if until is None else parse_time(until, now)
    except ValidationError as exc:
        raise click.BadParameter(str(exc), param_hint="--since/--until") from None
    return {"created_after": after, "created_before": before}


def _find_runs(
    experiment_name: str | None,
    filters: dict[str, Any],
    sizes: tuple[int, ...],
    one_page: bool = False,
) -> Iterator[RunInfo]:
    """Runs of one experiment, or of every active experiment, newest first, fetched lazily a
    page of ``sizes`` at a time (the listings of several experiments are merged as they go);
    ``one_page``: the caller takes at most ``sizes[0]`` runs.

    An embedded SQLite workspace (or, for one page, a server) is read by the lean path when
    it can answer (see :mod:`runhistory.cli.lean_listing`): a listing then costs no import
    of the SDK.
    """
    from runhistory import settings

    if (
        not filters["tags"]
        and not filters["properties"]
        and settings.get("RUNHISTORY_CLI_LEAN_READER")
    ):
        from runhistory.cli.lean_listing import lean_runs

        found = lean_runs(
            experiment_name, filters["status"], filters["include_children"],
            filters["created_after"], filters["created_before"], sizes, one_page,
        )  # fmt: skip
        if found is not None:
            return found
    return (run._info for run in _sdk_runs(experiment_name, filters, sizes))


def _sdk_runs(
    experiment_name: str | None, filters: dict[str, Any], sizes: tuple[int, ...]
) -> Iterator[Run]:
    """The runs of :func:`_find_runs` through the SDK (any workspace)."""
    from runhistory.cli.lookup import find_experiment
    from runhistory.cli.workspace import open_workspace
    from runhistory.sdk.experiment import Experiment

    workspace = open_workspace()
    if experiment_name:
        return _listing(find_experiment(workspace, experiment_name), filters, sizes)
    listings = [_listing(e, filters, sizes) for e in Experiment.list(workspace)]
    if len(listings) == 1:
        return listings[0]
    return heapq.merge(
        *listings, key=lambda r: (r._info.created_time, r.number, r.id), reverse=True
    )


def _listing(
    experiment: Experiment, filters: dict[str, Any], sizes: tuple[int, ...]
) -> Iterator[Run]:
    from runhistory.sdk.run import Run
    from runhistory.sdk.run_pages import lazy_runs
    from runhistory.tracking.status import check_status_name

    if filters["status"] is not None:
        check_status_name(filters["status"])
    backend = experiment.workspace._connection.backend

    def fetch(page_size: int, page_token: str | None) -> RunsPage:
        return backend.search_runs_page(
            experiment_id=experiment.id, run_type=None, with_definition=False,
            page_size=page_size, page_token=page_token, **filters,
        )  # fmt: skip

    return lazy_runs(fetch, lambda i: Run(experiment, i.run_id, _info=i), sizes)


@run.command("show")
@run_id_option
@output_options
@common_options
def show(run_id: str, output: str, query: Any) -> None:
    """Show one run: status, times, tags, properties, error."""
    _emit_run(_get(run_id), output, query)


@run.command("cancel", short_help="Cancel a run.")
@run_id_option
@output_options
@common_options
def cancel(run_id: str, output: str, query: Any) -> None:
    """Cancel a run: a submitted job is stopped; an interactive run becomes Canceled."""
    found = _get(run_id)
    found.cancel()
    _emit_run(_get(run_id), output, query)


@run.command("update")
@run_id_option
@click.option(
    "--add-tag",
    "add_tags",
    multiple=True,
    metavar="KEY=VALUE",
    callback=pairs(False),
    help="Set a tag (KEY alone: a tag without value); repeatable.",
)
@click.option(
    "--remove-tag", "remove_tags", multiple=True, metavar="KEY", help="Remove a tag; repeatable."
)
@output_options
@common_options
def update(
    run_id: str, add_tags: dict[str, Any], remove_tags: tuple[str, ...], output: str, query: Any
) -> None:
    """Add, change or remove tags of a run.

    \b
    Example:
      runhistory run update -r ID --add-tag quality='fantastic run' --remove-tag draft
    """
    if not add_tags and not remove_tags:
        raise click.UsageError("nothing to update: give --add-tag KEY=VALUE or --remove-tag KEY")
    found = _get(run_id)
    if add_tags:
        found.set_tags(add_tags)
    if remove_tags:
        found.remove_tags(list(remove_tags))
    _emit_run(_get(run_id), output, query)


@run.command("add-property")
@run_id_option
@click.argument("properties", nargs=-1, required=True, metavar="KEY=VALUE...", callback=pairs(True))
@output_options
@common_options
def add_property(run_id: str, properties: dict[str, str], output: str, query: Any) -> None:
    """Add properties to a run; properties cannot change once set."""
    found = _get(run_id)
    found.add_properties(properties)
    _emit_run(_get(run_id), output, query)


@run.command("metrics", short_help="Show a run's metrics.")
@run_id_option
@click.option("--name", metavar="NAME", help="Only this metric.")
@output_options
@common_options
def metrics(run_id: str, name: str | None, output: str, query: Any) -> None:
    """Show a run's metrics as {name: value}; repeated values as lists, tables as columns."""
    from runhistory.cli.output import Columns, emit

    found = _get(run_id)
    values = found.get_metrics(name=name)
    emit(values, output, query, Columns(field_header="Metric", value_header="Value"))


@run.command("delete")
@run_id_option
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@common_options
def delete(run_id: str, yes: bool) -> None:
    """Delete a run with its children, metrics and files."""
    found = _get(run_id)
    confirm(f"Delete run {run_id} with its children, metrics and files?", yes)
    found._backend.delete_run(found.id)
    click.echo(f"deleted run {run_id}", err=True)


def _get(run_id: str) -> Run:
    from runhistory.cli.lookup import get_run
    from runhistory.cli.workspace import open_workspace

    return get_run(open_workspace(), run_id)


def _emit_run(found: Run, output: str, query: Any) -> None:
    from runhistory.cli.output import emit
    from runhistory.cli.views import run_detail

    emit(run_detail(found), output, query)
