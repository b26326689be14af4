"""The workspace's environment registry seen from the SDK (``Environment.register/get/list``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runhistory.errors import NotFoundError, ValidationError
from runhistory.sdk.curated import CURATED, curated_environment, is_curated
from runhistory.tracking.entities import EnvironmentVersion

if TYPE_CHECKING:
    from runhistory.sdk.environment import Environment
    from runhistory.sdk.workspace import Workspace


def _from_version(found: EnvironmentVersion) -> Environment:
    from runhistory.sdk.environment import Environment

    env = Environment.from_dict(found.definition)
    env.name = found.name
    env.version = str(found.version)
    return env


def _backend(workspace: Workspace) -> Any:
    connection = getattr(workspace, "_connection", None)
    if connection is None:
        raise ValidationError(
            f"the environment registry needs a Workspace (got {type(workspace).__name__}): "
            f"pass Workspace.from_config() or Workspace()"
        )
    return connection.backend


def register(env: Environment, workspace: Workspace) -> Environment:
    """Store ``env`` as the next version of its name; sets and returns ``env.version``."""
    definition = env.to_dict()
    found = _backend(workspace).register_environment(env.name, definition)
    env.version = str(found.version)
    return _from_version(found)


def get(workspace: Workspace, name: str, version: Any = None) -> Environment:
    """A registered environment; a curated name not registered gives its local equivalent.

    Raises:
        NotFoundError: no environment of that name (and version) is registered.
    """
    try:
        return _from_version(_backend(workspace).get_environment(name, version))
    except NotFoundError:
        if version is None and is_curated(name):
            return curated_environment(name)
        raise


def list_all(workspace: Workspace) -> dict[str, Environment]:
    """The newest version of every registered environment, and the curated names, by name."""
    found = {e.name: _from_version(e) for e in _backend(workspace).list_environments()}
    for name in CURATED:
        found.setdefault(name, curated_environment(name, announce=False))
    return dict(sorted(found.items()))
