"""Where an MLflow compatibility test sends MLflow (see the ``target`` fixture in conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from runhistory import Workspace
from support.services import free_port, stop, wait_until_up


@dataclass
class Target:
    """Where MLflow logs: a server's URL or the embedded plugin URI, and its workspace."""

    uri: str
    workspace: Workspace


def launch_mlflow_server(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``mlflow server`` on SQLite in ``folder`` on a free loopback port, and its URL (stop
    it with ``support.services.stop``)."""
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
    except BaseException:
        stop(process)
        raise
    return process, url
