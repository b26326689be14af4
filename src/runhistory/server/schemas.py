"""Request bodies of the JSON routes (they also document the API in the OpenAPI schema).

Tag and property values are typed loosely here: the tracking service checks them and answers
with the same error messages as the embedded SDK.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from runhistory.server.params import INT64_MAX, INT64_MIN
from runhistory.tracking.entities import RunGroup, SavedView


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExperimentCreate(_Body):
    """Get or create the active experiment called ``name``."""

    name: str


class Reactivate(_Body):
    """Make an archived experiment active again, optionally renamed."""

    new_name: str | None = None


class TagsPatch(_Body):
    """Tags to set (a value may be null) and tag keys to remove."""

    set: dict[str, Any] = Field(default_factory=dict)
    remove: list[str] = Field(default_factory=list)


class RunCreate(_Body):
    """A new run (a child run when ``parent_run_id`` is given)."""

    experiment_id: str
    run_id: str | None = None
    parent_run_id: str | None = None
    status: str = "NotStarted"
    display_name: str | None = None
    description: str | None = None
    run_type: str = "experimentrun"
    target: str = "local"
    tags: dict[str, Any] | None = None
    properties: dict[str, Any] | None = None
    run_definition: dict[str, Any] | None = None
    submitted_by: str | None = Field(None, max_length=255)


class StatusChange(_Body):
    """Move a run to ``status``; ``error`` holds failure details; with ``expected``, only
    from one of those statuses."""

    status: str
    error: dict[str, Any] | None = None
    expected: list[str] | None = None


class RunUpdate(_Body):
    """Fields of a run to change (only the ones sent are changed)."""

    display_name: str | None = None
    description: str | None = None
    run_definition: dict[str, Any] | None = None
    target: str | None = None


class ModelRegister(_Body):
    """Register a run file or folder as the next version of a model."""

    run_id: str
    model_name: str
    model_path: str | None = None
    tags: dict[str, Any] | None = None
    properties: dict[str, Any] | None = None
    model_framework: str | None = None
    model_framework_version: str | None = None
    description: str | None = None


class ModelUpdate(_Body):
    """Merge tags, remove tags, add properties, set the description (only if sent)."""

    tags: dict[str, Any] | None = None
    remove_tags: list[str] = Field(default_factory=list)
    properties: dict[str, Any] | None = None
    description: str | None = None


class EnvironmentRegister(_Body):
    """Register an environment definition (the ``.runconfig`` layout) under ``name``."""

    name: str
    definition: Any  # checked by the service, with the embedded SDK's messages


class ComputeTargetCreate(_Body):
    """Record a named compute target: its kind (``local``, ``ray``) and settings."""

    name: str
    kind: str
    config: dict[str, Any] = Field(default_factory=dict)


class JobCredentialRequest(_Body):
    """Ask for the credential of one submitted run's job on a cluster."""

    run_id: str
    seconds: float | None = Field(default=None, gt=0)


class SecretValue(_Body):
    """The value of a secret."""

    value: str


class SeriesRequest(_Body):
    """Downsampled series of metrics of several runs, for charts."""

    run_ids: list[str] = Field(min_length=1, max_length=1000)
    names: list[str] = Field(min_length=1, max_length=1000)
    max_points: int = Field(default=1000, ge=2, le=100_000)
    min_step: int | None = Field(default=None, ge=INT64_MIN, le=INT64_MAX)
    max_step: int | None = Field(default=None, ge=INT64_MIN, le=INT64_MAX)
    x: Literal["step", "time"] = Field(
        default="step",
        description="what points are placed and bucketed by: the step, or the logging time "
        "(seconds since the epoch)",
    )


class LastValuesRequest(_Body):
    """Last values of metrics of several runs."""

    run_ids: list[str] = Field(min_length=1, max_length=10_000)
    names: list[str] | None = None
    value: Literal["last", "min", "max"] = "last"  # min/max: the extremes of numeric values


class RunIdsRequest(_Body):
    """Several runs by id (``POST /metrics/infos``)."""

    run_ids: list[str] = Field(min_length=1, max_length=10_000)


class RunsLookup(RunIdsRequest):
    """Several runs by id, with or without their definitions (``POST /runs/lookup``)."""

    with_definition: bool = False


class ViewBody(_Body):
    """A saved view's state: the studio's URL query of the runs table."""

    state: str = Field(max_length=8000)


class SavedViews(BaseModel):
    """The saved views of an experiment."""

    items: list[SavedView]


class RunGroups(BaseModel):
    """Runs grouped by a property or tag value."""

    items: list[RunGroup]
