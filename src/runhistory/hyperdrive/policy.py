"""Early-termination policies: when the controller cancels a child that is doing badly.

Each time a child logs its primary metric counts as one *interval*. A policy looks at a child
at interval ``n`` when ``n >= delay_evaluation`` and ``n`` is a multiple of
``evaluation_interval``, comparing the child's values with those of the other children (running
or finished) over their first ``n`` values. A child the policy stops ends ``Canceled`` with the
reason in its error details.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from runhistory.errors import ValidationError

__all__ = [
    "BanditPolicy",
    "EarlyTerminationPolicy",
    "MedianStoppingPolicy",
    "NoTerminationPolicy",
    "TruncationSelectionPolicy",
]

Series = Mapping[str, Sequence[float]]


def _count(value: Any, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValidationError(f"{what} must be an integer of at least {minimum}, got {value!r}")
    return value


def _better(a: float, b: float, maximize: bool) -> bool:
    return a > b if maximize else a < b


def _best(values: Sequence[float], maximize: bool) -> float:
    return max(values) if maximize else min(values)


class EarlyTerminationPolicy:
    """Base of the policies: when to look (``evaluation_interval``, ``delay_evaluation``)."""

    POLICY_NAME: ClassVar[str] = ""

    def __init__(self, evaluation_interval: int = 1, delay_evaluation: int = 0) -> None:
        self.evaluation_interval = _count(evaluation_interval, "evaluation_interval", 1)
        self.delay_evaluation = _count(delay_evaluation, "delay_evaluation", 0)

    def due(self, interval: int) -> bool:
        """Whether the policy looks at a child that has just logged its ``interval``-th value."""
        return (
            interval >= max(1, self.delay_evaluation) and interval % self.evaluation_interval == 0
        )

    def check(self, run_id: str, interval: int, series: Series, maximize: bool) -> str | None:
        """Why ``run_id`` should stop at ``interval`` (None: it goes on).

        Args:
            run_id: the child looked at; ``series[run_id]`` has at least ``interval`` values.
            interval: how many values of the primary metric the child has logged.
            series: every child's primary-metric values so far, in logging order.
            maximize: whether larger values are better.
        """
        return None

    def to_json(self) -> dict[str, Any]:
        """The policy as stored with the sweep."""
        return {
            "name": self.POLICY_NAME,
            "properties": {
                "evaluation_interval": self.evaluation_interval,
                "delay_evaluation": self.delay_evaluation,
            },
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.to_json()['properties']})"


class NoTerminationPolicy(EarlyTerminationPolicy):
    """Never stops a child early."""

    POLICY_NAME = "Default"

    def __init__(self) -> None:
        super().__init__()


class BanditPolicy(EarlyTerminationPolicy):
    """Stops a child whose value falls outside a slack of the best value seen so far.

    With ``slack_factor`` the allowed distance is relative (maximizing: the child must reach
    ``best / (1 + slack_factor)``); with ``slack_amount`` absolute (``best - slack_amount``).

    Raises:
        ValidationError: both or neither of ``slack_factor`` and ``slack_amount``.
    """

    POLICY_NAME = "Bandit"

    def __init__(
        self,
        evaluation_interval: int = 1,
        slack_factor: float | None = None,
        slack_amount: float | None = None,
        delay_evaluation: int = 0,
    ) -> None:
        super().__init__(evaluation_interval, delay_evaluation)
        if (slack_factor is None) == (slack_amount is None):
            raise ValidationError("BanditPolicy needs exactly one of slack_factor, slack_amount")
        slack = slack_factor if slack_factor is not None else slack_amount
        if isinstance(slack, bool) or not isinstance(slack, int | float) or slack < 0:
            raise ValidationError(f"the slack must be a non-negative number, got {slack!r}")
        self.slack_factor = slack_factor
        self.slack_amount = slack_amount

    def _threshold(self, best: float, maximize: bool) -> float:
        if self.slack_factor is not None:
            factor = 1 + self.slack_factor
            return best / factor if maximize else best * factor
        assert self.slack_amount is not None
        return best - self.slack_amount if maximize else best + self.slack_amount

    def check(self, run_id: str, interval: int, series: Series, maximize: bool) -> str | None:
        """Stop the child if its latest value is worse than the slack allows."""
        firsts = [values[:interval] for values in series.values() if values]
        best = _best([_best(values, maximize) for values in firsts], maximize)
        value = series[run_id][interval - 1]
        threshold = self._threshold(best, maximize)
        if not _better(threshold, value, maximize):
            return None
        return (
            f"early termination by BanditPolicy at interval {interval}: the primary metric "
            f"{value:g} is outside the slack of the best run's {best:g} (limit {threshold:g})"
        )

    def to_json(self) -> dict[str, Any]:
        """The policy as stored with the sweep."""
        data = super().to_json()
        data["properties"].update(
            {"slack_factor": self.slack_factor, "slack_amount": self.slack_amount}
        )
        return data


class MedianStoppingPolicy(EarlyTerminationPolicy):
    """Stops a child whose best value is worse than the median of the others' running averages."""

    POLICY_NAME = "MedianStopping"

    def check(self, run_id: str, interval: int, series: Series, maximize: bool) -> str | None:
        """Stop the child if its best so far is worse than the median of running averages."""
        averages = [
            statistics.fmean(values[:interval])
            for other, values in series.items()
            if other != run_id and values
        ]
        if not averages:
            return None
        median = statistics.median(averages)
        best = _best(series[run_id][:interval], maximize)
        if not _better(median, best, maximize):
            return None
        return (
            f"early termination by MedianStoppingPolicy at interval {interval}: the best primary "
            f"metric {best:g} is worse than the median {median:g} of the other runs' averages"
        )


class TruncationSelectionPolicy(EarlyTerminationPolicy):
    """Stops the children ranking in the lowest ``truncation_percentage`` % at each interval.

    Args:
        truncation_percentage: 1-99, the share of children to stop at each evaluation.
        exclude_finished_jobs: rank only children still running.
    """

    POLICY_NAME = "TruncationSelection"

    def __init__(
        self,
        truncation_percentage: int,
        evaluation_interval: int = 1,
        delay_evaluation: int = 0,
        exclude_finished_jobs: bool = False,
    ) -> None:
        super().__init__(evaluation_interval, delay_evaluation)
        percentage = _count(truncation_percentage, "truncation_percentage", 1)
        if percentage > 99:
            raise ValidationError(f"truncation_percentage must be 1-99, got {percentage}")
        self.truncation_percentage = percentage
        self.exclude_finished_jobs = exclude_finished_jobs
        self.finished: frozenset[str] = frozenset()  # set by the controller before each look

    def check(self, run_id: str, interval: int, series: Series, maximize: bool) -> str | None:
        """Stop the child if its value at ``interval`` ranks in the lowest percentage."""
        ranked = {
            other: values[interval - 1]
            for other, values in series.items()
            if len(values) >= interval
            and not (self.exclude_finished_jobs and other in self.finished and other != run_id)
        }
        cut = math.floor(len(ranked) * self.truncation_percentage / 100)
        worst_first = sorted(ranked, key=lambda r: ranked[r], reverse=not maximize)
        if run_id not in worst_first[:cut]:
            return None
        return (
            f"early termination by TruncationSelectionPolicy at interval {interval}: the primary "
            f"metric {ranked[run_id]:g} ranks in the lowest {self.truncation_percentage}% of "
            f"{len(ranked)} runs"
        )

    def to_json(self) -> dict[str, Any]:
        """The policy as stored with the sweep."""
        data = super().to_json()
        data["properties"].update(
            {
                "truncation_percentage": self.truncation_percentage,
                "exclude_finished_jobs": self.exclude_finished_jobs,
            }
        )
        return data


def policy_from_json(data: Mapping[str, Any] | None) -> EarlyTerminationPolicy:
    """Rebuild a stored policy (None: no termination)."""
    if not data or data.get("name") in (None, NoTerminationPolicy.POLICY_NAME):
        return NoTerminationPolicy()
    props = dict(data.get("properties") or {})
    name = data["name"]
    if name == BanditPolicy.POLICY_NAME:
        return BanditPolicy(**props)
    if name == MedianStoppingPolicy.POLICY_NAME:
        return MedianStoppingPolicy(**props)
    if name == TruncationSelectionPolicy.POLICY_NAME:
        return TruncationSelectionPolicy(**props)
    raise ValidationError(f"unknown early-termination policy {name!r}")
