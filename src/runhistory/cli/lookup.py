"""Finding the run, experiment or model a command names, with a hint when it is not there."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from runhistory.sdk.experiment import Experiment
    from runhistory.sdk.model import Model
    from runhistory.sdk.run import Run
    from runhistory.sdk.workspace import Workspace


def get_run(workspace: Workspace, run_id: str) -> Run:
    """The run with this id.

    Raises:
        click.ClickException: there is none; the message says how to list the ids.
    """
    from runhistory.errors import NotFoundError
    from runhistory.sdk.run import Run

    try:
        return Run.get(workspace, run_id)
    except NotFoundError:
        raise click.ClickException(
            f"no run with id {run_id!r} in workspace {workspace.name!r}; "
            f"`runhistory run list` shows the ids"
        ) from None


def find_experiment(workspace: Workspace, name_or_id: str, view_type: str = "All") -> Experiment:
    """The experiment with this name (the active one first) or this id.

    Raises:
        click.ClickException: none matches, or several archived experiments have the name.
    """
    from runhistory.sdk.experiment import Experiment

    candidates = Experiment.list(workspace, view_type=view_type)
    by_id = [e for e in candidates if e.id == name_or_id]
    if by_id:
        return by_id[0]
    named = [e for e in candidates if e.name == name_or_id]
    active = [e for e in named if e.archived_time is None]
    if active:
        return active[0]
    if len(named) == 1:
        return named[0]
    if named:
        ids = ", ".join(e.id for e in named)
        raise click.ClickException(
            f"several archived experiments are named {name_or_id!r} (ids: {ids}); "
            f"pass the id instead of the name"
        )
    which = {"All": "", "ActiveOnly": "active ", "ArchivedOnly": "archived "}[view_type]
    raise click.ClickException(
        f"no {which}experiment named {name_or_id!r} in workspace {workspace.name!r}; "
        f"`runhistory experiment list --view-type All` shows the names"
    )


def get_model(workspace: Workspace, name: str, version: int | None) -> Model:
    """A model version: ``name`` may be ``name:version``; the latest version by default.

    Raises:
        click.ClickException: no such model or version.
    """
    from runhistory.errors import NotFoundError
    from runhistory.sdk.model import Model

    model_name, _, number = name.partition(":")
    if number:
        if not number.isdigit():
            raise click.BadParameter(f"model id {name!r} must be NAME or NAME:VERSION")
        version = int(number)
    try:
        return Model(workspace, model_name, version=version)
    except NotFoundError as exc:
        raise click.ClickException(
            f"{exc}; `runhistory model list` shows the registered models"
        ) from None
