"""Many runs at once: runs and metric infos of a list of run ids in one request (compare)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from runhistory.server.answers import MetricInfos, RunsLookupAnswer
from runhistory.server.body import WireRoute
from runhistory.server.responses import JsonResponse
from runhistory.server.routes import tracking
from runhistory.server.schemas import RunIdsRequest, RunsLookup
from runhistory.tracking.service import TrackingService

router = APIRouter(route_class=WireRoute, tags=["runs"])
Service = Depends(tracking)


@router.post("/runs/lookup", response_model=RunsLookupAnswer)
def lookup_runs(body: RunsLookup, service: TrackingService = Service) -> Any:
    """Runs by id, in the order asked (ids asked twice once); ids of no run are listed in
    ``missing``. ``with_definition=false`` (the default) leaves out each ``run_definition``."""
    items = service.get_runs(body.run_ids, with_definition=body.with_definition)
    found = {run.run_id for run in items}
    missing = [run_id for run_id in dict.fromkeys(body.run_ids) if run_id not in found]
    return JsonResponse({"items": items, "missing": missing})


@router.post("/metrics/infos", response_model=MetricInfos)
def metric_infos(body: RunIdsRequest, service: TrackingService = Service) -> Any:
    """Every metric (kind, count, last value) of several runs; ids of no run add nothing."""
    return JsonResponse({"items": service.store.get_metric_infos_of(body.run_ids)})
