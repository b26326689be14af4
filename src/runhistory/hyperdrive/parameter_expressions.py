"""Parameter expressions: how one hyper-parameter of a sweep is drawn.

Each function returns the expression in the original SDK's shape, ``[kind, [arguments]]``
(``uniform(0, 1) == ["uniform", [0, 1]]``), so a search space is plain JSON and can be stored
with the sweep and read by its controller.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from runhistory.errors import ValidationError

__all__ = [
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

KINDS = (
    "choice",
    "randint",
    "uniform",
    "quniform",
    "loguniform",
    "qloguniform",
    "normal",
    "qnormal",
    "lognormal",
    "qlognormal",
)
_CHOICE_TYPES = (bool, int, float, str, type(None))


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(f"{what} must be a finite number, got {value!r}")
    return value


def _range(low: Any, high: Any) -> None:
    if _number(low, "min_value") >= _number(high, "max_value"):
        raise ValidationError(f"min_value {low!r} must be below max_value {high!r}")


def _step(q: Any) -> None:
    if _number(q, "q") <= 0:
        raise ValidationError(f"q must be positive, got {q!r}")


def _spread(sigma: Any) -> None:
    if _number(sigma, "sigma") <= 0:
        raise ValidationError(f"sigma must be positive, got {sigma!r}")


def choice(*options: Any) -> list[Any]:
    """One of ``options``: ``choice(1, 2, 3)``, ``choice([1, 2, 3])`` or ``choice(range(4))``.

    Raises:
        ValidationError: no option, or an option that is not a number, string, bool or None.
    """
    values: list[Any] = list(options)
    if len(values) == 1 and isinstance(values[0], Iterable) and not isinstance(values[0], str):
        values = list(values[0])
    if not values:
        raise ValidationError("choice() needs at least one option")
    for value in values:
        if not isinstance(value, _CHOICE_TYPES):
            raise ValidationError(
                f"choice() options must be numbers, strings, bools or None, got {value!r}"
            )
    return ["choice", [values]]


def randint(upper: int) -> list[Any]:
    """An integer in ``[0, upper)``."""
    if isinstance(upper, bool) or not isinstance(upper, int) or upper < 1:
        raise ValidationError(f"randint() needs a positive integer upper bound, got {upper!r}")
    return ["randint", [upper]]


def uniform(min_value: float, max_value: float) -> list[Any]:
    """A float uniformly distributed between ``min_value`` and ``max_value``."""
    _range(min_value, max_value)
    return ["uniform", [min_value, max_value]]


def quniform(min_value: float, max_value: float, q: float) -> list[Any]:
    """``round(uniform(min_value, max_value) / q) * q``."""
    _range(min_value, max_value)
    _step(q)
    return ["quniform", [min_value, max_value, q]]


def loguniform(min_value: float, max_value: float) -> list[Any]:
    """``exp(uniform(min_value, max_value))``: the bounds are natural logarithms."""
    _range(min_value, max_value)
    return ["loguniform", [min_value, max_value]]


def qloguniform(min_value: float, max_value: float, q: float) -> list[Any]:
    """``round(exp(uniform(min_value, max_value)) / q) * q``."""
    _range(min_value, max_value)
    _step(q)
    return ["qloguniform", [min_value, max_value, q]]


def normal(mu: float, sigma: float) -> list[Any]:
    """A float normally distributed with mean ``mu`` and standard deviation ``sigma``."""
    _number(mu, "mu")
    _spread(sigma)
    return ["normal", [mu, sigma]]


def qnormal(mu: float, sigma: float, q: float) -> list[Any]:
    """``round(normal(mu, sigma) / q) * q``."""
    _number(mu, "mu")
    _spread(sigma)
    _step(q)
    return ["qnormal", [mu, sigma, q]]


def lognormal(mu: float, sigma: float) -> list[Any]:
    """``exp(normal(mu, sigma))``."""
    _number(mu, "mu")
    _spread(sigma)
    return ["lognormal", [mu, sigma]]


def qlognormal(mu: float, sigma: float, q: float) -> list[Any]:
    """``round(exp(normal(mu, sigma)) / q) * q``."""
    _number(mu, "mu")
    _spread(sigma)
    _step(q)
    return ["qlognormal", [mu, sigma, q]]


def check_expression(name: str, expression: Any) -> tuple[str, list[Any]]:
    """``(kind, arguments)`` of a stored expression.

    Raises:
        ValidationError: not an expression made by one of this module's functions.
    """
    if (
        not isinstance(expression, list | tuple)
        or len(expression) != 2
        or expression[0] not in KINDS
        or not isinstance(expression[1], list | tuple)
    ):
        raise ValidationError(
            f"hyper-parameter {name!r} must be a parameter expression such as choice(1, 2) or "
            f"uniform(0, 1), got {expression!r}"
        )
    return str(expression[0]), list(expression[1])
