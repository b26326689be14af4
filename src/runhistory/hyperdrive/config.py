"""HyperDriveConfig: a script, a search space and the rules of a sweep — what ``submit`` takes."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

from runhistory.errors import ValidationError
from runhistory.hyperdrive.policy import EarlyTerminationPolicy, NoTerminationPolicy
from runhistory.hyperdrive.sampling import GridParameterSampling, HyperParameterSampling

if TYPE_CHECKING:
    from runhistory.sdk.experiment import Experiment
    from runhistory.sdk.run import Run

__all__ = ["HyperDriveConfig", "PrimaryMetricGoal"]

MAX_TOTAL_RUNS = 1000
MAX_CONCURRENT_RUNS = 100
MAX_DURATION_MINUTES = 10080


class PrimaryMetricGoal(str, enum.Enum):
    """Whether the sweep looks for the largest or the smallest primary metric."""

    MAXIMIZE = "MAXIMIZE"
    MINIMIZE = "MINIMIZE"


def _limit(value: Any, what: str, most: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        raise ValidationError(f"{what} must be an integer from 1 to {most}, got {value!r}")
    return value


class HyperDriveConfig:
    """A hyper-parameter sweep: children of one ``ScriptRunConfig`` with sampled arguments.

    ``Experiment.submit(config)`` returns a :class:`~runhistory.hyperdrive.run.HyperDriveRun` at
    once; a controller process of its own then starts up to ``max_total_runs`` children, at
    most ``max_concurrent_runs`` at a time, each with its hyper-parameters as ``--name value``
    arguments, and stops children early as ``policy`` says.

    Args:
        hyperparameter_sampling: a Random, Grid or Bayesian sampling.
        primary_metric_name: the metric every child logs (``run.log(name, value)``).
        primary_metric_goal: :attr:`PrimaryMetricGoal.MAXIMIZE` or ``MINIMIZE``.
        max_total_runs: how many children at most (a grid stops earlier when exhausted).
        max_concurrent_runs: how many children at once (default: all).
        max_duration_minutes: after this the children still running are canceled.
        policy: an early-termination policy (default: none).
        run_config: the ``ScriptRunConfig`` each child runs (its compute target included).
        estimator: the older way to give the script (an ``Estimator``), instead of run_config.

    Raises:
        ValidationError: a limit out of range, a policy with a Bayesian sampling, or no script.

    Example:
        >>> config = HyperDriveConfig(
        ...     run_config=ScriptRunConfig(".", "train.py"),
        ...     hyperparameter_sampling=GridParameterSampling({"lr": choice(0.1, 0.01)}),
        ...     primary_metric_name="accuracy",
        ...     primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
        ...     max_total_runs=2)  # doctest: +SKIP
        >>> sweep = experiment.submit(config)  # doctest: +SKIP
    """

    def __init__(
        self,
        hyperparameter_sampling: HyperParameterSampling,
        primary_metric_name: str,
        primary_metric_goal: PrimaryMetricGoal | str,
        max_total_runs: int,
        max_concurrent_runs: int | None = None,
        max_duration_minutes: int = MAX_DURATION_MINUTES,
        policy: EarlyTerminationPolicy | None = None,
        estimator: Any = None,
        run_config: Any = None,
        resume_from: Any = None,
        resume_child_runs: Any = None,
        pipeline: Any = None,
        debug_flag: Any = None,
        custom_run_id: str | None = None,
    ) -> None:
        if not isinstance(hyperparameter_sampling, HyperParameterSampling):
            raise ValidationError(
                "hyperparameter_sampling must be a RandomParameterSampling, "
                "GridParameterSampling or BayesianParameterSampling"
            )
        if not isinstance(primary_metric_name, str) or not primary_metric_name:
            raise ValidationError("primary_metric_name must be a metric name")
        try:
            goal = PrimaryMetricGoal(getattr(primary_metric_goal, "value", primary_metric_goal))
        except ValueError:
            raise ValidationError(
                f"primary_metric_goal must be PrimaryMetricGoal.MAXIMIZE or MINIMIZE, "
                f"got {primary_metric_goal!r}"
            ) from None
        policy = policy if policy is not None else NoTerminationPolicy()
        if not isinstance(policy, EarlyTerminationPolicy):
            raise ValidationError(f"policy must be an early-termination policy, got {policy!r}")
        if not hyperparameter_sampling.supports_early_termination and not isinstance(
            policy, NoTerminationPolicy
        ):
            raise ValidationError(
                "BayesianParameterSampling takes no early-termination policy: "
                "pass policy=None or NoTerminationPolicy()"
            )
        for unsupported, value in (
            ("resume_from", resume_from),
            ("resume_child_runs", resume_child_runs),
            ("pipeline", pipeline),
        ):
            if value is not None:
                raise ValidationError(f"HyperDriveConfig({unsupported}=…) is not supported")
        self._run_config = _script_config(run_config, estimator)
        self._sampling = hyperparameter_sampling
        self._policy = policy
        self._primary_metric_name = primary_metric_name
        self._goal = goal
        self._max_total_runs = _limit(max_total_runs, "max_total_runs", MAX_TOTAL_RUNS)
        concurrent = max_concurrent_runs if max_concurrent_runs is not None else max_total_runs
        self._max_concurrent_runs = _limit(concurrent, "max_concurrent_runs", MAX_CONCURRENT_RUNS)
        self._max_duration_minutes = _limit(
            max_duration_minutes, "max_duration_minutes", MAX_DURATION_MINUTES
        )
        self.debug_flag = debug_flag
        self.custom_run_id = custom_run_id

    # ---- what the original exposes ------------------------------------------------------
    @property
    def run_config(self) -> Any:
        """The ``ScriptRunConfig`` every child runs."""
        return self._run_config

    @property
    def estimator(self) -> Any:
        """Same as :attr:`run_config` (the original's older name)."""
        return self._run_config

    @property
    def source_directory(self) -> str:
        """The children's source folder."""
        return str(self._run_config.source_directory)

    @property
    def hyperparameter_sampling(self) -> HyperParameterSampling:
        """The sampling."""
        return self._sampling

    @property
    def policy(self) -> EarlyTerminationPolicy:
        """The early-termination policy."""
        return self._policy

    @property
    def primary_metric_name(self) -> str:
        """The metric the sweep optimizes."""
        return self._primary_metric_name

    @property
    def primary_metric_goal(self) -> PrimaryMetricGoal:
        """MAXIMIZE or MINIMIZE."""
        return self._goal

    @property
    def max_total_runs(self) -> int:
        """How many children at most."""
        if isinstance(self._sampling, GridParameterSampling):
            return min(self._max_total_runs, self._sampling.grid_size)
        return self._max_total_runs

    @property
    def max_concurrent_runs(self) -> int:
        """How many children at once."""
        return min(self._max_concurrent_runs, self.max_total_runs)

    @property
    def max_duration_minutes(self) -> int:
        """How long the sweep may run."""
        return self._max_duration_minutes

    def to_json(self) -> dict[str, Any]:
        """The sweep's settings, stored in the parent run's definition for its controller."""
        return {
            "sampling": self._sampling.to_json(),
            "policy": self._policy.to_json(),
            "primary_metric_name": self._primary_metric_name,
            "primary_metric_goal": self._goal.value,
            "max_total_runs": self.max_total_runs,
            "max_concurrent_runs": self.max_concurrent_runs,
            "max_duration_minutes": self._max_duration_minutes,
        }

    def _submit(
        self,
        experiment: Experiment,
        tags: dict[str, str] | None = None,
        parent_run: Run | None = None,
        **kwargs: Any,
    ) -> Run:
        from runhistory.hyperdrive.submission import submit_sweep

        return submit_sweep(self, experiment, tags=tags, **kwargs)

    def __repr__(self) -> str:
        return (
            f"HyperDriveConfig({self._sampling!r}, {self._primary_metric_name!r}, "
            f"{self._goal.value}, max_total_runs={self.max_total_runs})"
        )


def _script_config(run_config: Any, estimator: Any) -> Any:
    from runhistory.sdk.script_run_config import ScriptRunConfig

    if (run_config is None) == (estimator is None):
        raise ValidationError("HyperDriveConfig needs run_config= (a ScriptRunConfig)")
    found = run_config if run_config is not None else estimator
    found = getattr(found, "script_run_config", found)  # an Estimator wraps one
    if not isinstance(found, ScriptRunConfig):
        raise ValidationError(f"run_config must be a ScriptRunConfig, got {type(found).__name__}")
    return found
