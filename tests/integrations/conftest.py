"""A fresh run in the test's own workspace for each integration test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from runhistory import Experiment, Workspace


@pytest.fixture
def run() -> Iterator[Any]:
    started = Experiment(Workspace(), "integrations").start_logging(outputs=False)
    yield started
    if started.get_status() == "Running":
        started.complete()


@pytest.fixture
def steps_of() -> Any:
    """``steps_of(run, name)``: the steps a metric was logged at, in order."""

    def steps(run: Any, name: str) -> list[int | None]:
        return [point["step"] for point in run.get_metric_history(name)]

    return steps
