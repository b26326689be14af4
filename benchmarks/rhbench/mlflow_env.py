"""MLflow's own virtual environment under ``benchmarks/.venv-mlflow`` (never a project dependency).

The pinned version is installed once; when the pin cannot be installed, the newest 3.x that
``pip index versions mlflow`` lists is used instead. The version found is recorded in the results.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from rhbench.harness import BENCH_DIR
from rhbench.peer_venv import make_venv, probe, python_of, run

PINNED = "3.17.2"
EXTRA_PACKAGES = ["psycopg2-binary"]  # mlflow server and workers on PostgreSQL
VENV = BENCH_DIR / ".venv-mlflow"


def ensure_mlflow(venv: Path = VENV) -> tuple[str, str]:
    """Create the venv and install MLflow if needed.

    Returns:
        (path of the venv's python, installed MLflow version).

    Raises:
        RuntimeError: MLflow could not be installed; the message says what pip said.
    """
    python = python_of(venv)
    version = _installed_version(python)
    if version is not None:
        return str(python), version
    print(f"installing MLflow {PINNED} into {venv} (once; takes a minute or two)", file=sys.stderr)
    make_venv(venv)
    try:
        run([str(python), "-m", "pip", "install", "-q", f"mlflow=={PINNED}", *EXTRA_PACKAGES])
    except RuntimeError:
        newest = _newest_3x(python)
        run([str(python), "-m", "pip", "install", "-q", f"mlflow=={newest}", *EXTRA_PACKAGES])
    version = _installed_version(python)
    if version is None:
        raise RuntimeError(f"MLflow was installed into {venv} but does not import")
    return str(python), version


def _installed_version(python: Path) -> str | None:
    return probe(python, "import mlflow, psycopg2; print(mlflow.__version__)")


def _newest_3x(python: Path) -> str:
    listing = run([str(python), "-m", "pip", "index", "versions", "mlflow"])
    versions = re.findall(r"\b3\.\d+\.\d+\b", listing.split("Available versions:", 1)[-1])
    if not versions:
        raise RuntimeError("pip lists no MLflow 3.x release")
    return str(max(versions, key=lambda v: tuple(int(p) for p in v.split("."))))
