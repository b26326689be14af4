"""Compute targets are found by name; a new target plugs in without touching the SDK."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runhistory import Experiment, ScriptRunConfig
from runhistory.compute import (
    _TARGETS,
    ComputeTarget,
    JobSpec,
    get_target,
    list_targets,
    register_target,
)
from runhistory.compute.local import LocalProcessTarget
from runhistory.errors import ValidationError
from runhistory.tracking import status as st
from runhistory.tracking.entities import RunInfo


class RecordingTarget(ComputeTarget):
    """A second target: it 'runs' a job by marking it Running and remembers what it got."""

    name = "recorder"

    def __init__(self) -> None:
        self.jobs: list[JobSpec] = []
        self.cancelled: list[str] = []

    def submit(self, backend: Any, job: JobSpec) -> None:
        self.jobs.append(job)
        backend.set_status(job.run_id, st.RUNNING)

    def status(self, backend: Any, run_id: str) -> str:
        return str(backend.get_run(run_id).status)

    def cancel(self, backend: Any, run: RunInfo) -> RunInfo:
        self.cancelled.append(run.run_id)
        result: RunInfo = backend.set_status(run.run_id, st.CANCELED)
        return result

    def logs(self, backend: Any, run_id: str) -> str:
        return ""


@pytest.fixture
def recorder() -> Iterator[RecordingTarget]:
    target = RecordingTarget()
    register_target(target)
    yield target
    _TARGETS.pop("recorder", None)


def test_registered_target_receives_the_job_and_the_cancel(
    exp: Experiment, tmp_path: Path, recorder: RecordingTarget
) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("print(1)\n")
    run = exp.submit(ScriptRunConfig(str(tmp_path / "src"), "a.py", compute_target="recorder"))
    assert [job.run_id for job in recorder.jobs] == [run.id]
    assert recorder.jobs[0].tracking_uri == exp.workspace.tracking_uri
    assert run.get_details()["target"] == "recorder"
    assert run.get_status() == st.RUNNING
    run.cancel()  # dispatched by the name recorded in the run
    assert recorder.cancelled == [run.id] and run.get_status() == st.CANCELED


def test_target_lookup_by_name_or_object() -> None:
    assert isinstance(get_target(), LocalProcessTarget)
    assert isinstance(get_target("local"), LocalProcessTarget)

    class Named:
        name = "local"

    assert get_target(Named()) is get_target("local")
    assert "local" in list_targets()
    with pytest.raises(ValidationError, match=r"unknown compute target 'nowhere'.*local"):
        get_target("nowhere")
    with pytest.raises(ValidationError, match="needs a name"):
        register_target(_Nameless())


class _Nameless(RecordingTarget):
    name = ""
