"""The bodies the routes answer with, as the OpenAPI schema documents them.

Routes build their JSON with orjson (:class:`~runhistory.server.responses.JsonResponse`), so
these models only describe the answers; a fuzz test checks that every answer conforms. Records
are the dataclasses of :mod:`runhistory.tracking.entities`; a value that may be a non-finite
float (metric values, documents) is left untyped, since it travels as ``{"$float": "nan"}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from runhistory.tracking.entities import (
    ComputeTargetInfo,
    EnvironmentVersion,
    ExperimentInfo,
    FileInfo,
    MetricInfo,
    ModelInfo,
    RunInfo,
)  # fmt: skip

T = TypeVar("T")


class ErrorBody(BaseModel):
    """Every 4xx and 5xx answer: the error's class name, a message, and its fields."""

    error: str
    message: str
    fields: dict[str, Any]


class Page(BaseModel, Generic[T]):
    """A page of a listing; ``next_offset`` and ``next_page_token`` are null on the last page.

    Listings with continuation tokens (runs) are continued with ``page_token`` (keyset: no item
    is skipped or repeated while others are added); ``next_offset`` is for older clients.
    """

    items: list[T]
    next_offset: int | None
    next_page_token: str | None = None


@dataclass(frozen=True)
class ListedExperiment(ExperimentInfo):
    """An experiment in a listing, with its number of runs (unless ``with_run_count=false``)."""

    run_count: int | None = None


class SecretName(BaseModel):
    """A secret's name (values are never listed)."""

    name: str


class SecretAnswer(BaseModel):
    """A secret's name and value."""

    name: str
    value: str


class StoredAnswer(BaseModel):
    """The outcome of one metric batch: ``stored`` is false when its id was seen before or
    every write was refused; ``errors`` holds the error body of each refused write."""

    stored: bool
    errors: list[ErrorBody]


class BatchesAnswer(BaseModel):
    """One outcome per batch, in the order sent."""

    results: list[StoredAnswer]


class MetricInfos(BaseModel):
    """The metrics of a run (a page of them with ``limit``, ``page_token`` or ``search``)."""

    items: list[MetricInfo]
    next_page_token: str | None = None


class MetricHistory(BaseModel):
    """Every point of one metric as columns, in logging order."""

    seqs: list[int]
    steps: list[int | None]
    values: list[Any]
    times: list[float]


class Series(BaseModel):
    """One downsampled series of a chart."""

    run_id: str
    name: str
    kind: str
    count: int
    downsampled: bool
    x: list[Any]
    y: list[Any]


class SeriesAnswer(BaseModel):
    """The series asked for."""

    series: list[Series]


class SnapshotAnswer(BaseModel):
    """The id of the snapshot just stored."""

    snapshot_id: str


class Health(BaseModel):
    """The server is up."""

    status: str
    version: str


class Readiness(BaseModel):
    """Whether the database and the artifact store answer (``status`` ``ready``, else
    ``unavailable`` with HTTP 503 and the failing check named)."""

    status: str
    checks: dict[str, str]
    version: str


READINESS: dict[int | str, dict[str, Any]] = {
    503: {"model": Readiness, "description": "a store does not answer"},
}
PROMETHEUS: dict[int | str, dict[str, Any]] = {
    200: {"description": "Prometheus text format", "content": {"text/plain": {"schema": {
        "type": "string", "description": "metrics in the Prometheus exposition format"}}}},
}  # fmt: skip


ExperimentPage = Page[ListedExperiment]
RunPage = Page[RunInfo]


class Count(BaseModel):
    """How many items match a listing's filters."""

    count: int


class RunsLookupAnswer(BaseModel):
    """Runs found by id, in the order asked, and the ids of no run."""

    items: list[RunInfo]
    missing: list[str]


ModelPage = Page[ModelInfo]
EnvironmentPage = Page[EnvironmentVersion]
ComputeTargetPage = Page[ComputeTargetInfo]
FilePage = Page[FileInfo]
SecretPage = Page[SecretName]
Metrics = dict[str, Any]
"""A run's metrics in the original SDK's shapes ({name: value or list}); keyed by run id first
when recursive."""
LastValues = dict[str, dict[str, Any]]
"""``{run id: {metric name: last value}}``."""

BINARY = {"schema": {"type": "string", "format": "binary"}}


def binary(
    media_type: str = "application/octet-stream", ranges: bool = False
) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route that streams bytes."""
    answer = {"description": "the bytes", "content": {media_type: BINARY}}
    found: dict[int | str, dict[str, Any]] = {200: answer}
    if ranges:
        found[206] = {"description": "the range asked for", "content": {media_type: BINARY}}
    return found
