"""Where an MLflow compatibility test sends MLflow (see the ``target`` fixture in conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass

from runhistory import Workspace


@dataclass
class Target:
    """Where MLflow logs: a server's URL or the embedded plugin URI, and its workspace."""

    uri: str
    workspace: Workspace
