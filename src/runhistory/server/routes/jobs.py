"""Job credentials: what a job on a cluster authenticates with instead of its user's token.

A credential stands for the token that asked for it (revoking that token ends it), is made for
one run, expires after the run's time limit (plus an hour) and is ended by the job when it
finishes. Without ``--auth`` there is nothing to hand out (``credential`` is null).
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from runhistory.errors import PermissionDeniedError
from runhistory.server.auth import JOB_CREDENTIAL_PREFIX
from runhistory.server.body import WireRoute
from runhistory.server.config import Services
from runhistory.server.responses import JsonResponse
from runhistory.server.routes import tracking
from runhistory.server.schemas import JobCredentialRequest
from runhistory.tracking.service import TrackingService

router = APIRouter(route_class=WireRoute, prefix="/job-credentials", tags=["compute"])
Service = Depends(tracking)
DEFAULT_SECONDS = 24 * 3600.0
MAX_SECONDS = 30 * 24 * 3600.0
EXTRA_SECONDS = 3600.0


@router.post("", status_code=201)
def create_job_credential(
    body: JobCredentialRequest, request: Request, service: TrackingService = Service
) -> Any:
    """A new credential for the job of run ``run_id`` (null on a server without ``--auth``)."""
    services: Services = request.app.state.services
    run = service.get_run(body.run_id)  # the run must exist
    if services.tokens is None:
        return JsonResponse({"credential": None, "expires_time": None}, status_code=201)
    if getattr(request.state, "job_credential", None):
        raise PermissionDeniedError("a job credential cannot make other job credentials")
    seconds = min((body.seconds or DEFAULT_SECONDS) + EXTRA_SECONDS, MAX_SECONDS)
    secret = services.tokens.sessions().new_job_credential(request.state.token_id, seconds)
    return JsonResponse(
        {"credential": JOB_CREDENTIAL_PREFIX + secret, "run_id": run.run_id,
         "expires_time": time.time() + seconds},
        status_code=201,
    )  # fmt: skip


@router.delete("/current", status_code=204)
def end_job_credential(request: Request) -> Response:
    """End the job credential this request was made with (a job does this when it ends)."""
    services: Services = request.app.state.services
    credential = getattr(request.state, "job_credential", None)
    if services.tokens is not None and credential:
        services.tokens.sessions().end(credential[len(JOB_CREDENTIAL_PREFIX) :])
    return Response(status_code=204)
