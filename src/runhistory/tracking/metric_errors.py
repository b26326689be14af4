"""The errors of the metric rules every writer applies: the SDK (before a value is queued)
and the service (before it is stored) say the same thing."""

from __future__ import annotations

from runhistory.errors import InvalidMetricError

__all__ = ["kind_rule_error", "step_rule_error"]


def step_rule_error(name: str, has_step: bool) -> InvalidMetricError:
    """The error for a metric that mixes values with and without ``step``."""
    had = "with" if has_step else "without"
    return InvalidMetricError(
        f"metric {name!r} was logged {had} a step before; if any value of a metric has a "
        f"step, all its values must have one",
        metric=name,
    )


def kind_rule_error(name: str, stored: str, new: str) -> InvalidMetricError:
    """The error for logging a metric name as a different kind than before."""
    return InvalidMetricError(
        f"metric {name!r} is a {stored} metric; it cannot also be logged as {new} "
        f"(use another name)",
        metric=name,
    )
