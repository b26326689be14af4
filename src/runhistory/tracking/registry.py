"""Rules for registered models as a whole: a model name with its own description, tags and
aliases, which can exist before its first version, be renamed and be deleted with all its
versions. MLflow's model registry is served from these (see docs/mlflow.md)."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import BinaryIO

from runhistory.artifacts.base import ArtifactStore
from runhistory.errors import NotFoundError, ValidationError
from runhistory.store.base import UNCHANGED, TrackingStore
from runhistory.tracking.entities import ModelInfo, RegisteredModelInfo
from runhistory.tracking.models import model_file_key
from runhistory.tracking.validation import check_model_name, check_optional_text, check_tags

STAGES = ("None", "Staging", "Production", "Archived")
_ALIAS = re.compile(r"^[A-Za-z0-9_\-]{1,255}$")
_RESERVED_ALIAS = re.compile(r"^(latest|v\d+)$", re.IGNORECASE)


def check_alias(alias: object) -> str:
    """An alias name: 1-255 letters, digits, ``_`` and ``-``; not ``latest`` nor ``v<number>``
    (those already name versions)."""
    if not isinstance(alias, str) or not _ALIAS.match(alias):
        raise ValidationError(
            f"invalid alias {alias!r}: aliases are 1-255 letters, digits, '_' and '-'",
            field="alias",
        )
    if _RESERVED_ALIAS.match(alias):
        raise ValidationError(
            f"the alias {alias!r} is reserved: 'latest' and 'v<number>' already name versions",
            field="alias",
        )
    return alias


def check_stage(stage: object) -> str:
    """One of MLflow's stages (``None``, ``Staging``, ``Production``, ``Archived``), any case."""
    for known in STAGES:
        if isinstance(stage, str) and stage.lower() == known.lower():
            return known
    raise ValidationError(f"invalid stage {stage!r}: one of {', '.join(STAGES)}", field="stage")


class RegistryRules:
    """The registered-model part of :class:`~runhistory.tracking.service.TrackingService`."""

    store: TrackingStore
    artifacts: ArtifactStore

    def create_registered_model(
        self, name: str, description: str | None = None, tags: object = None
    ) -> RegisteredModelInfo:
        """A registered model with no version yet (``ConflictError`` when the name is taken)."""
        check_model_name(name)
        check_optional_text(description, "description")
        return self.store.create_registered_model(
            name, time.time(), description=description, tags=check_tags(tags or {})
        )

    def get_registered_model(self, name: str) -> RegisteredModelInfo:
        """A registered model with its tags and aliases."""
        return self.store.get_registered_model(name)

    def list_registered_models(self) -> list[RegisteredModelInfo]:
        """Every registered model, by name."""
        return self.store.list_registered_models()

    def update_registered_model(
        self,
        name: str,
        description: str | None = UNCHANGED,
        tags: object = None,
        remove_tags: Sequence[str] = (),
    ) -> RegisteredModelInfo:
        """Set the description and/or merge and remove tags of a registered model."""
        if description is not UNCHANGED:
            check_optional_text(description, "description")
        return self.store.update_registered_model(
            name,
            time.time(),
            description=description,
            tags=check_tags(tags or {}),
            remove_tags=list(remove_tags),
        )

    def set_model_alias(self, name: str, alias: str, version: int) -> RegisteredModelInfo:
        """Point ``alias`` at a version of ``name`` (moving it from another version)."""
        return self.store.update_registered_model(
            name, time.time(), aliases={check_alias(alias): version}
        )

    def delete_model_alias(self, name: str, alias: str) -> RegisteredModelInfo:
        """Remove an alias of ``name``."""
        return self.store.update_registered_model(name, time.time(), remove_aliases=[alias])

    def set_model_stage(self, name: str, version: int, stage: str) -> ModelInfo:
        """Move a version to one of MLflow's stages."""
        return self.store.update_model(
            name, version, stage=check_stage(stage), updated_time=time.time()
        )

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModelInfo:
        """Give a registered model, with its versions and their files, a new name."""
        check_model_name(new_name)
        versions = self.store.list_models(name=name)
        try:
            for model in versions:
                for relative in model.files:
                    target = model_file_key(new_name, model.version, relative)
                    self.artifacts.copy(model_file_key(name, model.version, relative), target)
            renamed = self.store.rename_registered_model(name, new_name, time.time())
        except BaseException:
            for model in versions:
                self.artifacts.delete_prefix(f"models/{new_name}/{model.version}")
            raise
        for model in versions:
            self.artifacts.delete_prefix(f"models/{name}/{model.version}")
        return renamed

    def delete_registered_model(self, name: str) -> None:
        """Delete a registered model with every version and their files."""
        versions = self.store.list_models(name=name)
        self.store.delete_registered_model(name)
        for model in versions:
            self.artifacts.delete_prefix(f"models/{name}/{model.version}")


class ModelFileRules:
    """Reading single files of a model version (MLflow's artifact proxy serves them)."""

    store: TrackingStore
    artifacts: ArtifactStore

    def model_file_names(self, name: str, version: int) -> list[str]:
        """The files of a model version, relative to the version."""
        return list(self.store.get_model(name, version).files)

    def open_model_file(self, name: str, version: int, relative: str) -> BinaryIO:
        """One file of a model version, open for reading."""
        return self.artifacts.open_read(self._model_file(name, version, relative))

    def model_file_size(self, name: str, version: int, relative: str) -> int:
        """The size in bytes of one file of a model version."""
        return self.artifacts.size(self._model_file(name, version, relative))

    def open_model_file_range(
        self, name: str, version: int, relative: str, start: int, length: int
    ) -> BinaryIO:
        """``length`` bytes of one file of a model version from byte ``start`` (read no more
        than that; an S3 store is asked for those bytes alone)."""
        return self.artifacts.open_range(self._model_file(name, version, relative), start, length)

    def download_model_file(self, name: str, version: int, relative: str, local: str) -> None:
        """Copy one file of a model version to ``local``."""
        self.artifacts.get_to_file(self._model_file(name, version, relative), local)

    def copy_model_version(self, name: str, version: int, new_name: str, source: str) -> ModelInfo:
        """Register a copy of a model version (its files, tags and description) as the next
        version of ``new_name``."""
        check_model_name(new_name)
        model = self.store.get_model(name, version)
        copy = self.store.create_model_version(
            name=new_name,
            created_time=time.time(),
            run_id=model.run_id,
            experiment_name=model.experiment_name,
            description=model.description,
            framework=model.framework,
            framework_version=model.framework_version,
            tags=dict(model.tags),
            properties=dict(model.properties),
            files=list(model.files),
            source=source,
        )
        for relative in model.files:
            self.artifacts.copy(
                model_file_key(name, version, relative),
                model_file_key(new_name, copy.version, relative),
            )
        return copy

    def _model_file(self, name: str, version: int, relative: str) -> str:
        if relative not in self.store.get_model(name, version).files:
            raise NotFoundError(
                f"model {name}:{version} has no file {relative!r}",
                name=name,
                version=version,
            )
        return model_file_key(name, version, relative)
