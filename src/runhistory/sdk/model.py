"""Model: a registered, versioned model made of files."""

from __future__ import annotations

import builtins
import os
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from runhistory.errors import NotFoundError, ValidationError
from runhistory.sdk.timefmt import iso_utc
from runhistory.tracking.entities import ModelInfo

if TYPE_CHECKING:
    from runhistory.client.protocol import Backend
    from runhistory.sdk.workspace import Workspace

_CLOUD_ONLY = "is part of cloud deployment, which runhistory does not provide"


class Model:
    """A registered model version.

    ``Model(ws, name)`` is the latest version; ``Model(ws, name, version=2)`` or
    ``Model(ws, id="name:2")`` a given one. New versions come from ``run.register_model``
    or ``Model.register``.
    """

    class Framework:
        """Names of common model frameworks."""

        CUSTOM = "Custom"
        MULTI = "Multi"
        ONNX = "Onnx"
        PYTORCH = "PyTorch"
        SCIKITLEARN = "ScikitLearn"
        TENSORFLOW = "TensorFlow"

    def __init__(
        self,
        workspace: Workspace,
        name: str | None = None,
        id: str | None = None,
        tags: Any = None,
        properties: Any = None,
        version: int | None = None,
        run_id: str | None = None,
        model_framework: str | None = None,
        expand: bool = True,
        **kwargs: Any,
    ) -> None:
        self._workspace = workspace
        info = kwargs.get("_info")
        if info is None:
            info = _find(workspace, name, id, tags, properties, version, run_id, model_framework)
        self._info: ModelInfo = info

    @classmethod
    def _from_info(cls, workspace: Workspace, info: ModelInfo) -> Model:
        return cls(workspace, _info=info)

    @property
    def _backend(self) -> Backend:
        return self._workspace._connection.backend

    # ---- attributes -----------------------------------------------------------------
    @property
    def name(self) -> str:
        """The model name."""
        return self._info.name

    @property
    def version(self) -> int:
        """The version number (1, 2, …)."""
        return self._info.version

    @property
    def id(self) -> str:
        """``name:version``."""
        return self._info.model_id

    @property
    def tags(self) -> dict[str, str | None]:
        """The model's tags."""
        return dict(self._info.tags)

    @property
    def properties(self) -> dict[str, str]:
        """The model's properties."""
        return dict(self._info.properties)

    @property
    def description(self) -> str | None:
        """The model's description."""
        return self._info.description

    @property
    def run_id(self) -> str | None:
        """The run the model was registered from."""
        return self._info.run_id

    @property
    def experiment_name(self) -> str | None:
        """The experiment of that run."""
        return self._info.experiment_name

    @property
    def model_framework(self) -> str | None:
        """The framework the model was made with."""
        return self._info.framework

    @property
    def model_framework_version(self) -> str | None:
        """The framework's version."""
        return self._info.framework_version

    @property
    def created_time(self) -> str | None:
        """When the version was registered (ISO 8601, UTC)."""
        return iso_utc(self._info.created_time)

    @property
    def workspace(self) -> Workspace:
        """The workspace holding the model."""
        return self._workspace

    @property
    def url(self) -> str:
        """Where the model's files are stored."""
        return f"models/{self.name}/{self.version}"

    # ---- class methods --------------------------------------------------------------
    @staticmethod
    def register(
        workspace: Workspace,
        model_path: str,
        model_name: str,
        tags: Any = None,
        properties: Any = None,
        description: str | None = None,
        datasets: Any = None,
        model_framework: str | None = None,
        model_framework_version: str | None = None,
        child_paths: builtins.list[str] | None = None,
        sample_input_dataset: Any = None,
        sample_output_dataset: Any = None,
        resource_configuration: Any = None,
    ) -> Model:
        """Register a local file or folder as the next version of ``model_name``."""
        relatives, sources = _local_files(model_path, child_paths)
        info = workspace._connection.backend.register_local_model(
            model_name,
            relatives,
            sources,
            tags=tags,
            properties=properties,
            model_framework=model_framework,
            model_framework_version=model_framework_version,
            description=description,
        )
        return Model._from_info(workspace, info)

    @staticmethod
    def list(
        workspace: Workspace,
        name: str | None = None,
        tags: Any = None,
        properties: Any = None,
        run_id: str | None = None,
        latest: bool = False,
        dataset_id: str | None = None,
        expand: bool = True,
        page_count: int = 255,
        model_framework: str | None = None,
    ) -> builtins.list[Model]:
        """Registered models, filtered; ``latest`` keeps the newest version of each name.

        A list, as in the original SDK, read a page of ``page_count`` models at a time (one
        request per page from a server).
        """
        infos = model_infos(
            workspace, max(1, min(int(page_count), 10_000)), name=name, tags=tags,
            properties=properties, run_id=run_id, latest=latest, model_framework=model_framework,
        )  # fmt: skip
        return [Model._from_info(workspace, i) for i in infos]

    @staticmethod
    def get_model_path(
        model_name: str, version: int | None = None, _workspace: Workspace | None = None
    ) -> str:
        """Download a model version to a cache folder and return its local path."""
        from runhistory.sdk.workspace import Workspace

        workspace = _workspace or Workspace()
        model = Model(workspace, model_name, version=version)
        folder = os.path.join(
            tempfile.gettempdir(), "runhistory-models", model.name, str(model.version)
        )
        return model.download(folder, exist_ok=True)

    @staticmethod
    def deserialize(workspace: Workspace, model_payload: dict[str, Any]) -> Model:
        """The model a :meth:`serialize` payload describes."""
        return Model(workspace, model_payload["name"], version=int(model_payload["version"]))

    # ---- instance methods -----------------------------------------------------------
    def download(
        self, target_dir: str = ".", exist_ok: bool = False, exists_ok: bool | None = None
    ) -> str:
        """Copy the model's files into ``target_dir``; returns the model's path there.

        Raises:
            ConflictError: a file exists already and ``exist_ok`` is False.
        """
        allow = exist_ok if exists_ok is None else exists_ok
        return self._backend.download_model(self.name, self.version, target_dir, exist_ok=allow)

    def serialize(self) -> dict[str, Any]:
        """A JSON-ready description of the model version."""
        return {
            "id": self.id,
            "name": self.name,
            "version": self.version,
            "tags": self.tags,
            "properties": self.properties,
            "description": self.description,
            "runId": self.run_id,
            "experimentName": self.experiment_name,
            "framework": self.model_framework,
            "frameworkVersion": self.model_framework_version,
            "createdTime": self.created_time,
            "files": list(self._info.files),
        }

    def update(
        self,
        tags: Any = None,
        description: str | None = None,
        sample_input_dataset: Any = None,
        sample_output_dataset: Any = None,
        resource_configuration: Any = None,
    ) -> None:
        """Merge tags into the model's tags and/or replace its description.

        The dataset and resource arguments are accepted for compatibility and ignored.
        """
        from runhistory.store.base import UNCHANGED

        self._info = self._backend.update_model(
            self.name,
            self.version,
            tags=tags,
            description=UNCHANGED if description is None else description,
        )

    def add_tags(self, tags: dict[str, str]) -> None:
        """Add or overwrite tags."""
        self._info = self._backend.update_model(self.name, self.version, tags=tags)

    def remove_tags(self, tags: builtins.list[str]) -> None:
        """Remove tags by key."""
        self._info = self._backend.update_model(self.name, self.version, remove_tags=tags)

    def add_properties(self, properties: dict[str, str]) -> None:
        """Add properties (add-only)."""
        self._info = self._backend.update_model(self.name, self.version, properties=properties)

    def update_tags_properties(
        self, add_tags: Any = None, remove_tags: Any = None, add_properties: Any = None
    ) -> None:
        """Add tags, remove tags and add properties in one call."""
        self._info = self._backend.update_model(
            self.name,
            self.version,
            tags=add_tags,
            remove_tags=remove_tags or (),
            properties=add_properties,
        )

    def add_dataset_references(self, datasets: Any) -> None:
        """Record dataset references as properties ``dataset:<purpose>``."""
        props = {f"dataset:{purpose}": str(ds) for purpose, ds in (datasets or [])}
        self.add_properties(props)

    def delete(self) -> None:
        """Delete this model version and its files."""
        self._backend.delete_model(self.name, self.version)

    def get_sas_urls(self) -> dict[str, str]:
        """Local paths of the model's files (there are no shared-access URLs off the cloud)."""
        folder = Model.get_model_path(self.name, self.version, self._workspace)
        base = os.path.dirname(folder) if len(self._info.files) == 1 else folder
        return {f: os.path.join(base, *f.split("/")) for f in self._info.files}

    @staticmethod
    def deploy(
        workspace: Any,
        name: Any,
        models: Any,
        inference_config: Any = None,
        deployment_config: Any = None,
        deployment_target: Any = None,
        overwrite: bool = False,
        show_output: bool = False,
    ) -> Any:
        """Not provided: deploying web services is outside runhistory."""
        raise ValidationError(f"Model.deploy {_CLOUD_ONLY}")

    @staticmethod
    def package(
        workspace: Any,
        models: Any,
        inference_config: Any = None,
        generate_dockerfile: bool = False,
        image_name: Any = None,
        image_label: Any = None,
    ) -> Any:
        """Not provided: building deployment images is outside runhistory."""
        raise ValidationError(f"Model.package {_CLOUD_ONLY}")

    @staticmethod
    def profile(
        workspace: Any,
        profile_name: Any,
        models: Any,
        inference_config: Any,
        input_dataset: Any,
        cpu: Any = None,
        memory_in_gb: Any = None,
        description: Any = None,
    ) -> Any:
        """Not provided: profiling deployments is outside runhistory."""
        raise ValidationError(f"Model.profile {_CLOUD_ONLY}")

    @staticmethod
    def print_configuration(
        models: Any, inference_config: Any, deployment_config: Any, deployment_target: Any
    ) -> None:
        """Print the models and configurations given."""
        for model in models:
            print(f"Model: {getattr(model, 'id', model)}")
        print(f"Inference config: {inference_config}\nDeployment config: {deployment_config}")
        print(f"Deployment target: {deployment_target}")

    def __repr__(self) -> str:
        return (
            f"Model(workspace={self._workspace.name!r}, name={self.name!r}, "
            f"id={self.id!r}, version={self.version})"
        )


def _find(
    workspace: Workspace,
    name: str | None,
    id: str | None,
    tags: Any,
    properties: Any,
    version: int | None,
    run_id: str | None,
    framework: str | None,
) -> ModelInfo:
    backend = workspace._connection.backend
    if id is not None:
        name, _, number = id.partition(":")
        version = int(number) if number else None
    if name is None:
        raise ValidationError("Model() needs a name or an id ('name:version')")
    if version is not None:
        found: ModelInfo = backend.get_model(name, version)
        return found
    candidates = backend.list_models(
        name=name, tags=tags, properties=properties, run_id=run_id, model_framework=framework
    )
    if not candidates:
        raise NotFoundError(f"no model named {name!r} matches in workspace {workspace.name!r}")
    return max(candidates, key=lambda m: m.version)  # type: ignore[no-any-return]


def _local_files(
    model_path: str, child_paths: builtins.list[str] | None
) -> tuple[builtins.list[str], builtins.list[str]]:
    path = os.path.abspath(model_path)
    base = os.path.basename(path.rstrip(os.sep))
    if os.path.isfile(path):
        return [base], [path]
    if not os.path.isdir(path):
        raise NotFoundError(f"cannot register {model_path!r}: no such file or folder")
    relatives, sources = [], []
    for root, _dirs, files in os.walk(path):
        for filename in sorted(files):
            source = os.path.join(root, filename)
            relative = os.path.relpath(source, path).replace(os.sep, "/")
            if child_paths is None or relative in child_paths:
                relatives.append(f"{base}/{relative}")
                sources.append(source)
    return relatives, sources


def model_infos(workspace: Workspace, page_size: int, **filters: Any) -> Iterator[ModelInfo]:
    """The records of :meth:`Model.list` with ``filters``, fetched lazily a page of
    ``page_size`` at a time (the last page's token ends the listing)."""
    backend = workspace._connection.backend
    token: str | None = None
    while True:
        page = backend.list_models_page(**filters, page_size=page_size, page_token=token)
        yield from page.items
        token = page.next_page_token
        if token is None:
            return
