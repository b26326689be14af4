"""Optuna: each trial a child run with its parameters and value; the best on the parent."""

from __future__ import annotations

from typing import Any

import optuna
import pytest

from runhistory.integrations.optuna import RunhistoryCallback
from runhistory.tracking import status as st


def test_trials_become_child_runs(run: Any, steps_of: Any) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", -4, 4)
        layers = trial.suggest_int("layers", 1, 3)
        for step in range(3):
            trial.report((x - 1) ** 2 + step, step)
        if trial.number == 2:
            raise optuna.TrialPruned()
        if trial.number == 3:
            raise ValueError("diverged")
        return (x - 1) ** 2 + layers

    study = optuna.create_study(study_name="tiny", sampler=optuna.samplers.RandomSampler(seed=0))
    callback = RunhistoryCallback(run, metric_name="loss")
    study.optimize(objective, n_trials=5, callbacks=[callback], catch=(ValueError,))
    children = {c.get_properties()["optuna.trial_number"]: c for c in run.get_children()}
    assert sorted(children) == ["0", "1", "2", "3", "4"]
    for trial in study.trials:
        child = children[str(trial.number)]
        properties = child.get_properties()
        assert properties["x"] == repr(trial.params["x"])
        assert properties["layers"] == str(trial.params["layers"])
        assert child.display_name == f"trial {trial.number}"
        assert steps_of(child, "intermediate/loss") == [0, 1, 2]
        assert child.get_tags()["optuna.state"] == trial.state.name
        if trial.state == optuna.trial.TrialState.FAIL:
            assert child.get_status() == st.FAILED
            assert "loss" not in child.get_metrics()
            continue
        pruned = trial.state == optuna.trial.TrialState.PRUNED
        assert child.get_status() == (st.CANCELED if pruned else st.COMPLETED)
        # Optuna gives a pruned trial its last reported value
        assert child.get_metrics()["loss"] == pytest.approx(trial.value)
    states = [t.state.name for t in study.trials]
    assert states.count("PRUNED") == 1 and states.count("FAIL") == 1
    assert run.get_properties()["optuna.directions"] == "minimize"
    assert run.get_metrics()["best_value"][-1] == pytest.approx(study.best_value)
    assert run.get_tags()["best.x"] == str(study.best_params["x"])
