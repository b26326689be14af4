"""runhistory: experiment tracking with the run-history API of the Azure ML SDK v1.

Example:
    >>> from runhistory import Workspace, Experiment
    >>> ws = Workspace()  # doctest: +SKIP
    >>> run = Experiment(ws, "my-experiment").start_logging()  # doctest: +SKIP
    >>> run.log("accuracy", 0.93)  # doctest: +SKIP
    >>> run.complete()  # doctest: +SKIP

Public names are imported lazily so that ``import runhistory`` stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from runhistory.errors import RunhistoryError

__version__ = "0.1.0"

_EXPORTS = {
    "Workspace": "runhistory.sdk.workspace",
    "Experiment": "runhistory.sdk.experiment",
    "Run": "runhistory.sdk.run",
    "Model": "runhistory.sdk.model",
    "Keyvault": "runhistory.sdk.keyvault",
    "ScriptRunConfig": "runhistory.sdk.script_run_config",
    "RunConfiguration": "runhistory.sdk.run_configuration",
    "Environment": "runhistory.sdk.environment",
}

__all__ = [
    "Environment",
    "Experiment",
    "Keyvault",
    "Model",
    "Run",
    "RunConfiguration",
    "RunhistoryError",
    "ScriptRunConfig",
    "Workspace",
    "__version__",
]

if TYPE_CHECKING:
    from runhistory.sdk.experiment import Experiment
    from runhistory.sdk.keyvault import Keyvault
    from runhistory.sdk.model import Model
    from runhistory.sdk.run import Run
    from runhistory.sdk.workspace import Workspace


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'runhistory' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
