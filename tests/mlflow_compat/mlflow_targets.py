"""Where an MLflow compatibility test sends MLflow (see the ``target`` fixture in conftest.py),
and a real ``mlflow server`` to compare runhistory with."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mlflow.tracking import MlflowClient

from runhistory import Workspace
from support.services import free_port, stop, wait_until_up


@dataclass
class Target:
    """Where MLflow logs: a server's URL or the embedded plugin URI, and its workspace."""

    uri: str
    workspace: Workspace


@contextmanager
def mlflow_server(folder: Path) -> Iterator[str]:
    """``mlflow server`` on SQLite in ``folder`` on a free loopback port; yields its URL and
    stops it afterwards."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
        "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}",
        "--default-artifact-root", str(folder / "artifacts"), "--workers", "1",
    ]  # fmt: skip
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    with open(folder / "mlflow.log", "ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        wait_until_up(f"{url}/health", process, timeout=180.0)
        yield url
    finally:
        stop(process)


def client_of(url: str) -> MlflowClient:
    """A client of ``url`` for tracking and registry alike: without ``registry_uri`` MLflow
    takes the registry URI an earlier test set in this process."""
    return MlflowClient(url, registry_uri=url)
