"""What importing the logging API, and building the server's application, leaves out.

``from runhistory import Experiment, Run, Workspace`` is timed by benchmark B6; the modules of
:data:`KEPT_OUT` are loaded when a workspace opens its store, a run ends (its output folders),
a write fails (the fault rules) or a server starts, never by the import itself. A server's
worker builds its application without MLflow's API, which its first MLflow request imports.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import runhistory

# Each of these was once imported with the SDK (through a package's ``__init__`` or an import
# used only for annotations).
KEPT_OUT = (
    "runhistory.artifacts.base",
    "runhistory.artifacts.fsspec_store",  # opening an artifact store
    "runhistory.artifacts.local_tree",  # uploading ./outputs when a run ends
    "runhistory.artifacts.multipart",  # MLflow's multipart uploads
    "runhistory.client.protocol",  # annotations only
    "runhistory.client.remote",
    "runhistory.faults",  # classifying a failed write (with logging)
    "runhistory.mlflow_api",
    "runhistory.server",
    "runhistory.store.base",
    "runhistory.store.sql",
    "runhistory.tracking.metric_rules",  # the service's metric rules
    "runhistory.tracking.run_sorting",  # MLflow's sorted run searches
    "runhistory.tracking.service",
    "fastapi",
    "fsspec",
    "httpx",
    "logging",
    "sqlalchemy",
)

SDK_PROBE = """
import sys
from runhistory import Experiment, Run, Workspace
print("\\n".join(sorted(sys.modules)))
"""

SERVER_PROBE = """
import sys
from runhistory.server.app import create_app
from runhistory.server.config import ServerSettings, open_services
settings = ServerSettings(backend_store_uri=sys.argv[1], artifact_location=sys.argv[2])
create_app(settings, open_services(settings))
print("\\n".join(sorted(sys.modules)))
"""


def _modules_after(probe: str, *arguments: str) -> set[str]:
    source = str(Path(runhistory.__file__).parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([source, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", probe, *arguments],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_the_logging_api_imports_none_of_the_store_server_or_listing_modules() -> None:
    loaded = _modules_after(SDK_PROBE)
    assert "runhistory.sdk.run" in loaded  # the probe imported the SDK
    found = sorted(m for m in loaded if any(m == k or m.startswith(k + ".") for k in KEPT_OUT))
    assert found == []


def test_what_the_import_leaves_out_loads_on_use(tmp_path: Path) -> None:
    # The lazy package names still resolve (the store and its artifact store).
    from runhistory.artifacts import ArtifactStore, FsspecArtifactStore, open_artifact_store

    store = open_artifact_store(str(tmp_path / "artifacts"))
    assert isinstance(store, FsspecArtifactStore)
    assert isinstance(store, ArtifactStore)


def test_the_server_application_is_built_without_mlflows_api(tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    loaded = _modules_after(
        SERVER_PROBE, f"sqlite:///{tmp_path / 'runhistory.db'}", str(tmp_path / "artifacts")
    )
    assert "runhistory.server.routes.mlflow" in loaded  # its routes are installed
    mlflow_api = sorted(m for m in loaded if m.startswith("runhistory.mlflow_api."))
    assert mlflow_api == ["runhistory.mlflow_api.errors"]  # the server's error answers
