"""Rules for registered models: versions count up per name, files come from a run."""

from __future__ import annotations

import os
import posixpath
import time
from collections.abc import Sequence

from runhistory.artifacts.base import ArtifactStore
from runhistory.artifacts.paths import validate_artifact_name
from runhistory.errors import ConflictError, NotFoundError, ValidationError
from runhistory.store.base import UNCHANGED, TrackingStore
from runhistory.tracking.entities import ModelInfo, ModelsPage
from runhistory.tracking.files import run_file_key
from runhistory.tracking.mlflow_names import LOGGED_MODEL_TAG
from runhistory.tracking.paging import check_page_size, decode_key_token, encode_key_token, scope_of
from runhistory.tracking.records import RunQuery
from runhistory.tracking.validation import (
    check_filter,
    check_model_name,
    check_optional_text,
    check_properties,
    check_tags,
)

DEFAULT_PAGE_SIZE = 100


def model_file_key(name: str, version: int, relative: str) -> str:
    """Where a file of a registered model version lives in the artifact store."""
    return f"models/{name}/{version}/{relative}"


class ModelRules:
    """The model part of :class:`~runhistory.tracking.service.TrackingService`."""

    store: TrackingStore
    artifacts: ArtifactStore

    def register_model(
        self,
        run_id: str,
        model_name: str,
        model_path: str | None = None,
        tags: object = None,
        properties: object = None,
        model_framework: str | None = None,
        model_framework_version: str | None = None,
        description: str | None = None,
        source: str | None = None,
    ) -> ModelInfo:
        """Register the run file (or folder) ``model_path`` as the next version of a model
        (``source``: where MLflow's registry says the version came from)."""
        check_model_name(model_name)
        _check_fields(description, model_framework, model_framework_version)
        path = validate_artifact_name(model_path or model_name)
        holder, names = run_id, [f.name for f in self.store.list_file_entries(run_id)]
        if not _matching(names, path):
            logged = self._logged_model_files(run_id, path)
            if logged is not None:
                holder, names, path = logged
        matches = _match_files(names, path, run_id)
        base = posixpath.dirname(path)
        relatives = [posixpath.relpath(m, base) if base else m for m in matches]
        return self._register_run_files(
            holder, model_name, matches, relatives, tags, properties, model_framework,
            model_framework_version, description, source, run_id,
        )  # fmt: skip

    def _logged_model_files(self, run_id: str, path: str) -> tuple[str, list[str], str] | None:
        """Where ``path`` of a run is when MLflow 3 logged it as a model of its own.

        MLflow 3 keeps a model that a run logs (``mlflow.sklearn.log_model(m, name="model")``,
        autologging) apart from the run's artifacts, as a logged model (here a child run). For
        ``model/model.pkl`` of the run this answers the newest logged model named ``model`` of
        the run, its files and ``model.pkl``; None when the run has no such logged model.
        """
        head, _, rest = path.partition("/")
        query = RunQuery(parent_run_id=run_id, tags={LOGGED_MODEL_TAG: head}, limit=1)
        found = self.store.search_runs(query)
        if not found:
            return None
        holder = found[0].run_id
        names = [f.name for f in self.store.list_file_entries(holder)]
        if rest and not _matching(names, rest):
            return None
        return holder, names, rest or ""

    def register_run_files(
        self, run_id: str, model_name: str, source: str, recorded_run_id: str | None = None
    ) -> ModelInfo:
        """Register every file of a run (MLflow 3's logged model) as the next version of a
        model; ``recorded_run_id`` is the run the version names (the run itself by default)."""
        check_model_name(model_name)
        names = [f.name for f in self.store.list_file_entries(run_id)]
        if not names:
            raise NotFoundError(f"run {run_id!r} has no files to register as a model")
        return self._register_run_files(
            run_id, model_name, names, names, None, None, None, None, None, source,
            recorded_run_id or run_id,
        )  # fmt: skip

    def _register_run_files(
        self,
        run_id: str,
        model_name: str,
        matches: list[str],
        relatives: list[str],
        tags: object,
        properties: object,
        model_framework: str | None,
        model_framework_version: str | None,
        description: str | None,
        source: str | None,
        recorded_run_id: str,
    ) -> ModelInfo:
        run = self.store.get_run(run_id)
        experiment = self.store.get_experiment(run.experiment_id)
        model = self.store.create_model_version(
            name=model_name,
            created_time=time.time(),
            run_id=recorded_run_id,
            experiment_name=experiment.name,
            description=description,
            framework=model_framework,
            framework_version=model_framework_version,
            tags=check_tags(tags or {}),
            properties=check_properties(properties or {}),
            files=relatives,
            source=source,
        )
        for match, relative in zip(matches, relatives, strict=True):
            target = model_file_key(model_name, model.version, relative)
            self.artifacts.copy(run_file_key(run, match), target)
        return model

    def get_model(self, name: str, version: int | None = None) -> ModelInfo:
        """A model version, the latest when ``version`` is None."""
        return self.store.get_model(name, version)

    def list_models(
        self,
        name: str | None = None,
        tags: object = None,
        properties: object = None,
        run_id: str | None = None,
        latest: bool = False,
        model_framework: str | None = None,
    ) -> list[ModelInfo]:
        """Registered models matching every filter; ``latest`` keeps the newest match per name.

        A tag or property filter is a key, a ``{key: value}`` dict, or the original SDK's list
        of keys and ``[key, value]`` pairs.
        """
        found = self.store.list_models(name=name, run_id=run_id)
        want_tags = check_filter("tag", _pairs_to_dict(tags)) or {}
        want_props = check_filter("property", _pairs_to_dict(properties)) or {}
        matching = [
            m
            for m in found
            if _has(m.tags, want_tags)
            and _has(m.properties, want_props)
            and (model_framework is None or m.framework == model_framework)
        ]
        if latest:
            newest: dict[str, ModelInfo] = {}
            for model in matching:
                if model.name not in newest or model.version > newest[model.name].version:
                    newest[model.name] = model
            matching = [m for m in matching if newest[m.name] is m]
        return matching

    def list_models_page(
        self,
        name: str | None = None,
        tags: object = None,
        properties: object = None,
        run_id: str | None = None,
        latest: bool = False,
        model_framework: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        page_token: str | None = None,
    ) -> ModelsPage:
        """One page of :meth:`list_models` (keyset paging by name and version, never an
        offset): pass its ``next_page_token`` for the next one. A page may hold fewer than
        ``page_size`` models (even none) and still have a next page.

        Raises:
            ValidationError: a bad ``page_size``, or ``page_token`` is not a token of this
                listing (same filters).
        """
        check_page_size(page_size)
        want_tags = check_filter("tag", _pairs_to_dict(tags)) or {}
        want_props = check_filter("property", _pairs_to_dict(properties)) or {}
        scope = scope_of({
            "listing": "models", "name": name, "run_id": run_id, "latest": latest,
            "model_framework": model_framework, "tags": want_tags, "properties": want_props,
        })  # fmt: skip
        after = None
        if page_token is not None:
            last_name, last_version = decode_key_token(page_token, scope, (str, int))
            after = (str(last_name), int(last_version))
        found = self.store.list_models_page(
            name=name, run_id=run_id, after=after, limit=page_size + 1
        )
        more = len(found) > page_size
        scanned = found[:page_size]
        items: list[ModelInfo] = []
        listed_name: str | None = None  # with ``latest``: the name whose newest match is listed
        for model in scanned:
            if latest and model.name == listed_name:
                continue
            if (
                _has(model.tags, want_tags)
                and _has(model.properties, want_props)
                and (model_framework is None or model.framework == model_framework)
            ):
                items.append(model)
                listed_name = model.name
        token = None
        if more:
            last = scanned[-1]
            # With ``latest``, a name whose newest match is listed is skipped to its end.
            version = 0 if latest and last.name == listed_name else last.version
            token = encode_key_token((last.name, version), scope)
        return ModelsPage(items, token)

    def update_model(
        self,
        name: str,
        version: int,
        tags: object = None,
        remove_tags: Sequence[str] = (),
        properties: object = None,
        description: str | None = UNCHANGED,
    ) -> ModelInfo:
        """Merge tags, remove tags, add properties (add-only) and/or set the description."""
        if description is not UNCHANGED:
            check_optional_text(description, "description")
        current = self.store.get_model(name, version)
        props = check_properties(properties or {})
        for key, value in props.items():
            if key in current.properties and current.properties[key] != value:
                raise ConflictError(f"property {key!r} of model {name}:{version} is already set")
        return self.store.update_model(
            name,
            version,
            tags=check_tags(tags or {}),
            remove_tags=list(remove_tags),
            properties=props,
            description=description,
        )

    def download_model(
        self, name: str, version: int, target_dir: str, exist_ok: bool = False
    ) -> str:
        """Copy a model version's files into ``target_dir``; returns the model's path there."""
        model = self.store.get_model(name, version)
        for relative in model.files:
            destination = os.path.join(target_dir, *relative.split("/"))
            if os.path.exists(destination) and not exist_ok:
                raise ConflictError(
                    f"{destination!r} already exists; pass exist_ok=True to overwrite it"
                )
            self.artifacts.get_to_file(model_file_key(name, model.version, relative), destination)
        top = {r.split("/")[0] for r in model.files}
        return os.path.join(target_dir, top.pop()) if len(top) == 1 else target_dir

    def delete_model(self, name: str, version: int) -> None:
        """Delete a model version and its files."""
        self.store.get_model(name, version)
        self.store.delete_model(name, version)
        self.artifacts.delete_prefix(f"models/{name}/{version}")


def _matching(names: list[str], path: str) -> bool:
    """Whether ``path`` is one of ``names`` or a folder holding some (``""``: any file)."""
    folder = path.rstrip("/") + "/" if path else ""
    return path in names or any(n.startswith(folder) for n in names)


def _match_files(names: list[str], path: str, run_id: str) -> list[str]:
    if not path:
        return list(names)
    if path in names:
        return [path]
    under = [n for n in names if n.startswith(path.rstrip("/") + "/")]
    if under:
        return under
    shown = ", ".join(names[:30]) or "no files"
    raise NotFoundError(
        f"model_path {path!r} matches no file of run {run_id!r}; the run has: {shown}"
    )


def _pairs_to_dict(value: object) -> object:
    """``['a', ['b', 'v']]`` (the original SDK's filter form) as ``{'a': None, 'b': 'v'}``."""
    if not isinstance(value, (list, tuple)) or not any(isinstance(v, (list, tuple)) for v in value):
        return value
    result: dict[str, object] = {}
    for item in value:
        if isinstance(item, (list, tuple)):
            if len(item) != 2:
                raise ValidationError(f"a filter pair is [key, value], got {item!r}")
            result[str(item[0])] = item[1]
        else:
            result[str(item)] = None
    return result


def _has(have: dict[str, str | None] | dict[str, str], want: dict[str, str | None]) -> bool:
    return all(k in have and (v is None or have[k] == v) for k, v in want.items())


class LocalModelRules:
    """Registering a model straight from local files (``Model.register``)."""

    store: TrackingStore
    artifacts: ArtifactStore

    def register_local_model(
        self,
        model_name: str,
        relatives: Sequence[str],
        sources: Sequence[str],
        tags: object = None,
        properties: object = None,
        model_framework: str | None = None,
        model_framework_version: str | None = None,
        description: str | None = None,
    ) -> ModelInfo:
        """Register local files (``sources``) as ``relatives`` in the next model version."""
        check_model_name(model_name)
        _check_fields(description, model_framework, model_framework_version)
        checked = [validate_artifact_name(r) for r in relatives]
        model = self.store.create_model_version(
            name=model_name,
            created_time=time.time(),
            description=description,
            framework=model_framework,
            framework_version=model_framework_version,
            tags=check_tags(tags or {}),
            properties=check_properties(properties or {}),
            files=checked,
        )
        for relative, source in zip(checked, sources, strict=True):
            self.artifacts.put_file(model_file_key(model_name, model.version, relative), source)
        return model


def _check_fields(description: object, framework: object, framework_version: object) -> None:
    """The validator's rule for the text fields of a model version."""
    check_optional_text(description, "description")
    check_optional_text(framework, "model_framework", 255)
    check_optional_text(framework_version, "model_framework_version", 255)
