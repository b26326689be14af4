"""MLflow's REST tracking API (``/api/2.0/mlflow/…``, ``/ajax-api/2.0/mlflow/…``) and its
``mlflow-artifacts`` proxy, answered by the same tracking service as runhistory's own API.

A thin shell: each route reads MLflow's request message (the JSON body, or the query string of
a GET) and hands it to :class:`~runhistory.mlflow_api.api.MlflowApi`; errors are answered as
MLflow answers them (``{"error_code", "message"}``). See docs/mlflow.md.
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import APIRouter, Depends, FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import PlainTextResponse, Response

from runhistory import __version__
from runhistory.artifacts.multipart import SECRET_HEADER
from runhistory.errors import RunhistoryError
from runhistory.mlflow_api.errors import BAD_REQUEST, NOT_IMPLEMENTED, MlflowApiError
from runhistory.server.auth import require_token
from runhistory.server.body import BlockingBody, body_to_temp_file
from runhistory.server.errors import mlflow_error_response, public_error
from runhistory.server.ranges import ranged_response
from runhistory.server.responses import JsonResponse
from runhistory.server.routes import per_app

# MLflow's API (its requests, artifacts and multipart uploads) is imported by its first request,
# not by every worker as it starts.
if TYPE_CHECKING:
    from runhistory.mlflow_api.api import MlflowApi
    from runhistory.mlflow_api.multipart import MultipartProxy

PREFIXES = ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow")  # and their artifacts proxy:
ARTIFACT_PREFIXES = ("/api/2.0/mlflow-artifacts", "/ajax-api/2.0/mlflow-artifacts")
_LIST_FIELDS = frozenset(("run_ids", "experiment_ids", "order_by", "stages"))

# (HTTP method, path under the prefix, MlflowApi method)
ROUTES: tuple[tuple[str, str, str], ...] = (
    ("POST", "/experiments/create", "create_experiment"),
    ("GET", "/experiments/get", "get_experiment"),
    ("GET", "/experiments/get-by-name", "get_experiment_by_name"),
    ("POST", "/experiments/search", "search_experiments"),
    ("GET", "/experiments/search", "search_experiments"),
    ("POST", "/experiments/update", "update_experiment"),
    ("POST", "/experiments/delete", "delete_experiment"),
    ("POST", "/experiments/restore", "restore_experiment"),
    ("POST", "/experiments/set-experiment-tag", "set_experiment_tag"),
    ("POST", "/experiments/delete-experiment-tag", "delete_experiment_tag"),
    ("POST", "/runs/create", "create_run"),
    ("GET", "/runs/get", "get_run"),
    ("POST", "/runs/update", "update_run"),
    ("POST", "/runs/delete", "delete_run"),
    ("POST", "/runs/restore", "restore_run"),
    ("POST", "/runs/search", "search_runs"),
    ("POST", "/runs/log-metric", "log_metric"),
    ("POST", "/runs/log-parameter", "log_param"),
    ("POST", "/runs/log-batch", "log_batch"),
    ("POST", "/runs/set-tag", "set_tag"),
    ("POST", "/runs/delete-tag", "delete_tag"),
    ("POST", "/runs/log-inputs", "log_inputs"),
    ("GET", "/metrics/get-history", "get_metric_history"),
    ("GET", "/metrics/get-history-bulk-interval", "get_metric_history_bulk_interval"),
    ("GET", "/artifacts/list", "list_artifacts"),
    ("POST", "/logged-models/search", "search_logged_models"),
    ("POST", "/logged-models", "create_logged_model"),
    ("GET", "/logged-models/{model_id}", "get_logged_model"),
    ("PATCH", "/logged-models/{model_id}", "finalize_logged_model"),
    ("DELETE", "/logged-models/{model_id}", "delete_logged_model"),
    ("PATCH", "/logged-models/{model_id}/tags", "set_logged_model_tags"),
    ("DELETE", "/logged-models/{model_id}/tags/{tag_key}", "delete_logged_model_tag"),
    ("POST", "/logged-models/{model_id}/params", "log_logged_model_params"),
    ("POST", "/runs/outputs", "log_outputs"),
    ("POST", "/registered-models/create", "create_registered_model"),
    ("GET", "/registered-models/get", "get_registered_model"),
    ("POST", "/registered-models/rename", "rename_registered_model"),
    ("PATCH", "/registered-models/update", "update_registered_model"),
    ("DELETE", "/registered-models/delete", "delete_registered_model"),
    ("GET", "/registered-models/search", "search_registered_models"),
    ("POST", "/registered-models/get-latest-versions", "get_latest_versions"),
    ("GET", "/registered-models/get-latest-versions", "get_latest_versions"),
    ("POST", "/registered-models/set-tag", "set_registered_model_tag"),
    ("DELETE", "/registered-models/delete-tag", "delete_registered_model_tag"),
    ("POST", "/registered-models/alias", "set_registered_model_alias"),
    ("DELETE", "/registered-models/alias", "delete_registered_model_alias"),
    ("GET", "/registered-models/alias", "get_model_version_by_alias"),
    ("POST", "/model-versions/create", "create_model_version"),
    ("GET", "/model-versions/get", "get_model_version"),
    ("PATCH", "/model-versions/update", "update_model_version"),
    ("POST", "/model-versions/transition-stage", "transition_model_version_stage"),
    ("DELETE", "/model-versions/delete", "delete_model_version"),
    ("GET", "/model-versions/get-download-uri", "get_model_version_download_uri"),
    ("GET", "/model-versions/search", "search_model_versions"),
    ("POST", "/model-versions/set-tag", "set_model_version_tag"),
    ("DELETE", "/model-versions/delete-tag", "delete_model_version_tag"),
)


def _api(request: Request) -> MlflowApi:
    from runhistory.mlflow_api.api import MlflowApi

    return per_app(request, "mlflow_api", MlflowApi)


async def _message(request: Request) -> dict[str, Any]:
    """MLflow's request message: the query string of a GET, else the JSON body."""
    if request.method == "GET":
        return _query_message(request)
    return _body_message(await request.body())


def _query_message(request: Request) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key in request.query_params:
        values = request.query_params.getlist(key)
        found[key] = values if key in _LIST_FIELDS or len(values) > 1 else values[0]
    return found


def _body_message(raw: bytes) -> dict[str, Any]:
    """The JSON object of a request body (``{}`` for an empty one)."""
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MlflowApiError(f"the request body is not valid JSON: {exc}", BAD_REQUEST) from None
    if not isinstance(body, dict):
        raise MlflowApiError("the request body must be a JSON object", BAD_REQUEST)
    return body


def _endpoint(method_name: str) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        try:
            query = _query_message(request) if request.method == "GET" else None
            raw = None if request.method == "GET" else await request.body()
            call = getattr(_api(request), method_name)
            user = getattr(request.state, "token_name", None)
            path_params = request.path_params

            def answer_it() -> Any:  # the body is parsed in the thread pool too (16 MiB)
                found = query if query is not None else _body_message(raw or b"")
                return call({**found, **path_params}, user)

            answer = await run_in_threadpool(answer_it)
        except RunhistoryError as exc:
            return mlflow_error_response(public_error(exc))
        return JsonResponse(answer)

    endpoint.__name__ = f"mlflow_{method_name}"
    endpoint.__doc__ = f"MLflow's ``{method_name}`` (see docs/mlflow.md)."
    return endpoint


async def _list_artifacts(request: Request) -> Response:
    """MLflow's artifact proxy: list what lies under ``?path=``."""
    from runhistory.mlflow_api.artifacts import list_directory

    service = request.app.state.services.tracking
    path = request.query_params.get("path", "")
    return JsonResponse(await run_in_threadpool(list_directory, service, path))


async def _download_artifact(request: Request) -> Response:
    """MLflow's artifact proxy: the bytes of one artifact, or of the ``Range`` asked, streamed."""
    from runhistory.mlflow_api.artifacts import download

    service = request.app.state.services.tracking
    path = request.path_params["artifact_path"]
    name, size, open_range = await run_in_threadpool(download, service, path)
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    header = request.headers.get("range")
    return await run_in_threadpool(
        ranged_response, header, size, open_range, kind, mlflow_error_response
    )


async def _upload_artifact(request: Request) -> Response:
    """MLflow's artifact proxy: store the body as one artifact (a run file)."""
    from runhistory.mlflow_api.artifacts import file_name, model_path

    service = request.app.state.services.tracking
    if model_path(request.path_params["artifact_path"]) is not None:
        raise MlflowApiError(
            "the files of a registered model version are copied from a run's artifacts when "
            "it is registered, and cannot be uploaded to"
        )
    run_id, name = file_name(request.path_params["artifact_path"])
    await run_in_threadpool(service.get_run, run_id)  # unknown run: 404 before the body
    path = await body_to_temp_file(request)
    try:
        await run_in_threadpool(service.upload_file, run_id, name, path)
    finally:
        os.unlink(path)
    return JsonResponse({})


async def _delete_artifact(request: Request) -> Response:
    raise MlflowApiError(
        "runhistory keeps a run's files for good: artifacts cannot be deleted one by one "
        "(delete the run instead)",
        NOT_IMPLEMENTED,
    )


def _multipart(request: Request) -> MultipartProxy:
    from runhistory.mlflow_api.multipart import MultipartProxy

    return per_app(request, "mlflow_multipart", MultipartProxy)


def _artifacts_prefix(request: Request) -> str:
    """``/api/2.0/mlflow-artifacts`` or its ``ajax-api`` twin, as the request used it."""
    path = request.url.path
    return next((p for p in ARTIFACT_PREFIXES if path.startswith(p)), ARTIFACT_PREFIXES[0])


async def _create_multipart(request: Request) -> Response:
    """MLflow's ``mpu/create``: an upload id and one URL (with headers) per part."""
    message = await _message(request)
    base = str(request.base_url).rstrip("/") + _artifacts_prefix(request) + "/mpu/parts"
    path = request.path_params["artifact_path"]
    proxy = _multipart(request)
    return JsonResponse(await run_in_threadpool(proxy.create, path, message, base))


async def _complete_multipart(request: Request) -> Response:
    """MLflow's ``mpu/complete``: join the parts into the run's file."""
    message = await _message(request)
    path = request.path_params["artifact_path"]
    return JsonResponse(await run_in_threadpool(_multipart(request).complete, path, message))


async def _abort_multipart(request: Request) -> Response:
    """MLflow's ``mpu/abort``: drop the upload and the parts sent so far."""
    message = await _message(request)
    path = request.path_params["artifact_path"]
    return JsonResponse(await run_in_threadpool(_multipart(request).abort, path, message))


async def _put_part(request: Request) -> Response:
    """One part of a multipart upload into a local store, guarded by the upload's secret
    (the URL and header ``mpu/create`` handed out; no bearer token needed)."""
    proxy = _multipart(request)
    upload_id = request.path_params["upload_id"]
    secret = request.headers.get(SECRET_HEADER, "")
    number = await run_in_threadpool(
        proxy.check_part, upload_id, request.path_params["part_number"], secret
    )
    body = BlockingBody(request)  # streamed straight into the staging folder
    etag = await run_in_threadpool(proxy.put_part, upload_id, number, secret, body)
    return JsonResponse({}, headers={"ETag": etag})


async def _server_info(request: Request) -> Response:
    """What MLflow's clients ask of a server before multipart transfers and workspaces."""
    multipart = await run_in_threadpool(lambda: _multipart(request).enabled())  # may build a client
    return JsonResponse({
        "store_type": "runhistory", "version": __version__, "workspaces_enabled": False,
        "multipart_uploads_enabled": multipart,
        "multipart_downloads_enabled": False,
        "trace_archival_enabled": False,
    })  # fmt: skip


async def _health(request: Request) -> Response:
    return PlainTextResponse("OK")


def _guarded(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        try:
            answer: Response = await handler(request)
        except RunhistoryError as exc:
            return mlflow_error_response(public_error(exc))
        return answer

    endpoint.__name__ = handler.__name__.lstrip("_")
    endpoint.__doc__ = handler.__doc__
    return endpoint


def router() -> APIRouter:
    """Every MLflow route, each behind the server's authentication."""
    api = APIRouter(dependencies=[Depends(require_token)], include_in_schema=False)
    for prefix in PREFIXES:
        for method, path, name in ROUTES:
            api.add_api_route(prefix + path, _endpoint(name), methods=[method])
    for prefix in ARTIFACT_PREFIXES:
        root = f"{prefix}/artifacts"
        api.add_api_route(root, _guarded(_list_artifacts), methods=["GET"])
        for method, handler in (("GET", _download_artifact), ("PUT", _upload_artifact),
                                ("DELETE", _delete_artifact)):  # fmt: skip
            api.add_api_route(root + "/{artifact_path:path}", _guarded(handler), methods=[method])
        for step, handler in (("create", _create_multipart), ("complete", _complete_multipart),
                              ("abort", _abort_multipart)):  # fmt: skip
            api.add_api_route(f"{prefix}/mpu/{step}/{{artifact_path:path}}", _guarded(handler),
                              methods=["POST"])  # fmt: skip
    return api


def parts_router() -> APIRouter:
    """The part URLs of multipart uploads into a local store: no bearer token (MLflow's client
    sends none to a part URL), each upload's secret header instead."""
    api = APIRouter(include_in_schema=False)
    for prefix in ARTIFACT_PREFIXES:
        api.add_api_route(f"{prefix}/mpu/parts/{{upload_id}}/{{part_number}}",
                          _guarded(_put_part), methods=["PUT"])  # fmt: skip
    return api


def install_mlflow(app: FastAPI) -> None:
    """Mount MLflow's API, ``/health`` and ``server-info`` on ``app``."""
    app.include_router(router())
    app.include_router(parts_router())
    for path in ("/api/3.0/mlflow/server-info", "/ajax-api/3.0/mlflow/server-info"):
        app.add_api_route(path, _server_info, methods=["GET"], include_in_schema=False)
    app.add_api_route("/health", _health, methods=["GET"], include_in_schema=False)
