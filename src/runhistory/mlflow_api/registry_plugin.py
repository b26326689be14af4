"""MLflow's model registry over an embedded workspace: the ``model_registry_store`` plugin of
the ``runhistory:`` scheme (installed with the ``[mlflow]`` extra).

Every call goes through :class:`~runhistory.mlflow_api.api.MlflowApi`, as the registry
endpoints of ``runhistory server`` do.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlparse

from mlflow.entities.model_registry import ModelVersion, RegisteredModel
from mlflow.protos import model_registry_pb2
from mlflow.store.entities.paged_list import PagedList
from mlflow.store.model_registry.abstract_store import AbstractStore
from mlflow.utils.proto_json_utils import parse_dict

from runhistory.mlflow_api.plugin import ARTIFACT_SCHEME, EmbeddedWorkspace, _pairs


def _registered_model(message: dict[str, Any]) -> RegisteredModel:
    proto = model_registry_pb2.RegisteredModel()
    parse_dict(message, proto)  # type: ignore[no-untyped-call]
    return cast(RegisteredModel, RegisteredModel.from_proto(proto))  # type: ignore[no-untyped-call]


def _model_version(message: dict[str, Any]) -> ModelVersion:
    proto = model_registry_pb2.ModelVersion()
    parse_dict(message, proto)  # type: ignore[no-untyped-call]
    return ModelVersion.from_proto(proto)


def proxy_source(source: str) -> str:
    """A ``runhistory-artifacts://<workspace>/<path>`` source as the workspace-free
    ``mlflow-artifacts:/<path>`` the registry keeps (others unchanged)."""
    if source.startswith(f"{ARTIFACT_SCHEME}://"):
        return "mlflow-artifacts:/" + urlparse(source).path.strip("/")
    return source


class RunhistoryRegistryStore(EmbeddedWorkspace, AbstractStore):  # type: ignore[misc]
    """MLflow's model registry store over an embedded runhistory workspace."""

    def __init__(self, store_uri: str | None = None, tracking_uri: str | None = None) -> None:
        super().__init__(store_uri, tracking_uri)  # type: ignore[no-untyped-call]
        self._open_workspace(store_uri)

    # registered models
    def create_registered_model(
        self, name: str, tags: Any = None, description: Any = None, deployment_job_id: Any = None
    ) -> RegisteredModel:
        message = {"name": name, "tags": _pairs(tags), "description": description}
        return _registered_model(self._ask("create_registered_model", message)["registered_model"])

    def update_registered_model(
        self, name: str, description: Any, deployment_job_id: Any = None
    ) -> RegisteredModel:
        answer = self._ask("update_registered_model", {"name": name, "description": description})
        return _registered_model(answer["registered_model"])

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        answer = self._ask("rename_registered_model", {"name": name, "new_name": new_name})
        return _registered_model(answer["registered_model"])

    def delete_registered_model(self, name: str) -> None:
        self._ask("delete_registered_model", {"name": name})

    def search_registered_models(
        self, filter_string: Any = None, max_results: Any = None, order_by: Any = None,
        page_token: Any = None,
    ) -> PagedList:  # fmt: skip
        message = {"filter": filter_string, "max_results": max_results, "order_by": order_by,
                   "page_token": page_token}  # fmt: skip
        answer = self._ask("search_registered_models", message)
        found = [_registered_model(m) for m in answer.get("registered_models", [])]
        return PagedList(found, answer.get("next_page_token"))

    def get_registered_model(self, name: str) -> RegisteredModel:
        answer = self._ask("get_registered_model", {"name": name})
        return _registered_model(answer["registered_model"])

    def get_latest_versions(self, name: str, stages: Any = None) -> list[ModelVersion]:
        answer = self._ask("get_latest_versions", {"name": name, "stages": list(stages or [])})
        return [_model_version(v) for v in answer.get("model_versions", [])]

    def set_registered_model_tag(self, name: str, tag: Any) -> None:
        self._ask("set_registered_model_tag", {"name": name, "key": tag.key, "value": tag.value})

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._ask("delete_registered_model_tag", {"name": name, "key": key})

    # model versions
    def create_model_version(
        self, name: str, source: str, run_id: Any = None, tags: Any = None, run_link: Any = None,
        description: Any = None, local_model_path: Any = None, model_id: Any = None,
    ) -> ModelVersion:  # fmt: skip
        message = {"name": name, "source": proxy_source(source), "run_id": run_id,
                   "tags": _pairs(tags), "description": description}  # fmt: skip
        return _model_version(self._ask("create_model_version", message)["model_version"])

    def update_model_version(self, name: str, version: Any, description: Any) -> ModelVersion:
        message = {"name": name, "version": str(version), "description": description}
        return _model_version(self._ask("update_model_version", message)["model_version"])

    def transition_model_version_stage(
        self, name: str, version: Any, stage: str, archive_existing_versions: bool
    ) -> ModelVersion:
        message = {"name": name, "version": str(version), "stage": stage,
                   "archive_existing_versions": archive_existing_versions}  # fmt: skip
        answer = self._ask("transition_model_version_stage", message)
        return _model_version(answer["model_version"])

    def delete_model_version(self, name: str, version: Any) -> None:
        self._ask("delete_model_version", {"name": name, "version": str(version)})

    def get_model_version(self, name: str, version: Any) -> ModelVersion:
        answer = self._ask("get_model_version", {"name": name, "version": str(version)})
        return _model_version(answer["model_version"])

    def get_model_version_download_uri(self, name: str, version: Any) -> str:
        message = {"name": name, "version": str(version)}
        return str(self._ask("get_model_version_download_uri", message)["artifact_uri"])

    def search_model_versions(
        self, filter_string: Any = None, max_results: Any = None, order_by: Any = None,
        page_token: Any = None,
    ) -> PagedList:  # fmt: skip
        message = {"filter": filter_string, "max_results": max_results, "order_by": order_by,
                   "page_token": page_token}  # fmt: skip
        answer = self._ask("search_model_versions", message)
        found = [_model_version(v) for v in answer.get("model_versions", [])]
        return PagedList(found, answer.get("next_page_token"))

    def set_model_version_tag(self, name: str, version: Any, tag: Any) -> None:
        message = {"name": name, "version": str(version), "key": tag.key, "value": tag.value}
        self._ask("set_model_version_tag", message)

    def delete_model_version_tag(self, name: str, version: Any, key: str) -> None:
        message = {"name": name, "version": str(version), "key": key}
        self._ask("delete_model_version_tag", message)

    # aliases
    def set_registered_model_alias(self, name: str, alias: str, version: Any) -> None:
        message = {"name": name, "alias": alias, "version": str(version)}
        self._ask("set_registered_model_alias", message)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self._ask("delete_registered_model_alias", {"name": name, "alias": alias})

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        answer = self._ask("get_model_version_by_alias", {"name": name, "alias": alias})
        return _model_version(answer["model_version"])
