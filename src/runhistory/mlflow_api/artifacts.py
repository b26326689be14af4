"""The ``mlflow-artifacts`` proxy: MLflow's artifact paths are run files.

A run's ``artifact_uri`` is ``mlflow-artifacts:/<experiment id>/<run id>/artifacts``; the
path ``<experiment id>/<run id>/artifacts/<name>`` is the run's file ``<name>`` (the same file
``Run.download_file(name)`` reads).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, BinaryIO

from runhistory.errors import NotFoundError
from runhistory.mlflow_api.errors import MlflowApiError, not_found
from runhistory.mlflow_api.queries import directory
from runhistory.tracking.service import TrackingService


def split_path(path: str) -> tuple[str, str]:
    """``(run id, file name)`` of an artifact path (the name is ``""`` for the run's root)."""
    parts = path.strip("/").split("/", 3)
    if len(parts) < 3 or parts[2] != "artifacts":
        raise not_found(
            f"no artifact at {path!r}: artifact paths are <experiment id>/<run id>/artifacts/<path>"
        )
    return parts[1], parts[3] if len(parts) == 4 else ""


def list_directory(service: TrackingService, path: str) -> dict[str, Any]:
    """What lies directly under an artifact path: ``{"files": [{path, is_dir, file_size}]}``
    with paths relative to it (a file lists itself)."""
    if model_path(path) is not None:
        return list_model_directory(service, path)
    run_id, name = split_path(path)
    try:
        service.get_run(run_id)
    except NotFoundError:
        raise not_found(f"Run with id={run_id} not found") from None
    entries = directory(service, run_id, name)
    if not entries and name:
        try:
            info = service.get_file_info(run_id, name)
        except NotFoundError:
            return {}
        return {"files": [{"path": name.rsplit("/", 1)[-1], "is_dir": False,
                           "file_size": info.size}]}  # fmt: skip
    files = [
        {"path": entry, "is_dir": is_dir, **({} if is_dir else {"file_size": size})}
        for entry, is_dir, size in entries
    ]
    return {"files": files} if files else {}


def file_name(path: str) -> tuple[str, str]:
    """``(run id, file name)`` of an artifact path that must name a file."""
    run_id, name = split_path(path)
    if not name:
        raise MlflowApiError(f"the artifact path {path!r} names a run's root, not a file")
    return run_id, name


MODELS_PREFIX = "registered-models"


def model_path(path: str) -> tuple[str, int, str] | None:
    """``(model name, version, file path)`` of an artifact path under
    ``registered-models/<name>/<version>/`` (a model version's files), else ``None``."""
    parts = path.strip("/").split("/", 3)
    if parts[0] != MODELS_PREFIX:
        return None
    if len(parts) < 3 or not parts[2].isdigit():
        raise not_found(
            f"no artifact at {path!r}: model files are {MODELS_PREFIX}/<name>/<version>/<path>"
        )
    return parts[1], int(parts[2]), parts[3] if len(parts) == 4 else ""


def model_directory(names: list[str], path: str) -> list[tuple[str, bool]]:
    """``(name, is_dir)`` of what lies directly under ``path`` among a model's files."""
    prefix = f"{path}/" if path else ""
    children: dict[str, bool] = {}
    for name in names:
        if name.startswith(prefix):
            head, slash, _ = name[len(prefix) :].partition("/")
            children[head] = bool(slash)
    return sorted(children.items())


def list_model_directory(service: TrackingService, path: str) -> dict[str, Any]:
    """The artifact proxy's listing of a model version's files under ``path``."""
    found = model_path(path)
    assert found is not None
    name, version, relative = found
    try:
        names = service.model_file_names(name, version)
    except NotFoundError:
        raise not_found(f"Model Version (name={name}, version={version}) not found") from None
    if relative in names:
        return {"files": [{"path": relative.rsplit("/", 1)[-1], "is_dir": False}]}
    files = [
        {"path": entry, "is_dir": is_dir} for entry, is_dir in model_directory(names, relative)
    ]
    return {"files": files} if files else {}


def download(
    service: TrackingService, path: str
) -> tuple[str, int, Callable[[int, int], BinaryIO]]:
    """The file an artifact path names (a run's or a model version's): its name, its size
    and what opens ``length`` bytes of it from byte ``start`` (``open(start, length)``)."""
    model = model_path(path)
    if model is not None:
        model_name, version, name = model
        size = service.model_file_size(model_name, version, name)

        def open_model(start: int, length: int) -> BinaryIO:
            return service.open_model_file_range(model_name, version, name, start, length)

        return name, size, open_model
    run_id, name = file_name(path)
    size = service.download_info(run_id, name).size

    def open_run_file(start: int, length: int) -> BinaryIO:
        return service.open_file_range(run_id, name, start, length)

    return name, size, open_run_file
