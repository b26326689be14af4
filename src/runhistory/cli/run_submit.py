"""``runhistory run submit-script``: submit a script as a run (``az ml run submit-script``)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import click

from runhistory.cli.options import common_options, pairs

if TYPE_CHECKING:
    from runhistory.sdk.run import Run


@click.command(
    "submit-script",
    short_help="Submit a script as a new run.",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.option(
    "-e",
    "--experiment-name",
    metavar="NAME",
    help="Experiment to submit to (default: the script's name).",
)
@click.option(
    "-c",
    "--run-configuration-name",
    "run_config",
    metavar="RUNCONFIG",
    help="A .runconfig file, or the name of one saved in the source directory.",
)
@click.option("-t", "--target", metavar="TARGET", help="Compute target (default: local).")
@click.option(
    "-d",
    "--source-directory",
    default=".",
    show_default=True,
    type=click.Path(exists=True, file_okay=False),
    help="Folder to snapshot and run in.",
)
@click.option(
    "--tag",
    "tags",
    multiple=True,
    metavar="KEY=VALUE",
    callback=pairs(True),
    help="Tag the run; repeatable.",
)
@click.option("--wait", is_flag=True, help="Stream the run's log until it ends.")
@common_options
@click.argument("script")
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED)
def submit_script(
    experiment_name: str | None,
    run_config: str | None,
    target: str | None,
    source_directory: str,
    tags: dict[str, str],
    wait: bool,
    script: str,
    arguments: tuple[str, ...],
) -> None:
    """Submit SCRIPT (with ARGUMENTS) from the source directory as a new run.

    Prints the run id and its studio link; with --wait, streams the log and exits 1 unless
    the run completes.

    \b
    Example:
      runhistory run submit-script -e mnist -c sklearn train.py --epochs 5
    """
    from runhistory.cli.workspace import open_workspace
    from runhistory.sdk.context import experiment_name_for_script
    from runhistory.sdk.experiment import Experiment
    from runhistory.sdk.script_run_config import ScriptRunConfig

    workspace = open_workspace()
    experiment = Experiment(workspace, experiment_name or experiment_name_for_script(script))
    config = ScriptRunConfig(
        source_directory=source_directory,
        script=script,
        arguments=list(arguments),
        run_config=_load_run_config(run_config, source_directory),
        compute_target=target,
    )
    submitted: Run = experiment.submit(config, tags=tags or None)
    if wait:
        _wait(submitted)
    else:
        click.echo(f"RunId: {submitted.id}\nWeb View: {submitted.get_portal_url()}")


def _load_run_config(value: str | None, source_directory: str) -> Any:
    if value is None:
        return None
    from runhistory.sdk.run_configuration import RunConfiguration

    if os.path.isfile(value):
        return RunConfiguration.load(value)
    return RunConfiguration.load(source_directory, value)


def _wait(submitted: Run) -> None:
    details = submitted.wait_for_completion(show_output=True, raise_on_error=False)
    status = details["status"]
    if status != "Completed":
        message = (details.get("error") or {}).get("message")
        reason = f": {message}" if message else ""
        raise click.ClickException(f"run {submitted.id} ended {status}{reason}")
