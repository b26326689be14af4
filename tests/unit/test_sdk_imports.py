"""Importing the logging API loads none of what only stores, servers and listings need.

``from runhistory import Experiment, Run, Workspace`` is timed by benchmark B6; these modules
are loaded when a workspace opens its store, a run ends (its output folders), a write fails
(the fault rules) or a server starts, never by the import itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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

PROBE = """
import sys
from runhistory import Experiment, Run, Workspace
print("\\n".join(sorted(sys.modules)))
"""


def _modules_after_import() -> set[str]:
    source = str(Path(runhistory.__file__).parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([source, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_the_logging_api_imports_none_of_the_store_server_or_listing_modules() -> None:
    loaded = _modules_after_import()
    assert "runhistory.sdk.run" in loaded  # the probe imported the SDK
    found = sorted(m for m in loaded if any(m == k or m.startswith(k + ".") for k in KEPT_OUT))
    assert found == []


def test_what_the_import_leaves_out_loads_on_use(tmp_path: Path) -> None:
    # The lazy package names still resolve (the store and its artifact store).
    from runhistory.artifacts import ArtifactStore, FsspecArtifactStore, open_artifact_store

    store = open_artifact_store(str(tmp_path / "artifacts"))
    assert isinstance(store, FsspecArtifactStore)
    assert isinstance(store, ArtifactStore)
