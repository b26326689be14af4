"""MLflow's model registry on runhistory's registered models (see docs/mlflow.md).

A registered model is a runhistory model name (its own description, tags and aliases); a model
version is a runhistory ``Model`` version: its files are copied from the run's artifacts it is
registered from, its tags are the ``Model``'s tags, its stage and source are kept with it.
"""

from __future__ import annotations

from typing import Any

from runhistory.errors import ConflictError, NotFoundError
from runhistory.mlflow_api import mapping as mp
from runhistory.mlflow_api.artifacts import MODELS_PREFIX
from runhistory.mlflow_api.errors import (
    RESOURCE_ALREADY_EXISTS,
    RESOURCE_DOES_NOT_EXIST,
    MlflowApiError,
)
from runhistory.mlflow_api.fields import key_of, list_of, pairs, value_of
from runhistory.mlflow_api.runs import MlflowRuns
from runhistory.mlflow_api.search import keyset_page, matches, parse_filter, parse_order_by
from runhistory.store.base import UNCHANGED
from runhistory.tracking.entities import ModelInfo, RegisteredModelInfo, RunInfo
from runhistory.tracking.service import TrackingService

MODEL_ATTRIBUTES = frozenset(("name", "creation_timestamp", "last_updated_timestamp", "timestamp"))
VERSION_ATTRIBUTES = frozenset(
    ("name", "version_number", "run_id", "source_path", "current_stage", "creation_timestamp",
     "last_updated_timestamp", "timestamp")
)  # fmt: skip
RUNS_SCHEME = "runs:/"
MODELS_SCHEME = "models:/"
PROXY_SCHEME = "mlflow-artifacts:/"


def model_name(body: dict[str, Any], field: str = "name") -> str:
    name = body.get(field)
    if not isinstance(name, str) or not name:
        raise MlflowApiError(f"Missing value for required parameter '{field}'. got {name!r:.80}")
    return name


def version_of(body: dict[str, Any]) -> int:
    version = body.get("version")
    try:
        number = int(str(version))
    except ValueError:
        number = 0
    if number < 1:
        raise MlflowApiError(f"Model version must be a positive integer, got {version!r:.40}")
    return number


def download_path(model: ModelInfo) -> str:
    """The artifact proxy path of a model version's files (its top folder, when it has one)."""
    base = f"{MODELS_PREFIX}/{model.name}/{model.version}"
    tops = {f.split("/", 1)[0] for f in model.files}
    nested = all("/" in f for f in model.files)
    return f"{base}/{tops.pop()}" if len(tops) == 1 and nested else base


def version_json(model: ModelInfo, aliases: dict[str, int] | None = None) -> dict[str, Any]:
    """A model version as MLflow's ``ModelVersion`` message."""
    answer: dict[str, Any] = {
        "name": model.name,
        "version": str(model.version),
        "creation_timestamp": mp.millis(model.created_time),
        "last_updated_timestamp": mp.millis(model.updated_time or model.created_time),
        "current_stage": model.stage or "None",
        "description": model.description or "",
        "source": model.source or PROXY_SCHEME + download_path(model),
        "run_id": model.run_id or "",
        "status": "READY",
        "tags": [{"key": k, "value": v or ""} for k, v in sorted(model.tags.items())],
        "aliases": sorted(a for a, v in (aliases or {}).items() if v == model.version),
    }
    logged = (model.source or "").removeprefix(MODELS_SCHEME)
    if model.source and model.source.startswith(MODELS_SCHEME) and "/" not in logged.strip("/"):
        answer["model_id"] = logged.strip("/")
    return answer


def _latest_versions(versions: list[ModelInfo]) -> list[ModelInfo]:
    """The newest version of each stage (MLflow's ``latest_versions``)."""
    newest: dict[str, ModelInfo] = {}
    for model in versions:
        stage = model.stage or "None"
        if stage not in newest or model.version > newest[stage].version:
            newest[stage] = model
    return sorted(newest.values(), key=lambda m: m.version)


class MlflowRegistry:
    """The model registry calls of MLflow's REST API, answered by ``service``."""

    def __init__(self, service: TrackingService, runs: MlflowRuns) -> None:
        self.service = service
        self.runs = runs

    # ---- registered models ----------------------------------------------------------
    def _model(self, name: str) -> RegisteredModelInfo:
        try:
            return self.service.get_registered_model(name)
        except NotFoundError:
            raise MlflowApiError(
                f"Registered Model with name={name} not found", RESOURCE_DOES_NOT_EXIST
            ) from None

    def _version(self, name: str, version: int) -> ModelInfo:
        self._model(name)
        try:
            return self.service.get_model(name, version)
        except NotFoundError:
            raise MlflowApiError(
                f"Model Version (name={name}, version={version}) not found",
                RESOURCE_DOES_NOT_EXIST,
            ) from None

    def model_json(
        self, model: RegisteredModelInfo, versions: list[ModelInfo] | None = None
    ) -> dict[str, Any]:
        """A registered model as MLflow's ``RegisteredModel`` message."""
        if versions is None:
            versions = self.service.list_models(name=model.name)
        return {
            "name": model.name,
            "creation_timestamp": mp.millis(model.created_time),
            "last_updated_timestamp": mp.millis(model.updated_time),
            "description": model.description or "",
            "latest_versions": [version_json(v, model.aliases) for v in _latest_versions(versions)],
            "tags": [{"key": k, "value": v or ""} for k, v in sorted(model.tags.items())],
            "aliases": [{"alias": a, "version": str(v)} for a, v in sorted(model.aliases.items())],
        }

    def create_model(self, body: dict[str, Any]) -> dict[str, Any]:
        """``registered-models/create``."""
        name = model_name(body)
        tags = pairs(body.get("tags"), "tags")
        try:
            created = self.service.create_registered_model(
                name, description=body.get("description") or None, tags=tags
            )
        except ConflictError:
            raise MlflowApiError(
                f"Registered Model (name={name}) already exists.", RESOURCE_ALREADY_EXISTS
            ) from None
        return {"registered_model": self.model_json(created, [])}

    def get_model(self, body: dict[str, Any]) -> dict[str, Any]:
        """``registered-models/get``."""
        return {"registered_model": self.model_json(self._model(model_name(body)))}

    def rename_model(self, body: dict[str, Any]) -> dict[str, Any]:
        """``registered-models/rename`` (its versions, files, tags and aliases move with it)."""
        name, new_name = model_name(body), model_name(body, "new_name")
        self._model(name)
        try:
            renamed = self.service.rename_registered_model(name, new_name)
        except ConflictError:
            raise MlflowApiError(
                f"Registered Model (name={new_name}) already exists.", RESOURCE_ALREADY_EXISTS
            ) from None
        return {"registered_model": self.model_json(renamed)}

    def update_model(self, body: dict[str, Any]) -> dict[str, Any]:
        """``registered-models/update``: the description."""
        name = model_name(body)
        self._model(name)
        description = body.get("description")
        updated = self.service.update_registered_model(
            name, description=UNCHANGED if description is None else description or None
        )
        return {"registered_model": self.model_json(updated)}

    def delete_model(self, body: dict[str, Any]) -> dict[str, Any]:
        """``registered-models/delete``: with all its versions and their files."""
        name = model_name(body)
        self._model(name)
        self.service.delete_registered_model(name)
        return {}

    def search_models(self, body: dict[str, Any]) -> dict[str, Any]:
        """``registered-models/search``: filter on ``name`` and ``tags.<key>``, ordered, paged."""
        clauses = parse_filter(body.get("filter"), MODEL_ATTRIBUTES)
        order = parse_order_by(list_of(body.get("order_by")), MODEL_ATTRIBUTES)
        versions: dict[str, list[ModelInfo]] = {}
        for version in self.service.list_models():
            versions.setdefault(version.name, []).append(version)
        records: list[dict[str, Any]] = []
        for model in self.service.list_registered_models():
            record: dict[str, Any] = {
                "attributes": {
                    "name": model.name,
                    "creation_timestamp": float(mp.millis(model.created_time) or 0),
                    "last_updated_timestamp": float(mp.millis(model.updated_time) or 0),
                },
                "tags": dict(model.tags),
                "model": model,
            }
            record["attributes"]["timestamp"] = record["attributes"]["last_updated_timestamp"]
            if all(_clause_matches(c, record) for c in clauses):
                records.append(record)
        by_name = parse_order_by(["name"], MODEL_ATTRIBUTES)
        page, token = keyset_page(records, [*order, *by_name], body, "models", (100, 1000))
        answer: dict[str, Any] = {
            "registered_models": [
                self.model_json(r["model"], versions.get(r["model"].name, [])) for r in page
            ]
        }
        if token:
            answer["next_page_token"] = token
        return answer

    def get_latest_versions(self, body: dict[str, Any]) -> dict[str, Any]:
        """``registered-models/get-latest-versions``: the newest version of each stage."""
        name = model_name(body)
        model = self._model(name)
        stages = {s.lower() for s in list_of(body.get("stages"))}
        latest = _latest_versions(self.service.list_models(name=name))
        kept = [v for v in latest if not stages or (v.stage or "None").lower() in stages]
        return {"model_versions": [version_json(v, model.aliases) for v in kept]}

    def set_model_tag(self, body: dict[str, Any]) -> dict[str, Any]:
        """``registered-models/set-tag``."""
        name = model_name(body)
        self._model(name)
        self.service.update_registered_model(name, tags={key_of(body): value_of(body)})
        return {}

    def delete_model_tag(self, body: dict[str, Any]) -> dict[str, Any]:
        """``registered-models/delete-tag``."""
        name, key = model_name(body), key_of(body)
        if key not in self._model(name).tags:
            raise MlflowApiError(
                f"No tag with name: {key} in registered model {name}", RESOURCE_DOES_NOT_EXIST
            )
        self.service.update_registered_model(name, remove_tags=[key])
        return {}

    # ---- aliases --------------------------------------------------------------------
    def set_alias(self, body: dict[str, Any]) -> dict[str, Any]:
        """``registered-models/alias`` (POST): point the alias at a version."""
        name, version = model_name(body), version_of(body)
        self._version(name, version)
        self.service.set_model_alias(name, model_name(body, "alias"), version)
        return {}

    def delete_alias(self, body: dict[str, Any]) -> dict[str, Any]:
        """``registered-models/alias`` (DELETE)."""
        name, alias = model_name(body), model_name(body, "alias")
        self._model(name)
        self.service.delete_model_alias(name, alias)
        return {}

    def get_by_alias(self, body: dict[str, Any]) -> dict[str, Any]:
        """``registered-models/alias`` (GET): the version the alias points at."""
        name, alias = model_name(body), model_name(body, "alias")
        model = self._model(name)
        if alias not in model.aliases:
            raise MlflowApiError(
                f"Registered model alias {alias} not found.", RESOURCE_DOES_NOT_EXIST
            )
        version = self._version(name, model.aliases[alias])
        return {"model_version": version_json(version, model.aliases)}

    # ---- model versions -------------------------------------------------------------
    def create_version(self, body: dict[str, Any]) -> dict[str, Any]:
        """``model-versions/create`` from a run's artifacts (``runs:/<run id>/<path>`` or the
        run's artifact URI) or from another registered version (``models:/<name>/<version>``)."""
        name = model_name(body)
        self._model(name)
        source = body.get("source")
        if not isinstance(source, str) or not source:
            raise MlflowApiError(f"Missing value for required parameter 'source'. got {source!r}")
        tags = pairs(body.get("tags"), "tags")
        description = body.get("description") or None
        logged = source.removeprefix(MODELS_SCHEME).strip("/")
        if source.startswith(MODELS_SCHEME) and logged and "/" not in logged:
            model = self._logged_model(logged)  # models:/<model id>: MLflow 3's logged model
            created = self.service.register_run_files(
                model.run_id, name, source, model.parent_run_id or model.run_id
            )
        elif source.startswith(MODELS_SCHEME):
            from_name, from_version = self._registered_source(source)
            created = self.service.copy_model_version(from_name, from_version, name, source)
        else:
            run_id, path = run_source(source)
            given = body.get("run_id")
            if given and given != run_id:
                raise MlflowApiError(
                    f"run_id {given!r} does not match the run of source {source!r}"
                )
            created = self.service.register_model(
                run_id, name, model_path=path, description=description, source=source
            )
        if tags or (description and created.description != description):
            created = self.service.update_model(
                name, created.version, tags=tags, description=description
            )
        return {"model_version": version_json(created)}

    def _logged_model(self, model_id: str) -> RunInfo:
        try:
            run = self.service.get_run(model_id)
        except NotFoundError:
            run = None
        if run is None or mp.LOGGED_MODEL_TAG not in run.tags:
            raise MlflowApiError(
                f"Logged model with ID '{model_id}' not found.", RESOURCE_DOES_NOT_EXIST
            )
        return run

    def _registered_source(self, source: str) -> tuple[str, int]:
        rest = source.removeprefix(MODELS_SCHEME).strip("/")
        name, _, version = rest.rpartition("/")
        if not name:
            raise MlflowApiError(
                f"source {source!r}: runhistory registers from models:/<name>/<version> or from "
                "a run's artifacts (runs:/<run id>/<path>); MLflow 3 logged models "
                "(models:/m-…) are not stored"
            )
        model = self._model(name)
        number = model.aliases.get(version.lstrip("@"))
        if number is None:
            number = version_of({"version": version})
        return name, self._version(name, number).version

    def get_version(self, body: dict[str, Any]) -> dict[str, Any]:
        """``model-versions/get``."""
        name, version = model_name(body), version_of(body)
        found = self._version(name, version)
        return {"model_version": version_json(found, self._model(name).aliases)}

    def update_version(self, body: dict[str, Any]) -> dict[str, Any]:
        """``model-versions/update``: the description."""
        name, version = model_name(body), version_of(body)
        self._version(name, version)
        description = body.get("description")
        updated = self.service.update_model(
            name, version, description=UNCHANGED if description is None else description or None
        )
        return {"model_version": version_json(updated, self._model(name).aliases)}

    def transition_stage(self, body: dict[str, Any]) -> dict[str, Any]:
        """``model-versions/transition-stage`` (MLflow 2's stages; optionally archiving the
        other versions in that stage)."""
        name, version = model_name(body), version_of(body)
        self._version(name, version)
        moved = self.service.set_model_stage(name, version, str(body.get("stage")))
        if str(body.get("archive_existing_versions")).lower() == "true" and moved.stage in (
            "Staging",
            "Production",
        ):
            for other in self.service.list_models(name=name):
                if other.version != version and other.stage == moved.stage:
                    self.service.set_model_stage(name, other.version, "Archived")
        return {"model_version": version_json(moved, self._model(name).aliases)}

    def delete_version(self, body: dict[str, Any]) -> dict[str, Any]:
        """``model-versions/delete`` (with its files and the aliases naming it)."""
        name, version = model_name(body), version_of(body)
        self._version(name, version)
        self.service.delete_model(name, version)
        return {}

    def download_uri(self, body: dict[str, Any]) -> dict[str, Any]:
        """``model-versions/get-download-uri``: the version's files in the artifact proxy."""
        found = self._version(model_name(body), version_of(body))
        return {"artifact_uri": PROXY_SCHEME + download_path(found)}

    def search_versions(self, body: dict[str, Any]) -> dict[str, Any]:
        """``model-versions/search``: filter on ``name``, ``run_id``, ``version_number``,
        ``source_path`` and ``tags.<key>``, ordered (newest first by default), paged."""
        clauses = parse_filter(body.get("filter"), VERSION_ATTRIBUTES)
        order = parse_order_by(list_of(body.get("order_by")), VERSION_ATTRIBUTES)
        aliases = {m.name: m.aliases for m in self.service.list_registered_models()}
        records: list[dict[str, Any]] = []
        for version in self.service.list_models():
            created = float(mp.millis(version.created_time) or 0)
            updated = float(mp.millis(version.updated_time or version.created_time) or 0)
            record = {
                "attributes": {
                    "name": version.name,
                    "version_number": float(version.version),
                    "run_id": version.run_id or "",
                    "source_path": version.source or "",
                    "current_stage": version.stage or "None",
                    "creation_timestamp": created,
                    "last_updated_timestamp": updated,
                    "timestamp": updated,
                },
                "tags": dict(version.tags),
                "model": version,
            }
            if all(_clause_matches(c, record) for c in clauses):
                records.append(record)
        default = parse_order_by(
            ["last_updated_timestamp DESC", "name", "version_number DESC"], VERSION_ATTRIBUTES
        )
        page, token = keyset_page(records, [*order, *default], body, "versions", (10_000, 200_000))
        answer: dict[str, Any] = {
            "model_versions": [version_json(r["model"], aliases.get(r["model"].name)) for r in page]
        }
        if token:
            answer["next_page_token"] = token
        return answer

    def set_version_tag(self, body: dict[str, Any]) -> dict[str, Any]:
        """``model-versions/set-tag``."""
        name, version = model_name(body), version_of(body)
        self._version(name, version)
        self.service.update_model(name, version, tags={key_of(body): value_of(body)})
        return {}

    def delete_version_tag(self, body: dict[str, Any]) -> dict[str, Any]:
        """``model-versions/delete-tag``."""
        name, version, key = model_name(body), version_of(body), key_of(body)
        if key not in self._version(name, version).tags:
            raise MlflowApiError(
                f"No tag with name: {key} in model version {name}:{version}",
                RESOURCE_DOES_NOT_EXIST,
            )
        self.service.update_model(name, version, remove_tags=[key])
        return {}


def run_source(source: str) -> tuple[str, str]:
    """``(run id, artifact path)`` of a run's artifacts named by ``runs:/<run id>/<path>`` or
    ``mlflow-artifacts:/<experiment id>/<run id>/artifacts/<path>``."""
    if source.startswith(RUNS_SCHEME):
        run_id, _, path = source.removeprefix(RUNS_SCHEME).strip("/").partition("/")
    elif source.startswith(PROXY_SCHEME):
        parts = source.removeprefix(PROXY_SCHEME).strip("/").split("/", 3)
        if len(parts) < 3 or parts[2] != "artifacts":
            raise MlflowApiError(f"source {source!r} names no run's artifacts")
        run_id, path = parts[1], parts[3] if len(parts) == 4 else ""
    else:
        raise MlflowApiError(
            f"Invalid model version source: {source!r}. runhistory registers a model version "
            "from a run's artifacts (runs:/<run id>/<path>, or the run's artifact URI) or "
            "from another version (models:/<name>/<version>)"
        )
    if not run_id or not path:
        raise MlflowApiError(f"source {source!r} must name a file or folder of a run's artifacts")
    return run_id, path


def _clause_matches(clause: Any, record: dict[str, Any]) -> bool:
    if clause.entity not in ("tags", "attributes"):
        raise MlflowApiError(f"the model registry is searched by attributes and tags, not "
                             f"{clause.entity}")  # fmt: skip
    value = record[clause.entity].get(clause.key)
    if value is None and clause.op == "!=":
        # MLflow's client leaves prompts out with tags.`mlflow.prompt.is_prompt` != 'true':
        # a model without the tag matches, as on MLflow's server.
        return True
    return matches(clause, value)
