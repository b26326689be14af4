"""The notebook view of runs and experiments: a one-row table with the studio link."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runhistory.sdk.experiment import Experiment
    from runhistory.sdk.run import Run

_DOCS = "https://runhistory.readthedocs.io/"


def _table(header: list[str], row: list[str]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    cells = "".join(f"<td>{cell}</td>" for cell in row)
    return f"<table style='width:100%'><tr>{head}</tr><tr>{cells}</tr></table>"


def _link(url: str, text: str) -> str:
    return f"<a href='{escape(url, quote=True)}' target='_blank' rel='noopener'>{escape(text)}</a>"


def run_html(run: Run) -> str:
    """A table of a run: experiment, id, type, status, studio page, docs page."""
    header = ["Experiment", "Id", "Type", "Status", "Details Page", "Docs Page"]
    row = [
        escape(run.experiment.name),
        escape(run.id),
        escape(run.type),
        escape(run.get_status()),
        _link(run.get_portal_url(), "Link to runhistory studio"),
        _link(_DOCS, "Link to Documentation"),
    ]
    return _table(header, row)


def experiment_html(experiment: Experiment) -> str:
    """A table of an experiment: name, workspace, studio page, docs page."""
    header = ["Name", "Workspace", "Report Page", "Docs Page"]
    row = [
        escape(experiment.name),
        escape(experiment.workspace.name),
        _link(experiment.get_portal_url(), "Link to runhistory studio"),
        _link(_DOCS, "Link to Documentation"),
    ]
    return _table(header, row)
