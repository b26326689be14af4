"""HyperDrive without processes: expressions, samplings, policies, the sampler, the config."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from runhistory import ScriptRunConfig
from runhistory.errors import ValidationError
from runhistory.hyperdrive import (
    BanditPolicy,
    BayesianParameterSampling,
    GridParameterSampling,
    HyperDriveConfig,
    MedianStoppingPolicy,
    NoTerminationPolicy,
    PrimaryMetricGoal,
    RandomParameterSampling,
    TruncationSelectionPolicy,
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
from runhistory.hyperdrive.children import child_definition, child_properties
from runhistory.hyperdrive.policy import policy_from_json
from runhistory.hyperdrive.suggest import Suggester

pytest.importorskip("optuna", reason="the [sweep] extra is not installed")


def test_expressions_have_the_original_shape() -> None:
    assert choice(1, 2, 3) == ["choice", [[1, 2, 3]]]
    assert choice([1, 2]) == choice(range(1, 3)) == ["choice", [[1, 2]]]
    assert uniform(0, 1) == ["uniform", [0, 1]]
    assert qloguniform(-3, 0, 0.01) == ["qloguniform", [-3, 0, 0.01]]
    assert randint(5) == ["randint", [5]]


@pytest.mark.parametrize(
    "make",
    [
        lambda: choice(),
        lambda: choice([1, [2]]),
        lambda: uniform(1, 1),
        lambda: quniform(0, 1, 0),
        lambda: normal(0, -1),
        lambda: randint(0),
        lambda: loguniform(float("nan"), 1),
    ],
)
def test_bad_expressions_are_refused(make: object) -> None:
    with pytest.raises(ValidationError):
        make()  # type: ignore[operator]


def test_samplings_refuse_what_they_cannot_draw() -> None:
    with pytest.raises(ValidationError, match="GridParameterSampling cannot draw uniform"):
        GridParameterSampling({"lr": uniform(0, 1)})
    with pytest.raises(ValidationError, match="BayesianParameterSampling cannot draw normal"):
        BayesianParameterSampling({"lr": normal(0, 1)})
    with pytest.raises(ValidationError, match="parameter expression"):
        RandomParameterSampling({"lr": 0.1})
    with pytest.raises(ValidationError, match="argument names"):
        RandomParameterSampling({"two words": choice(1)})
    assert GridParameterSampling({"a": choice(1, 2), "b": choice(1, 2, 3)}).grid_size == 6


def test_random_draws_stay_in_their_distributions() -> None:
    space = {
        "c": choice("x", "y"),
        "i": randint(4),
        "u": uniform(2, 3),
        "qu": quniform(0, 10, 2),
        "lu": loguniform(math.log(1e-3), math.log(1e-1)),
        "qlu": qloguniform(0, 3, 1),
        "n": normal(100, 1),
        "qn": qnormal(100, 1, 5),
        "ln": lognormal(0, 0.1),
        "qln": qlognormal(0, 0.1, 0.5),
    }
    sampling = RandomParameterSampling(space, properties={"rngSeed": 7})
    suggester = Suggester(sampling.to_json(), maximize=True)
    draws = [suggester.ask().values for _ in range(30)]
    for values in draws:
        assert values["c"] in ("x", "y") and values["i"] in range(4)
        assert 2 <= values["u"] <= 3 and values["qu"] in (0, 2, 4, 6, 8, 10)
        assert 1e-3 <= values["lu"] <= 1e-1 and values["qlu"] == round(values["qlu"])
        assert 90 < values["n"] < 110 and values["qn"] % 5 == 0
        assert 0.5 < values["ln"] < 2 and (values["qln"] / 0.5) == round(values["qln"] / 0.5)
    assert len({v["u"] for v in draws}) == 30  # really random
    again = Suggester(sampling.to_json(), maximize=True)
    assert [again.ask().values for _ in range(30)] == draws  # the seed repeats them


def test_grid_draws_every_combination_once_while_trials_are_open() -> None:
    sampling = GridParameterSampling({"a": choice(1, 2), "b": choice("p", "q", "r")})
    suggester = Suggester(sampling.to_json(), maximize=True)
    assert suggester.capacity == 6
    trials = [suggester.ask() for _ in range(6)]  # none told yet: all running at once
    combos = {(t.values["a"], t.values["b"]) for t in trials}
    assert combos == {(a, b) for a in (1, 2) for b in "pqr"}


def test_bayesian_learns_from_told_results() -> None:
    sampling = BayesianParameterSampling({"x": uniform(0, 10)}, properties={"rngSeed": 1})
    suggester = Suggester(sampling.to_json(), maximize=False)
    for _ in range(12):
        trial = suggester.ask()
        suggester.tell(trial.number, (trial.values["x"] - 3) ** 2)
    best = min((t for t in suggester._study.trials if t.value is not None), key=lambda t: t.value)
    assert abs(best.params["x"] - 3) < 1.5


def test_policies_look_at_the_intervals_they_are_told() -> None:
    policy = BanditPolicy(slack_factor=0.1, evaluation_interval=2, delay_evaluation=3)
    assert [n for n in range(1, 9) if policy.due(n)] == [4, 6, 8]
    assert [n for n in range(1, 4) if NoTerminationPolicy().due(n)] == [1, 2, 3]


def test_bandit_stops_a_run_outside_the_slack() -> None:
    series = {"good": [0.8, 0.9], "close": [0.8, 0.85], "bad": [0.5, 0.6]}
    factor = BanditPolicy(slack_factor=0.1)
    assert factor.check("close", 2, series, maximize=True) is None  # 0.85 >= 0.9 / 1.1
    reason = factor.check("bad", 2, series, maximize=True)
    assert reason is not None and "BanditPolicy" in reason and "0.6" in reason
    amount = BanditPolicy(slack_amount=0.2)
    assert amount.check("bad", 2, series, maximize=True) is not None  # 0.6 < 0.9 - 0.2
    losses = {"good": [0.1], "bad": [0.5]}
    assert amount.check("bad", 1, losses, maximize=False) is not None  # 0.5 > 0.1 + 0.2
    assert amount.check("good", 1, losses, maximize=False) is None
    with pytest.raises(ValidationError, match="exactly one"):
        BanditPolicy(slack_factor=0.1, slack_amount=0.1)


def test_median_stopping_compares_with_the_running_averages() -> None:
    series = {"a": [1.0, 1.0], "b": [0.8, 0.8], "c": [0.2, 0.3], "d": [0.9, 0.95]}
    policy = MedianStoppingPolicy()
    assert policy.check("c", 2, series, maximize=True) is not None  # 0.3 < median(1, .8, .925)
    assert policy.check("d", 2, series, maximize=True) is None
    assert policy.check("a", 1, {"a": [1.0]}, maximize=True) is None  # nobody to compare with


def test_truncation_stops_the_lowest_share() -> None:
    series = {"a": [4.0], "b": [3.0], "c": [2.0], "d": [1.0]}
    policy = TruncationSelectionPolicy(truncation_percentage=50)
    stopped = {r for r in series if policy.check(r, 1, series, maximize=True)}
    assert stopped == {"c", "d"}
    minimizing = {r for r in series if policy.check(r, 1, series, maximize=False)}
    assert minimizing == {"a", "b"}
    restored = policy_from_json(policy.to_json())
    assert isinstance(restored, TruncationSelectionPolicy)
    assert restored.truncation_percentage == 50


def test_config_checks_its_limits_and_policy(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("print(1)\n")
    script = ScriptRunConfig(tmp_path, "train.py")
    grid = GridParameterSampling({"a": choice(1, 2, 3)})

    def config(**kwargs: object) -> HyperDriveConfig:
        values: dict[str, object] = {
            "run_config": script,
            "hyperparameter_sampling": grid,
            "primary_metric_name": "acc",
            "primary_metric_goal": PrimaryMetricGoal.MAXIMIZE,
            "max_total_runs": 10,
        }
        values.update(kwargs)
        return HyperDriveConfig(**values)  # type: ignore[arg-type]

    made = config(max_concurrent_runs=2)
    assert made.max_total_runs == 3 and made.max_concurrent_runs == 2  # the grid's size
    assert made.to_json()["policy"]["name"] == "Default"
    with pytest.raises(ValidationError, match="max_total_runs"):
        config(max_total_runs=0)
    with pytest.raises(ValidationError, match="primary_metric_goal"):
        config(primary_metric_goal="BIGGER")
    with pytest.raises(ValidationError, match="no early-termination policy"):
        config(
            hyperparameter_sampling=BayesianParameterSampling({"a": choice(1, 2)}),
            policy=BanditPolicy(slack_factor=0.1),
        )
    with pytest.raises(ValidationError, match="run_config"):
        config(run_config=None)


def test_children_get_their_values_as_arguments() -> None:
    definition = {"compute": {"script": "train.py", "arguments": ["--epochs", "3"]}}
    child = child_definition(definition, {"lr": 0.5, "--batch": 16})
    assert child["compute"]["arguments"] == ["--epochs", "3", "--lr", "0.5", "--batch", "16"]
    assert definition["compute"]["arguments"] == ["--epochs", "3"]  # the sweep's is unchanged


def test_children_record_their_values_as_properties() -> None:
    properties = child_properties({"lr": 0.5, "--batch": 16})
    assert properties == {
        "lr": "0.5",
        "batch": "16",
        "_hyperparameters": '{"lr": 0.5, "--batch": 16}',
    }
