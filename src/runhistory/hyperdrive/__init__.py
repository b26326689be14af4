"""HyperDrive: hyper-parameter sweeps over a submitted script (``azureml.train.hyperdrive``).

A :class:`HyperDriveConfig` names a ``ScriptRunConfig``, a search space (a sampling of
parameter expressions), the primary metric and its goal, limits and an early-termination
policy. ``Experiment.submit(config)`` returns a :class:`HyperDriveRun` at once; a detached
controller runs the children through the script's compute target. Sampling needs Optuna
(``pip install 'runhistory[sweep]'``).
"""

from __future__ import annotations

from runhistory.hyperdrive.config import HyperDriveConfig, PrimaryMetricGoal
from runhistory.hyperdrive.parameter_expressions import (
    choice,
    lognormal,
    loguniform,
    normal,
    qlognormal,
    qloguniform,
    qnormal,
    quniform,
    randint,
    uniform,
)
from runhistory.hyperdrive.policy import (
    BanditPolicy,
    EarlyTerminationPolicy,
    MedianStoppingPolicy,
    NoTerminationPolicy,
    TruncationSelectionPolicy,
)
from runhistory.hyperdrive.run import HyperDriveRun
from runhistory.hyperdrive.sampling import (
    BayesianParameterSampling,
    GridParameterSampling,
    HyperParameterSampling,
    RandomParameterSampling,
)

__all__ = [
    "BanditPolicy",
    "BayesianParameterSampling",
    "EarlyTerminationPolicy",
    "GridParameterSampling",
    "HyperDriveConfig",
    "HyperDriveRun",
    "HyperParameterSampling",
    "MedianStoppingPolicy",
    "NoTerminationPolicy",
    "PrimaryMetricGoal",
    "RandomParameterSampling",
    "TruncationSelectionPolicy",
    "choice",
    "lognormal",
    "loguniform",
    "normal",
    "qlognormal",
    "qloguniform",
    "qnormal",
    "quniform",
    "randint",
    "uniform",
]
