"""The deprecated Estimator and SKLearn wrappers: they warn, then submit a ScriptRunConfig."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from runhistory import Experiment, ScriptRunConfig
from runhistory.compat import azureml as alias
from runhistory.errors import ValidationError
from runhistory.hyperdrive import (
    GridParameterSampling,
    HyperDriveConfig,
    PrimaryMetricGoal,
    choice,
)
from runhistory.tracking import status as st
from runhistory.train import Estimator, SKLearn


def test_estimator_warns_and_submits_its_script(
    exp: Experiment, score_source: Path, wait_terminal: Callable[..., str]
) -> None:
    with pytest.warns(DeprecationWarning, match="Estimator is deprecated"):
        estimator = Estimator(
            score_source,
            entry_script="train.py",
            script_params={"--a": 4, "--b": "q"},
            compute_target="local",
            environment_variables={"TRAIN_MODE": "quick"},
        )
    assert isinstance(estimator.script_run_config, ScriptRunConfig)
    assert estimator.script_run_config.arguments == ["--a", 4, "--b", "q"]
    run = exp.submit(estimator)
    assert wait_terminal(run) == st.COMPLETED
    assert run.get_metrics()["score"] == 41
    definition = run.get_details()["runDefinition"]
    assert definition["environment"]["definition"]["environmentVariables"] == {
        "TRAIN_MODE": "quick"
    }


def test_sklearn_warns_submits_and_adds_its_framework(
    exp: Experiment, score_source: Path, wait_terminal: Callable[..., str]
) -> None:
    with pytest.warns(DeprecationWarning, match="SKLearn is deprecated"):
        plain = SKLearn(score_source, entry_script="train.py", script_params={"--a": 1})
    run = exp.submit(plain)
    assert wait_terminal(run) == st.COMPLETED and run.get_metrics()["score"] == 10
    with pytest.warns(DeprecationWarning):
        packaged = SKLearn(
            score_source, entry_script="train.py", pip_packages=["numpy"], framework_version="1.5"
        )
    pip = list(packaged.script_run_config.environment.python.conda_dependencies.pip_packages)
    assert "numpy" in pip and "scikit-learn==1.5" in pip


def test_an_estimator_can_be_swept(
    exp: Experiment, score_source: Path, wait_terminal: Callable[..., str]
) -> None:
    with pytest.warns(DeprecationWarning):
        estimator = Estimator(score_source, entry_script="train.py")
    config = HyperDriveConfig(
        estimator=estimator,
        hyperparameter_sampling=GridParameterSampling({"a": choice(1, 2)}),
        primary_metric_name="score",
        primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
        max_total_runs=2,
    )
    sweep = exp.submit(config)
    assert wait_terminal(sweep) == st.COMPLETED
    best = sweep.get_best_run_by_primary_metric()
    assert best is not None and best.get_metrics()["score"] == 20


def test_wrappers_refuse_what_they_cannot_build(score_source: Path) -> None:
    with pytest.warns(DeprecationWarning), pytest.raises(ValidationError, match="entry_script"):
        Estimator(score_source)


def test_the_alias_provides_the_training_modules() -> None:
    alias.install()
    try:
        from azureml.train.estimator import Estimator as AliasedEstimator
        from azureml.train.hyperdrive import BanditPolicy
        from azureml.train.hyperdrive import HyperDriveConfig as Aliased
        from azureml.train.hyperdrive.parameter_expressions import uniform
        from azureml.train.sklearn import SKLearn as AliasedSKLearn

        assert AliasedEstimator is Estimator and AliasedSKLearn is SKLearn
        assert Aliased is HyperDriveConfig and uniform(0, 1) == ["uniform", [0, 1]]
        assert BanditPolicy(slack_factor=0.2).slack_factor == 0.2
    finally:
        alias.uninstall()
