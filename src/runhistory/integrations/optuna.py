"""Optuna: a study callback that records every trial as a child run.

Example:
    >>> from runhistory.integrations.optuna import RunhistoryCallback  # doctest: +SKIP
    >>> study = optuna.create_study(direction="minimize")  # doctest: +SKIP
    >>> callback = RunhistoryCallback(run)  # doctest: +SKIP
    >>> study.optimize(objective, n_trials=20, callbacks=[callback])  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from runhistory.integrations._common import add_properties, need

__all__ = ["RunhistoryCallback"]


class RunhistoryCallback:
    """Each finished trial becomes a child run of ``run``.

    The child (display name ``trial <n>``) gets the trial's parameters as properties (with
    ``optuna.trial_number``), its value as the metric ``metric_name`` (one per objective with a
    list of names), its intermediate values (``trial.report``) as ``<metric_name>`` at their
    steps under ``intermediate/``, and ends Completed — Failed for a failed trial, Canceled
    for a pruned one. The parent logs ``best_value`` at each trial's number and keeps the best
    parameters as tags (``best.<param>``); the study's name and directions are its properties.

    Args:
        run: the parent run (often the run of the tuning script).
        metric_name: the name of the objective's value, or one name per objective.
    """

    def __init__(self, run: Any, metric_name: str | list[str] = "value") -> None:
        need("optuna", "optuna")
        self.run = run
        self.metric_names = [metric_name] if isinstance(metric_name, str) else list(metric_name)
        self._described = False

    def __call__(self, study: Any, trial: Any) -> None:
        """Record one finished trial (Optuna's callback interface)."""
        from optuna.trial import TrialState

        if not self._described:
            self._described = True
            directions = ",".join(d.name.lower() for d in study.directions)
            add_properties(
                self.run, {"optuna.study_name": study.study_name, "optuna.directions": directions}
            )
        child = self.run.child_run(name=f"trial {trial.number}")
        add_properties(child, {"optuna.trial_number": trial.number, **trial.params})
        child.tag("optuna.state", trial.state.name)
        for step, value in sorted(trial.intermediate_values.items()):
            child.log(f"intermediate/{self.metric_names[0]}", float(value), step=step)
        values = trial.values or []
        for name, value in zip(self._names(len(values)), values, strict=True):
            child.log(name, float(value))
        if trial.state == TrialState.FAIL:
            child.fail(error_details=f"trial {trial.number} failed", error_code="TrialFailed")
        elif trial.state == TrialState.PRUNED:
            child.cancel()
        else:
            child.complete()
        self._record_best(study)

    def _names(self, count: int) -> list[str]:
        if len(self.metric_names) == count:
            return self.metric_names
        return [f"{self.metric_names[0]}_{i}" for i in range(count)]

    def _record_best(self, study: Any) -> None:
        if len(study.directions) != 1:
            return  # several objectives have a Pareto front, not one best trial
        try:
            best = study.best_trial
        except ValueError:  # no trial completed yet
            return
        self.run.log("best_value", float(best.value), step=len(study.trials) - 1)
        self.run.set_tags({f"best.{k}": str(v) for k, v in best.params.items()})
