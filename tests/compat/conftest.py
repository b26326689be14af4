"""Fixtures of the compatibility suite: a project folder on each backend.

``sqlite``: the original-format ``config.json`` names a local workspace (SQLite + folder).
``server``: the same config plus the ``tracking_uri`` of a real ``runhistory server``
subprocess started for the test on its own SQLite workspace.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from compat.harness import make_project
from support.services import start_server

BACKENDS = ["sqlite", "server"]


@pytest.fixture(scope="session")
def shared_envs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder of built job environments for the whole session."""
    return tmp_path_factory.mktemp("envs")


@pytest.fixture(params=BACKENDS)
def project(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    isolated_home: Path,
    shared_envs: Path,
) -> Iterator[Path]:
    """A project folder whose config.json points at the backend under test.

    The environments its jobs build are not byte-compiled (pip reads ``PIP_COMPILE=0`` as
    ``--no-compile``): they are thrown away with the session, and compiling scikit-learn and
    its dependencies took 7 of the 9.5 s of each build. They are built once a session
    (``$RUNHISTORY_HOME/envs`` is a folder the tests share): a notebook's first backend builds
    its environment, the second takes it as a user's next job does, by its hash.
    """
    monkeypatch.setenv("PIP_COMPILE", "0")
    isolated_home.mkdir(parents=True, exist_ok=True)
    (isolated_home / "envs").symlink_to(shared_envs, target_is_directory=True)
    if request.param == "sqlite":
        yield make_project(tmp_path / "project", None)
        return
    server = start_server(str(tmp_path / "server-ws"), tmp_path / "server.log")
    try:
        yield make_project(tmp_path / "project", server.url)
    finally:
        server.stop()
