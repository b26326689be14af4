"""Refusals belong to the run that owned the value: per-run flushes, a workspace-wide flush,
and the report at interpreter exit (see docs/data-integrity.md)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from runhistory import Experiment, Run, Workspace
from runhistory.client.queue import flush_all
from runhistory.errors import ValidationError
from runhistory.tracking.entities import VTYPE_FLOAT


def _slip_bad_point(run: Run, name: str) -> None:
    """A float point without a number, put on the queue past the SDK's checks."""
    queue = run._queue
    queue.put((queue.key(run.id, name, "scalar"), None, VTYPE_FLOAT, None, None, time.time()))


@pytest.fixture
def experiment(tmp_path: Path) -> Experiment:
    return Experiment(Workspace(path=tmp_path / "ws"), "refusals")


def test_each_run_raises_only_its_own_refusals_once(experiment: Experiment) -> None:
    a, b, c = (experiment.start_logging(outputs=False) for _ in range(3))
    _slip_bad_point(a, "bad_a")
    _slip_bad_point(b, "bad_b1")
    _slip_bad_point(b, "bad_b2")
    c.log("fine", 1.0)
    c.flush()  # nothing of C was refused
    with pytest.raises(ValidationError, match="'bad_a'"):
        a.flush()
    with pytest.raises(ValidationError, match=r"'bad_b1'.*\(and 1 more refused"):
        b.complete()
    a.complete()  # raised once: not again
    assert Run(experiment, c.id).get_metrics() == {"fine": 1.0}


def test_a_workspace_wide_flush_raises_the_refusals_of_every_run(experiment: Experiment) -> None:
    a, b = (experiment.start_logging(outputs=False) for _ in range(2))
    _slip_bad_point(a, "bad_a")
    _slip_bad_point(b, "bad_b")
    with pytest.raises(ValidationError, match="1 more runs had values refused") as raised:
        experiment.workspace._connection.queue.flush()
    assert raised.value.fields["run_id"] in (a.id, b.id)
    a.complete()  # taken by the workspace-wide flush: the runs do not raise them again
    b.complete()


def test_at_exit_every_refusal_is_printed_naming_its_run(
    experiment: Experiment, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = (experiment.start_logging(outputs=False) for _ in range(2))
    _slip_bad_point(a, "bad_a")
    _slip_bad_point(b, "bad_b")
    flush_all()
    lines = capsys.readouterr().err.splitlines()
    assert sorted(line.split(":")[1].strip() for line in lines) == sorted(
        [f"run {a.id!r}", f"run {b.id!r}"]
    )
    assert any("'bad_a'" in line for line in lines) and any("'bad_b'" in line for line in lines)
