"""Drawing trials from a stored sampling with Optuna (the ``[sweep]`` extra).

Expressions Optuna has no distribution for are drawn through one it has: ``normal(mu, sigma)``
is the inverse normal CDF of a uniform draw in (0, 1), ``loguniform(a, b)`` is a log-scaled
float between ``exp(a)`` and ``exp(b)``, and the ``q…`` forms round the draw to a multiple of q.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

from runhistory.errors import ConfigurationError
from runhistory.hyperdrive.parameter_expressions import check_expression

_EDGE = 1e-9  # keeps the inverse CDF finite


def require_optuna() -> Any:
    """The ``optuna`` module.

    Raises:
        ConfigurationError: it is not installed.
    """
    try:
        import optuna
    except ImportError:
        raise ConfigurationError(
            "HyperDrive sweeps draw their trials with Optuna, which is not installed here: "
            "pip install 'runhistory[sweep]'"
        ) from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


@dataclass(frozen=True)
class Trial:
    """One draw: Optuna's trial number and the values given to the script."""

    number: int
    values: dict[str, Any]


def _distribution(optuna: Any, kind: str, args: list[Any]) -> Any:
    dist = optuna.distributions
    if kind == "choice":
        return dist.CategoricalDistribution(list(args[0]))
    if kind == "randint":
        return dist.IntDistribution(0, int(args[0]) - 1)
    if kind in ("uniform", "quniform"):
        return dist.FloatDistribution(float(args[0]), float(args[1]))
    if kind in ("loguniform", "qloguniform"):
        return dist.FloatDistribution(math.exp(args[0]), math.exp(args[1]), log=True)
    return dist.FloatDistribution(_EDGE, 1 - _EDGE)  # the normal family: a quantile


def _value(kind: str, args: list[Any], raw: Any) -> Any:
    if kind in ("choice", "randint", "uniform", "loguniform"):
        return raw
    if kind in ("normal", "qnormal", "lognormal", "qlognormal"):
        raw = statistics.NormalDist(args[0], args[1]).inv_cdf(raw)
        if kind.endswith("lognormal"):
            raw = math.exp(raw)
    if kind.startswith("q"):
        q = args[-1]
        return round(raw / q) * q
    return raw


class Suggester:
    """Asks Optuna for new trials and tells it their results.

    Args:
        sampling: the stored sampling (``HyperParameterSampling.to_json()``).
        maximize: the primary metric's goal.
    """

    def __init__(self, sampling: dict[str, Any], maximize: bool) -> None:
        optuna = require_optuna()
        self._optuna = optuna
        self._space = {
            name: check_expression(name, expr) for name, expr in sampling["parameter_space"].items()
        }
        self._distributions = {
            name: _distribution(optuna, kind, args) for name, (kind, args) in self._space.items()
        }
        seed = (sampling.get("properties") or {}).get("rngSeed")
        self.capacity: int | None = None
        name = sampling["name"]
        if name == "GRID":
            grid = {n: list(args[0]) for n, (_, args) in self._space.items()}
            self.capacity = math.prod(len(v) for v in grid.values())
            sampler = optuna.samplers.GridSampler(grid, seed=seed)
        elif name == "BayesianOptimization":
            sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=2)
        else:
            sampler = optuna.samplers.RandomSampler(seed=seed)
        self._study = optuna.create_study(
            sampler=sampler, direction="maximize" if maximize else "minimize"
        )
        self._trials: dict[int, Any] = {}

    def ask(self) -> Trial:
        """A new trial's hyper-parameter values."""
        trial = self._study.ask(self._distributions)
        self._trials[trial.number] = trial
        values = {
            name: _value(kind, args, trial.params[name])
            for name, (kind, args) in self._space.items()
        }
        return Trial(trial.number, values)

    def tell(self, number: int, value: float | None, pruned: bool = False) -> None:
        """Report a trial's final primary metric (None: it failed or logged none)."""
        trial = self._trials.pop(number, None)
        if trial is None or self.capacity is not None:
            return  # a grid learns nothing (and Optuna's grid stops a study it cannot stop here)
        state = self._optuna.trial.TrialState
        if value is None or not math.isfinite(value):
            self._study.tell(trial, state=state.FAIL)
        elif pruned:
            self._study.tell(trial, value, state=state.PRUNED)
        else:
            self._study.tell(trial, value)
