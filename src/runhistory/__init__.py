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

from typing import TYPE_CHECKING

from runhistory.errors import RunhistoryError
from runhistory.lazy import lazy_getattr

__version__ = "0.1.0"

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
    from runhistory.sdk.environment import Environment
    from runhistory.sdk.experiment import Experiment
    from runhistory.sdk.keyvault import Keyvault
    from runhistory.sdk.model import Model
    from runhistory.sdk.run import Run
    from runhistory.sdk.run_configuration import RunConfiguration
    from runhistory.sdk.script_run_config import ScriptRunConfig
    from runhistory.sdk.workspace import Workspace

__getattr__ = lazy_getattr(
    __name__,
    {
        "Workspace": "runhistory.sdk.workspace",
        "Experiment": "runhistory.sdk.experiment",
        "Run": "runhistory.sdk.run",
        "Model": "runhistory.sdk.model",
        "Keyvault": "runhistory.sdk.keyvault",
        "ScriptRunConfig": "runhistory.sdk.script_run_config",
        "RunConfiguration": "runhistory.sdk.run_configuration",
        "Environment": "runhistory.sdk.environment",
    },
    globals(),
)


def __dir__() -> list[str]:
    return sorted(__all__)
