"""Aim's own virtual environment under ``benchmarks/.venv-aim`` (never a project dependency).

The newest Aim on PyPI is installed once, when the venv does not exist yet (delete the folder to
take a newer release); the version found is recorded in the results. Building the venv took
24 s on this 2-core machine when it was quiet and 3.6 minutes under a load average of 15 (Aim
builds its UI package and pulls its own web stack), so ``--quick`` builds it too.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from rhbench.harness import BENCH_DIR
from rhbench.peer_venv import make_venv, probe, python_of, run

VENV = BENCH_DIR / ".venv-aim"
PACKAGE = "aim"


def installed(venv: Path = VENV) -> tuple[str, str] | None:
    """(python, Aim version) of an existing venv where Aim imports, else None."""
    python = python_of(venv)
    version = probe(python, "from aim.__version__ import __version__; print(__version__)")
    return (str(python), version) if version else None


def ensure_aim(venv: Path = VENV) -> tuple[str, str]:
    """Create the venv and install the newest Aim if needed.

    Returns:
        (path of the venv's python, installed Aim version).

    Raises:
        RuntimeError: Aim could not be installed; the message says what pip said.
    """
    found = installed(venv)
    if found is not None:
        return found
    print(
        f"installing the newest {PACKAGE} into {venv} (once; 24 s on a quiet 2-core machine)",
        file=sys.stderr,
    )
    started = time.perf_counter()
    python = make_venv(venv)
    run([str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"])
    run([str(python), "-m", "pip", "install", "-q", PACKAGE])
    found = installed(venv)
    if found is None:
        raise RuntimeError(f"Aim was installed into {venv} but does not import")
    print(f"Aim {found[1]} installed in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return found
