"""MLflow's read queries over runs: ``runs/search``, ``metrics/get-history`` (and its bulk
interval form) and ``artifacts/list``.

``runs/search`` lists each experiment's runs through the service and matches MLflow's filter
against the values MLflow shows (params, tags, attributes, and each metric's latest value). An
ordered search hands the clauses it can to the store's sorted listing (SQL, see
:mod:`runhistory.tracking.run_matching`) and checks only the others here; the newest-first
search of one experiment checks them all here, reading the metrics of each slice of runs in
one query.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from runhistory.errors import NotFoundError
from runhistory.mlflow_api import mapping as mp
from runhistory.mlflow_api.errors import MlflowApiError
from runhistory.mlflow_api.experiments import MlflowExperiments, view_type
from runhistory.mlflow_api.fields import list_of
from runhistory.mlflow_api.paging import (
    decode_key_token,
    encode_key_token,
    next_token,
    offset_of,
    page_size,
    query_scope,
)
from runhistory.mlflow_api.runs import MlflowRuns
from runhistory.mlflow_api.search import (
    Clause,
    OrderKey,
    matches,
    parse_filter,
    parse_order_by,
)
from runhistory.tracking.entities import MetricInfo, RunCursor, RunInfo
from runhistory.tracking.run_matching import RunFilter, applicable, exact
from runhistory.tracking.run_sorting import SortedRunQuery, SortTerm, key_layout
from runhistory.tracking.service import TrackingService

P = TypeVar("P")  # a position in a listing: where its next slice starts

MAX_RUNS_PER_PAGE = 50_000
DEFAULT_RUNS_PER_PAGE = 1000
MAX_HISTORY_PER_PAGE = 25_000_000
MAX_BULK_RUNS = 100
STORE_PAGE = 500  # runs read from the store at a time by a keyset-paged search
MAX_STORE_PAGE = 10_000
_NEWEST_FIRST = OrderKey("attributes", "start_time", True)
_KINDS = {"attributes": "attribute", "metrics": "metric", "params": "param", "tags": "tag"}


class MlflowQueries:
    """The search and history calls of MLflow's tracking API, answered by ``service``."""

    def __init__(
        self, service: TrackingService, experiments: MlflowExperiments, runs: MlflowRuns
    ) -> None:
        self.service = service
        self.experiments = experiments
        self.runs = runs

    def search_runs(self, body: dict[str, Any]) -> dict[str, Any]:
        """``runs/search``: filter, ``order_by``, ``run_view_type``, ``max_results`` and pages.

        Both kinds of page read only as many runs as they show (and the filter skips): one
        experiment in MLflow's default order (newest first) pages on the store's listing
        indexes; any other order, or several experiments, on the store's sorted listing
        (:meth:`~runhistory.store.base.TrackingStore.search_runs_sorted`), by keyset as well.
        """
        clauses = parse_filter(body.get("filter"))
        order = parse_order_by(list_of(body.get("order_by")))
        if len({(o.entity, o.key) for o in order}) < len(order):
            raise MlflowApiError(f"`order_by` contains duplicate fields: {body.get('order_by')}")
        size = page_size(body.get("max_results"), DEFAULT_RUNS_PER_PAGE, MAX_RUNS_PER_PAGE)
        stage = {"ACTIVE_ONLY": mp.ACTIVE, "DELETED_ONLY": mp.DELETED, "ALL": None}[
            view_type(body.get("run_view_type"))
        ]
        experiment_ids = list_of(body.get("experiment_ids"))
        token = body.get("page_token")
        newest_first = all(o == _NEWEST_FIRST for o in order)
        if len(experiment_ids) == 1 and newest_first:
            experiment = self.experiments.resolve(experiment_ids[0])
            shown, next_page = self._keyset_page(
                experiment.experiment_id, clauses, stage, size, token
            )
        else:
            shown, next_page = self._sorted_page(experiment_ids, clauses, order, stage, size, token)
        infos: dict[str, list[MetricInfo]] = {run.run_id: [] for run in shown}
        for info in self.service.store.get_metric_infos_of(list(infos)):  # one read for the page
            infos[info.run_id].append(info)
        answer: dict[str, Any] = {
            "runs": [self.runs.run_json(run, infos[run.run_id]) for run in shown]
        }
        if next_page:
            answer["next_page_token"] = next_page
        return answer

    def _keyset_page(
        self,
        experiment_id: str,
        clauses: list[Clause],
        stage: str | None,
        size: int,
        token: object,
    ) -> tuple[list[RunInfo], str | None]:
        """A page of one experiment's runs, newest first, read from the store's keyset
        listing a slice at a time until ``size`` runs match; the token holds the position of
        the page's last run, so runs created meanwhile never shift the pages to come."""
        scope = query_scope({
            "newest": experiment_id, "stage": stage,
            "filter": [[c.entity, c.key, c.op, c.value] for c in clauses],
        })  # fmt: skip
        read = min(max(size + 1, STORE_PAGE), MAX_STORE_PAGE)

        def slice_after(after: RunCursor | None) -> list[tuple[RunInfo, RunCursor]]:
            runs = self.service.search_runs_after(experiment_id, after, read)
            return [(run, RunCursor.of(run)) for run in runs]

        shown, last = self._first_matches(
            slice_after, _decode_keyset(token, scope), read, clauses, stage, size
        )
        return shown, None if last is None else _encode_keyset(last, scope)

    def _sorted_page(
        self,
        experiment_ids: list[str],
        clauses: list[Clause],
        order: list[OrderKey],
        stage: str | None,
        size: int,
        token: object,
    ) -> tuple[list[RunInfo], str | None]:
        """A page of the experiments' matching runs in ``order``, read from the store's
        sorted keyset listing a slice at a time until ``size`` runs match; the token holds
        the sort key of the page's last run (checked against this query when it comes back).
        """
        resolved = tuple(self.experiments.resolve(e).experiment_id for e in experiment_ids)
        terms = tuple(SortTerm(_KINDS[o.entity], o.key, o.descending) for o in order)
        layout = key_layout(terms)
        scope = query_scope({
            "experiments": sorted(resolved), "stage": stage,
            "order": [[t.kind, t.key, t.descending] for t in terms],
            "filter": [[c.entity, c.key, c.op, c.value] for c in clauses],
        })  # fmt: skip
        if not resolved:
            return [], None
        read = min(max(size + 1, STORE_PAGE), MAX_STORE_PAGE)
        pushed, rest = store_filters(clauses, stage)

        def slice_after(after: tuple[Any, ...] | None) -> list[tuple[RunInfo, tuple[Any, ...]]]:
            query = SortedRunQuery(resolved, terms, read, after, pushed)
            return self.service.search_runs_sorted(query)

        after = decode_key_token(token, scope, layout) if token else None
        shown, last = self._first_matches(slice_after, after, read, rest, stage, size)
        return shown, None if last is None else encode_key_token(last, scope)

    def _first_matches(
        self,
        slice_after: Callable[[P | None], Sequence[tuple[RunInfo, P]]],
        after: P | None,
        read: int,
        clauses: list[Clause],
        stage: str | None,
        size: int,
    ) -> tuple[list[RunInfo], P | None]:
        """The first ``size`` runs matching ``clauses`` from slices of ``read`` runs that
        ``slice_after`` gives after a position, with the position of the last run shown
        (``None`` when the listing ended before the page was full)."""
        needs_metrics = any(c.entity == "metrics" for c in clauses)
        shown: list[RunInfo] = []
        while True:
            found = slice_after(after)
            latest = (
                self.service.store.get_last_metric_values([r.run_id for r, _ in found])
                if needs_metrics and found
                else {}
            )
            for run, position in found:
                after = position
                if not _searchable(run, stage):
                    continue
                record = _record(run, latest.get(run.run_id, {}))
                if all(matches(c, record[c.entity].get(c.key)) for c in clauses):
                    shown.append(run)
                    if len(shown) == size:
                        return shown, position
            if len(found) < read:
                return shown, None

    def metric_history(self, body: dict[str, Any]) -> dict[str, Any]:
        """``metrics/get-history``: every point of one metric (none for an unknown key)."""
        run = self.runs.find(body)
        key = body.get("metric_key")
        if not isinstance(key, str) or not key:
            raise MlflowApiError("Missing value for required parameter 'metric_key'.")
        points = self._points(run.run_id, key)
        size = page_size(body.get("max_results"), MAX_HISTORY_PER_PAGE, MAX_HISTORY_PER_PAGE)
        offset = offset_of(body.get("page_token"))
        answer: dict[str, Any] = {"metrics": points[offset : offset + size]}
        token = next_token(offset, size, len(points))
        if token:
            answer["next_page_token"] = token
        return answer

    def metric_history_bulk(self, body: dict[str, Any]) -> dict[str, Any]:
        """``metrics/get-history-bulk-interval``: one metric of up to 100 runs, each thinned to
        at most ``max_results`` points (evenly spaced steps, the first and last kept)."""
        run_ids = list_of(body.get("run_ids"))
        if not run_ids or len(run_ids) > MAX_BULK_RUNS:
            raise MlflowApiError(f"run_ids must name between 1 and {MAX_BULK_RUNS} runs")
        key = body.get("metric_key")
        if not isinstance(key, str) or not key:
            raise MlflowApiError("Missing value for required parameter 'metric_key'.")
        size = page_size(body.get("max_results"), 320, 2500)
        low, high = _step(body.get("start_step")), _step(body.get("end_step"))
        found: list[dict[str, Any]] = []
        for run_id in run_ids:
            run = self.runs.find({"run_id": run_id})
            points = [
                p for p in self._points(run.run_id, key)
                if (low is None or p["step"] >= low) and (high is None or p["step"] <= high)
            ]  # fmt: skip
            for point in _thin(points, size):
                found.append({**point, "run_id": run.run_id})
        return {"metrics": found}

    def _points(self, run_id: str, key: str) -> list[dict[str, Any]]:
        try:
            columns = self.service.get_metric_history(run_id, key)
        except NotFoundError:
            return []
        steps = columns.steps or [0] * len(columns)
        return [
            {"key": key, "value": mp.metric_value_json(v), "timestamp": mp.millis(t), "step": s}
            for s, v, t in zip(steps, columns.values, columns.times, strict=True)
        ]

    def list_artifacts(self, body: dict[str, Any]) -> dict[str, Any]:
        """``artifacts/list``: the files and folders directly under ``path`` of a run."""
        run = self.runs.find(body)
        path = str(body.get("path") or "").strip("/")
        entries = directory(self.service, run.run_id, path)
        files = [
            {"path": f"{path}/{name}" if path else name, "is_dir": is_dir,
             **({} if is_dir else {"file_size": size})}
            for name, is_dir, size in entries
        ]  # fmt: skip
        return {"root_uri": mp.artifact_uri(run), "files": files}


def directory(service: TrackingService, run_id: str, path: str) -> list[tuple[str, bool, int]]:
    """``(name, is_dir, size)`` of what lies directly under ``path`` among a run's files."""
    prefix = f"{path}/" if path else ""
    children: dict[str, tuple[bool, int]] = {}
    for info in service.list_files(run_id, prefix=prefix or None):
        rest = info.name[len(prefix) :]
        head, slash, _ = rest.partition("/")
        children[head] = (True, 0) if slash else (False, info.size)
    return [(name, is_dir, size) for name, (is_dir, size) in sorted(children.items())]


def store_filters(
    clauses: list[Clause], stage: str | None
) -> tuple[tuple[RunFilter, ...], list[Clause]]:
    """The clauses (and the lifecycle stage) a store's sorted listing applies itself, and
    the clauses left for :func:`~runhistory.mlflow_api.search.matches` (those it cannot
    apply, and those it may let more runs through for)."""
    pushed: list[RunFilter] = []
    rest: list[Clause] = []
    for clause in clauses:
        found = RunFilter(_KINDS[clause.entity], clause.key, clause.op, clause.value)
        if applicable(found):
            pushed.append(found)
        if not applicable(found) or not exact(found):
            rest.append(clause)
    if stage is not None:
        pushed.append(RunFilter("attribute", "lifecycle_stage", "=", stage))
    return tuple(pushed), rest


def _searchable(run: RunInfo, stage: str | None) -> bool:
    """Whether MLflow's search shows the run: in the wanted lifecycle stage, not a logged
    model (a run holding an MLflow 3 logged model is a model, not a run)."""
    return (stage is None or mp.run_lifecycle(run) == stage) and (
        mp.LOGGED_MODEL_TAG not in run.tags
    )


def _encode_keyset(cursor: RunCursor, scope: str) -> str:
    """The page token that continues a keyset-paged search after ``cursor``."""
    return encode_key_token((cursor.created_time, cursor.number, cursor.run_id), scope)


def _decode_keyset(token: object, scope: str) -> RunCursor | None:
    """The position a keyset page token continues after (``None``: the start)."""
    if not token:
        return None
    created, number, run_id = decode_key_token(token, scope, (float, int, str))
    return RunCursor(created, number, run_id)


def _record(run: RunInfo, latest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    info = mp.run_info_json(run)
    attributes = {k: info.get(k) for k in ("run_id", "run_name", "status", "user_id",
                                           "artifact_uri", "lifecycle_stage")}  # fmt: skip
    attributes["start_time"] = float(info["start_time"])
    attributes["end_time"] = float(info["end_time"]) if "end_time" in info else None
    metrics = {k: _number(v) for k, v in latest.items()}
    tags = {t["key"]: t["value"] for t in mp.run_tags_json(run)}
    return {
        "run": {"run": run},
        "attributes": attributes,
        "params": dict(run.properties),
        "tags": tags,
        "metrics": {k: v for k, v in metrics.items() if v is not None},
    }


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    return None


def _step(value: object) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(str(value))
    except ValueError:
        raise MlflowApiError(f"steps must be integers, got {value!r:.40}") from None


def _thin(points: list[dict[str, Any]], size: int) -> list[dict[str, Any]]:
    if len(points) <= size:
        return points
    last = len(points) - 1
    picks = sorted({round(i * last / (size - 1)) for i in range(size)}) if size > 1 else [last]
    return [points[i] for i in picks]
