"""Samplings: which hyper-parameter values a sweep tries, and in what order.

A sampling holds a search space ``{name: parameter expression}``. The sweep's controller draws
from it with an Optuna sampler (:mod:`runhistory.hyperdrive.suggest`): ``RandomParameterSampling``
→ ``RandomSampler``, ``GridParameterSampling`` → ``GridSampler``, ``BayesianParameterSampling`` →
``TPESampler``. Names are script arguments: ``"learning_rate"`` and ``"--learning_rate"`` both
reach the script as ``--learning_rate VALUE``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from runhistory.errors import ValidationError
from runhistory.hyperdrive.parameter_expressions import KINDS, check_expression

__all__ = [
    "BayesianParameterSampling",
    "GridParameterSampling",
    "HyperParameterSampling",
    "RandomParameterSampling",
]


class HyperParameterSampling:
    """A search space and how to sample it (use one of the subclasses).

    Args:
        parameter_space: ``{name: expression}``, expressions from
            :mod:`runhistory.hyperdrive.parameter_expressions`.
        properties: sampler settings; ``{"rngSeed": N}`` makes the draws repeatable.

    Raises:
        ValidationError: an empty space, a name that is not a plain argument name, or an
            expression this sampling cannot draw.
    """

    SAMPLING_NAME: ClassVar[str] = ""
    SUPPORTED: ClassVar[tuple[str, ...]] = ()
    supports_early_termination: ClassVar[bool] = True

    def __init__(self, parameter_space: dict[str, Any], properties: dict[str, Any] | None = None):
        if not isinstance(parameter_space, dict) or not parameter_space:
            raise ValidationError("parameter_space must be a non-empty {name: expression} dict")
        for name, expression in parameter_space.items():
            _check_name(name)
            kind, _ = check_expression(name, expression)
            if kind not in self.SUPPORTED:
                raise ValidationError(
                    f"{type(self).__name__} cannot draw {kind}() (hyper-parameter {name!r}); "
                    f"it supports {', '.join(self.SUPPORTED)}"
                )
        self._parameter_space = {k: [v[0], list(v[1])] for k, v in parameter_space.items()}
        self._properties = dict(properties or {})
        seed = self._properties.get("rngSeed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValidationError(f"properties['rngSeed'] must be an integer, got {seed!r}")

    @property
    def parameter_space(self) -> dict[str, Any]:
        """The search space ``{name: expression}``."""
        return {k: [v[0], list(v[1])] for k, v in self._parameter_space.items()}

    @property
    def properties(self) -> dict[str, Any]:
        """The sampler settings."""
        return dict(self._properties)

    def to_json(self) -> dict[str, Any]:
        """The sampling as stored with the sweep."""
        return {
            "name": self.SAMPLING_NAME,
            "parameter_space": self.parameter_space,
            "properties": self.properties,
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._parameter_space!r})"


def _check_name(name: Any) -> None:
    bare = name[2:] if isinstance(name, str) and name.startswith("--") else name
    if (
        not isinstance(bare, str)
        or not bare
        or bare.startswith("-")
        or any(c.isspace() for c in bare)
    ):
        raise ValidationError(
            f"hyper-parameter names are script argument names such as 'lr' or '--lr', got {name!r}"
        )


class RandomParameterSampling(HyperParameterSampling):
    """Draws every hyper-parameter at random, independently (all expressions supported)."""

    SAMPLING_NAME = "RANDOM"
    SUPPORTED = KINDS


class GridParameterSampling(HyperParameterSampling):
    """Tries every combination of ``choice`` values once (only ``choice`` expressions)."""

    SAMPLING_NAME = "GRID"
    SUPPORTED = ("choice",)

    @property
    def grid_size(self) -> int:
        """How many combinations the grid has."""
        size = 1
        for expression in self._parameter_space.values():
            size *= len(expression[1][0])
        return size


class BayesianParameterSampling(HyperParameterSampling):
    """Picks each new trial from the results so far (Optuna's TPE sampler).

    As in the original, only ``choice``, ``uniform`` and ``quniform`` are supported, and the sweep
    takes no early-termination policy.
    """

    SAMPLING_NAME = "BayesianOptimization"
    SUPPORTED = ("choice", "uniform", "quniform")
    supports_early_termination = False


SAMPLINGS: dict[str, type[HyperParameterSampling]] = {
    cls.SAMPLING_NAME: cls
    for cls in (RandomParameterSampling, GridParameterSampling, BayesianParameterSampling)
}
