"""``runhistory exec SCRIPT [ARGS]``: run a script here with the azureml alias and a run."""

from __future__ import annotations

import os
import sys
import traceback
from typing import TYPE_CHECKING

import click

from runhistory.cli.options import common_options

if TYPE_CHECKING:
    from runhistory.sdk.run import Run


@click.command(
    "exec",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@common_options
@click.argument("script", type=click.Path(exists=True, dir_okay=False))
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED)
def exec_script(script: str, arguments: tuple[str, ...]) -> None:
    """Run SCRIPT with ARGUMENTS in this process, recorded as an interactive run.

    `import azureml.core` resolves to runhistory, and Run.get_context() returns the run
    (experiment named after the script). The run completes when the script ends, or fails
    when it raises or exits with a non-zero status; the exit status is the script's.

    \b
    Example:
      runhistory exec train.py --epochs 5
    """
    from runhistory.cli.workspace import open_workspace

    workspace = open_workspace()
    # Run.get_context() in the script (and in processes it starts) reports to this workspace.
    os.environ["RUNHISTORY_TRACKING_URI"] = workspace.tracking_uri
    if workspace.artifact_location:
        os.environ["RUNHISTORY_ARTIFACT_LOCATION"] = workspace.artifact_location
    sys.argv = [script, *arguments]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    _run_recorded(script, list(arguments))


def _run_recorded(script: str, arguments: list[str]) -> None:
    from runhistory.compat.azureml import run_script
    from runhistory.sdk.run import Run

    run = Run.get_context()
    click.echo(f"runhistory: run {run.id} in experiment {run.experiment.name}", err=True)
    try:
        run_script([script, *arguments])
    except SystemExit as exc:
        if exc.code in (None, 0):
            _finish(run, None)
            return
        if not isinstance(exc.code, int):
            click.echo(str(exc.code), err=True)
        _finish(run, f"the script exited with status {exc.code}")
        raise click.exceptions.Exit(exc.code if isinstance(exc.code, int) else 1) from None
    except KeyboardInterrupt:
        _finish(run, None, cancel=True)
        raise click.exceptions.Exit(130) from None
    except Exception as exc:
        _print_script_traceback(exc, script)
        _finish(run, exc)
        raise click.exceptions.Exit(1) from None
    _finish(run, None)


def _finish(run: Run, error: object, cancel: bool = False) -> None:
    """End the run unless the script already did."""
    from runhistory.tracking import status as st

    if st.is_terminal(run.get_status()):
        return
    if cancel:
        run.cancel()
    elif error is None:
        run.complete()
    else:
        run.fail(error_details=error)


def _print_script_traceback(exc: BaseException, script: str) -> None:
    """The traceback from the script's own frames down, as Python would print it."""
    target = os.path.abspath(script)
    tb = exc.__traceback__
    while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) != target:
        tb = tb.tb_next
    traceback.print_exception(type(exc), exc, tb or exc.__traceback__)
