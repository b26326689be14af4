"""The compute-target interface: where a submitted script runs.

A target receives a :class:`JobSpec` once the SDK has created the run (status ``Queued``),
snapshotted its source folder and written ``run_definition``. Everything a target needs to know
later lives in the run itself, so any process (the CLI, another script) can ask the same
target for status, logs or a cancel.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any

from runhistory.tracking.entities import RunInfo

LOG_FILE = "logs/std_log.txt"


@dataclass(frozen=True)
class JobSpec:
    """What a target needs to start a submitted run.

    Args:
        run_id: the run, already created in ``Queued`` with its snapshot and definition.
        tracking_uri: the workspace's tracking URI, for the job's own processes.
        artifact_location: the workspace's artifact location (None: the URI's default).
    """

    run_id: str
    tracking_uri: str
    artifact_location: str | None = None


class ComputeTarget(abc.ABC):
    """A place that runs submitted scripts: submit, status, cancel, logs."""

    name: str = ""

    @abc.abstractmethod
    def submit(self, backend: Any, job: JobSpec) -> None:
        """Start the job asynchronously; return as soon as it is handed over."""

    @abc.abstractmethod
    def status(self, backend: Any, run_id: str) -> str:
        """The run's status as this target sees it (a dead job is never Running)."""

    @abc.abstractmethod
    def cancel(self, backend: Any, run: RunInfo) -> RunInfo:
        """Ask the job to stop; returns the run (CancelRequested, or Canceled if already gone)."""

    @abc.abstractmethod
    def logs(self, backend: Any, run_id: str) -> str:
        """The job's captured stdout and stderr so far."""

    def validate(self, run_definition: dict[str, Any]) -> None:  # noqa: B027 (optional hook)
        """Raise a ``RunhistoryError`` if this target cannot run ``run_definition``."""
