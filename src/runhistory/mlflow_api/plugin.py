"""MLflow logs into an embedded workspace, with no server: a tracking-store and an
artifact-repository plugin for the ``runhistory:`` scheme (installed with the ``[mlflow]``
extra, registered through MLflow's entry points).

``mlflow.set_tracking_uri("runhistory:")`` logs into the default workspace,
``"runhistory:/path/to/workspace"`` (or ``"runhistory:sqlite:///…"``, ``"runhistory:postgresql://…"``)
into that one. Every call goes through :class:`~runhistory.mlflow_api.api.MlflowApi` on the
workspace's tracking service — the same rules and write path as the MLflow REST API of
``runhistory server`` — and MLflow never opens the database itself.
"""

from __future__ import annotations

import os
import posixpath
from typing import Any, cast
from urllib.parse import quote, unquote, urlparse

from mlflow.entities import Experiment, FileInfo, LoggedModel, Run, RunInfo, ViewType
from mlflow.entities.metric import Metric
from mlflow.exceptions import MlflowException
from mlflow.protos import databricks_pb2, service_pb2
from mlflow.store.artifact.artifact_repo import ArtifactRepository
from mlflow.store.entities.paged_list import PagedList
from mlflow.store.tracking.abstract_store import AbstractStore
from mlflow.utils.proto_json_utils import parse_dict

from runhistory import settings
from runhistory.client.backend import connect, home_folder
from runhistory.errors import RunhistoryError
from runhistory.mlflow_api.api import MlflowApi
from runhistory.mlflow_api.artifacts import model_directory, model_path
from runhistory.mlflow_api.errors import error_code_of
from runhistory.mlflow_api.queries import directory
from runhistory.tracking.service import TrackingService

SCHEME = "runhistory"
ARTIFACT_SCHEME = "runhistory-artifacts"


def workspace_uri(store_uri: str) -> str:
    """The workspace behind a ``runhistory:`` URI (the default workspace for a bare scheme)."""
    rest = store_uri.split(":", 1)[1] if ":" in store_uri else ""
    rest = rest[2:] if rest.startswith("//") and not rest.startswith("///") else rest
    found = rest or str(settings.get("RUNHISTORY_TRACKING_URI") or home_folder())
    if found.startswith(("http://", "https://")):
        raise MlflowException(
            f"{store_uri!r} names a runhistory server: give MLflow the server's URL itself "
            f"(mlflow.set_tracking_uri({found!r}))",
            error_code=databricks_pb2.INVALID_PARAMETER_VALUE,
        )
    return found


def _service(store_uri: str) -> TrackingService:
    """The tracking service of the workspace (shared with the SDK of this process)."""
    return cast(TrackingService, connect(workspace_uri(store_uri)).backend)


def mlflow_exception(exc: RunhistoryError) -> MlflowException:
    """The MlflowException MLflow's client would raise for the same answer of a server."""
    code = databricks_pb2.ErrorCode.Value(error_code_of(exc))
    return MlflowException(exc.message, error_code=code)


def _call(method: Any, message: dict[str, Any]) -> dict[str, Any]:
    try:
        answer: dict[str, Any] = method(message, None)
    except RunhistoryError as exc:
        raise mlflow_exception(exc) from None
    return answer


def _embedded(answer: Any, uri: str) -> Any:
    """An answer whose artifact URIs name the embedded artifact repository."""
    if isinstance(answer, dict):
        return {k: _embedded(v, uri) for k, v in answer.items()}
    if isinstance(answer, list):
        return [_embedded(v, uri) for v in answer]
    if isinstance(answer, str) and answer.startswith("mlflow-artifacts:/"):
        return (
            f"{ARTIFACT_SCHEME}://{quote(uri, safe='')}/{answer.removeprefix('mlflow-artifacts:/')}"
        )
    return answer


def _run(message: dict[str, Any]) -> Run:
    proto = service_pb2.Run()
    parse_dict(message, proto)  # type: ignore[no-untyped-call]
    return Run.from_proto(proto)


def _experiment(message: dict[str, Any]) -> Experiment:
    proto = service_pb2.Experiment()
    parse_dict(message, proto)  # type: ignore[no-untyped-call]
    return Experiment.from_proto(proto)


def _pairs(items: Any) -> list[dict[str, str]]:
    if isinstance(items, dict):
        return [{"key": k, "value": str(v)} for k, v in items.items()]
    return [{"key": t.key, "value": t.value} for t in items or []]


def _metric(metric: Metric) -> dict[str, Any]:
    return {
        "key": metric.key,
        "value": metric.value,
        "timestamp": metric.timestamp,
        "step": metric.step,
    }


def _view(view_type: Any) -> str:
    return str(ViewType.to_string(view_type)).upper() if isinstance(view_type, int) else view_type


class EmbeddedWorkspace:
    """What the plugin stores share: the workspace of a ``runhistory:`` URI, opened in this
    process, and the MLflow API over it."""

    store_uri: str
    workspace: str
    api: MlflowApi

    def _open_workspace(self, store_uri: str | None) -> None:
        self.store_uri = store_uri or f"{SCHEME}:"
        self.workspace = workspace_uri(self.store_uri)
        self.api = MlflowApi(_service(self.store_uri))

    def _ask(self, name: str, message: dict[str, Any]) -> dict[str, Any]:
        """The answer of API method ``name`` to ``message`` (artifact URIs made embedded)."""
        return cast(
            dict[str, Any], _embedded(_call(getattr(self.api, name), message), self.workspace)
        )


class RunhistoryTrackingStore(EmbeddedWorkspace, AbstractStore):  # type: ignore[misc]
    """MLflow's tracking store over an embedded runhistory workspace."""

    def __init__(self, store_uri: str | None = None, artifact_uri: str | None = None) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._open_workspace(store_uri)

    # experiments
    def search_experiments(
        self,
        view_type: Any = ViewType.ACTIVE_ONLY,
        max_results: Any = 1000,
        filter_string: Any = None,
        order_by: Any = None,
        page_token: Any = None,
    ) -> PagedList:
        answer = self._ask(
            "search_experiments",
            {
                "view_type": _view(view_type),
                "max_results": max_results,
                "filter": filter_string,
                "order_by": order_by,
                "page_token": page_token,
            },
        )
        found = [_experiment(e) for e in answer.get("experiments", [])]
        return PagedList(found, answer.get("next_page_token"))

    def create_experiment(self, name: str, artifact_location: Any = None, tags: Any = None) -> str:
        message = {"name": name, "tags": _pairs(tags)}
        return str(self._ask("create_experiment", message)["experiment_id"])

    def get_experiment(self, experiment_id: str) -> Experiment:
        return _experiment(
            self._ask("get_experiment", {"experiment_id": experiment_id})["experiment"]
        )

    def get_experiment_by_name(self, experiment_name: str) -> Experiment | None:
        try:
            answer = self._ask("get_experiment_by_name", {"experiment_name": experiment_name})
        except MlflowException as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                return None
            raise
        return _experiment(answer["experiment"])

    def delete_experiment(self, experiment_id: str) -> None:
        self._ask("delete_experiment", {"experiment_id": experiment_id})

    def restore_experiment(self, experiment_id: str) -> None:
        self._ask("restore_experiment", {"experiment_id": experiment_id})

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self._ask("update_experiment", {"experiment_id": experiment_id, "new_name": new_name})

    def set_experiment_tag(self, experiment_id: str, tag: Any) -> None:
        message = {"experiment_id": experiment_id, "key": tag.key, "value": tag.value}
        self._ask("set_experiment_tag", message)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self._ask("delete_experiment_tag", {"experiment_id": experiment_id, "key": key})

    # runs
    def get_run(self, run_id: str) -> Run:
        return _run(self._ask("get_run", {"run_id": run_id})["run"])

    def update_run_info(
        self, run_id: str, run_status: Any, end_time: Any, run_name: Any
    ) -> RunInfo:
        from mlflow.entities import RunStatus

        status = RunStatus.to_string(run_status) if isinstance(run_status, int) else run_status
        answer = self._ask(
            "update_run",
            {"run_id": run_id, "status": status, "end_time": end_time, "run_name": run_name},
        )
        return _run({"info": answer["run_info"]}).info

    def create_run(
        self, experiment_id: str, user_id: Any, start_time: Any, tags: Any, run_name: Any
    ) -> Run:
        message = {
            "experiment_id": experiment_id,
            "user_id": user_id,
            "start_time": start_time,
            "tags": _pairs(tags),
            "run_name": run_name,
        }
        return _run(self._ask("create_run", message)["run"])

    def delete_run(self, run_id: str) -> None:
        self._ask("delete_run", {"run_id": run_id})

    def restore_run(self, run_id: str) -> None:
        self._ask("restore_run", {"run_id": run_id})

    def log_metric(self, run_id: str, metric: Metric) -> None:
        self._ask("log_metric", {"run_id": run_id, **_metric(metric)})

    def log_param(self, run_id: str, param: Any) -> None:
        self._ask("log_param", {"run_id": run_id, "key": param.key, "value": str(param.value)})

    def set_tag(self, run_id: str, tag: Any) -> None:
        self._ask("set_tag", {"run_id": run_id, "key": tag.key, "value": tag.value})

    def delete_tag(self, run_id: str, key: str) -> None:
        self._ask("delete_tag", {"run_id": run_id, "key": key})

    def log_batch(self, run_id: str, metrics: Any, params: Any, tags: Any) -> None:
        message = {
            "run_id": run_id,
            "metrics": [_metric(m) for m in metrics or []],
            "params": [{"key": p.key, "value": str(p.value)} for p in params or []],
            "tags": _pairs(tags),
        }
        self._ask("log_batch", message)

    def log_inputs(self, run_id: str, datasets: Any = None, models: Any = None) -> None:
        items = [
            {
                "dataset": {
                    "name": d.dataset.name,
                    "digest": d.dataset.digest,
                    "source_type": d.dataset.source_type,
                },
                "tags": _pairs(d.tags),
            }
            for d in datasets or []
        ]
        self._ask("log_inputs", {"run_id": run_id, "datasets": items})

    def get_metric_history(
        self, run_id: str, metric_key: str, max_results: Any = None, page_token: Any = None
    ) -> PagedList:
        answer = self._ask(
            "get_metric_history",
            {
                "run_id": run_id,
                "metric_key": metric_key,
                "max_results": max_results,
                "page_token": page_token,
            },
        )
        found = [
            Metric(m["key"], float(m["value"]), int(m["timestamp"]), int(m["step"]))
            for m in answer.get("metrics", [])
        ]
        return PagedList(found, answer.get("next_page_token"))

    def _search_runs(
        self,
        experiment_ids: Any,
        filter_string: Any,
        run_view_type: Any,
        max_results: Any,
        order_by: Any,
        page_token: Any,
    ) -> tuple[list[Run], Any]:
        answer = self._ask(
            "search_runs",
            {
                "experiment_ids": list(experiment_ids),
                "filter": filter_string,
                "run_view_type": _view(run_view_type),
                "max_results": max_results,
                "order_by": order_by,
                "page_token": page_token,
            },
        )
        return [_run(r) for r in answer.get("runs", [])], answer.get("next_page_token")

    # logged models (MLflow 3)
    def create_logged_model(
        self, experiment_id: str, name: Any = None, source_run_id: Any = None, tags: Any = None,
        params: Any = None, model_type: Any = None,
    ) -> LoggedModel:  # fmt: skip
        message = {
            "experiment_id": experiment_id, "name": name, "source_run_id": source_run_id,
            "tags": _pairs(tags), "params": _pairs(params), "model_type": model_type,
        }  # fmt: skip
        return _logged_model(self._ask("create_logged_model", message)["model"])

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        return _logged_model(self._ask("get_logged_model", {"model_id": model_id})["model"])

    def finalize_logged_model(self, model_id: str, status: Any) -> LoggedModel:
        message = {"model_id": model_id, "status": str(getattr(status, "value", status))}
        return _logged_model(self._ask("finalize_logged_model", message)["model"])

    def delete_logged_model(self, model_id: str) -> None:
        self._ask("delete_logged_model", {"model_id": model_id})

    def set_logged_model_tags(self, model_id: str, tags: Any) -> None:
        self._ask("set_logged_model_tags", {"model_id": model_id, "tags": _pairs(tags)})

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        self._ask("delete_logged_model_tag", {"model_id": model_id, "tag_key": key})

    def log_logged_model_params(self, model_id: str, params: Any) -> None:
        self._ask("log_logged_model_params", {"model_id": model_id, "params": _pairs(params)})

    def log_outputs(self, run_id: str, models: Any) -> None:
        items = [{"model_id": m.model_id, "step": m.step} for m in models or []]
        self._ask("log_outputs", {"run_id": run_id, "models": items})

    def search_logged_models(
        self,
        experiment_ids: Any,
        filter_string: Any = None,
        datasets: Any = None,
        max_results: Any = None,
        order_by: Any = None,
        page_token: Any = None,
    ) -> PagedList:
        message = {
            "experiment_ids": list(experiment_ids), "filter": filter_string,
            "max_results": max_results, "order_by": order_by, "page_token": page_token,
        }  # fmt: skip
        answer = self._ask("search_logged_models", message)
        found = [_logged_model(m) for m in answer.get("models", [])]
        return PagedList(found, answer.get("next_page_token"))


def _logged_model(message: dict[str, Any]) -> LoggedModel:
    proto = service_pb2.LoggedModel()
    parse_dict(message, proto)  # type: ignore[no-untyped-call]
    return LoggedModel.from_proto(proto)


class RunhistoryArtifactRepository(ArtifactRepository):  # type: ignore[misc]
    """MLflow's artifact repository over a run's files in an embedded workspace.

    Its URIs are ``runhistory-artifacts://<workspace, %-encoded>/<experiment id>/<run id>/
    artifacts``.
    """

    def __init__(
        self, artifact_uri: str, tracking_uri: str | None = None, registry_uri: str | None = None
    ) -> None:
        super().__init__(artifact_uri, tracking_uri, registry_uri)
        parsed = urlparse(artifact_uri)
        self.path = parsed.path.strip("/")
        self.service = _service(f"{SCHEME}:{unquote(parsed.netloc)}")
        self.model = model_path(self.path)  # a registered model version's files
        if self.model is not None:
            self.run_id, self.root = "", self.model[2]
            return
        parts = self.path.split("/", 3)
        if len(parts) < 3 or parts[2] != "artifacts":
            raise MlflowException(f"not an artifact URI of a runhistory run: {artifact_uri!r}")
        self.run_id = parts[1]
        self.root = parts[3] if len(parts) == 4 else ""

    def _name(self, *parts: str | None) -> str:
        return posixpath.join(self.root, *(p for p in parts if p)).strip("/")

    def log_artifact(self, local_file: str, artifact_path: str | None = None) -> None:
        if self.model is not None:
            raise MlflowException(
                "the files of a registered model version are copied from a run's artifacts "
                "when it is registered, and cannot be uploaded to",
                error_code=databricks_pb2.INVALID_PARAMETER_VALUE,
            )
        name = self._name(artifact_path, os.path.basename(local_file))
        try:
            self.service.upload_file(self.run_id, name, local_file)
        except RunhistoryError as exc:
            raise mlflow_exception(exc) from None

    def log_artifacts(self, local_dir: str, artifact_path: str | None = None) -> None:
        for root, _, files in os.walk(local_dir):
            relative = os.path.relpath(root, local_dir)
            folder = "" if relative == "." else relative.replace(os.sep, "/")
            for file in files:
                self.log_artifact(os.path.join(root, file), self._join(artifact_path, folder))

    @staticmethod
    def _join(*parts: str | None) -> str | None:
        joined = posixpath.join(*(p for p in parts if p)) if any(parts) else None
        return joined or None

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        base = self._name(path)
        if self.model is not None:
            names = self._call(self.service.model_file_names, self.model[0], self.model[1])
            return [
                FileInfo(posixpath.join(path, name) if path else name, is_dir, None)
                for name, is_dir in model_directory(names, base)
            ]
        found = [
            FileInfo(posixpath.join(path, name) if path else name, is_dir, None if is_dir else size)
            for name, is_dir, size in directory(self.service, self.run_id, base)
        ]
        return found

    def _download_file(self, remote_file_path: str, local_path: str) -> None:
        name = self._name(remote_file_path)
        if self.model is not None:
            model, version = self.model[0], self.model[1]
            self._call(self.service.download_model_file, model, version, name, local_path)
            return
        self._call(self.service.download_file, self.run_id, name, local_path)

    @staticmethod
    def _call(method: Any, *args: Any) -> Any:
        try:
            return method(*args)
        except RunhistoryError as exc:
            raise mlflow_exception(exc) from None
