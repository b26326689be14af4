"""Fixtures every test shares: an isolated RUNHISTORY_HOME and clean connections."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point RUNHISTORY_HOME at a fresh folder and forget cached connections afterwards."""
    home = tmp_path / "rh-home"
    monkeypatch.setenv("RUNHISTORY_HOME", str(home))
    monkeypatch.setenv("RUNHISTORY_QUIET", "1")
    # Tests that count a run's metrics exactly would also see system/… samples: sampling is
    # off unless a test turns it on (tests/unit/sdk/test_system_metrics.py does).
    monkeypatch.setenv("RUNHISTORY_SYSTEM_METRICS", "false")
    for name in (
        "RUNHISTORY_TRACKING_URI",
        "RUNHISTORY_RUN_ID",
        "RUNHISTORY_ARTIFACT_LOCATION",
        "RUNHISTORY_TRACKING_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    yield home
    from runhistory.client.backend import close_all
    from runhistory.sdk.context import _reset_for_tests

    close_all()
    _reset_for_tests()
