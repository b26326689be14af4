"""LightGBM: the callback's metrics per iteration, parameters and model, read back."""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np

from runhistory.integrations.lightgbm import RunhistoryCallback


def test_train_logs_each_iteration_with_its_step(run: Any, steps_of: Any, tmp_path: Any) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = (X[:, 0] - X[:, 2] > 0).astype(int)
    train = lgb.Dataset(X[:150], label=y[:150])
    valid = lgb.Dataset(X[150:], label=y[150:], reference=train)
    params = {"objective": "binary", "num_leaves": 4, "learning_rate": 0.2, "verbose": -1,
              "min_data_in_leaf": 5}  # fmt: skip
    booster = lgb.train(
        params, train, num_boost_round=6, valid_sets=[train, valid],
        valid_names=["train", "valid"],
        callbacks=[RunhistoryCallback(run, model_path="outputs/model.txt")],
    )  # fmt: skip
    assert steps_of(run, "train-binary_logloss") == [0, 1, 2, 3, 4, 5]
    assert steps_of(run, "valid-binary_logloss") == [0, 1, 2, 3, 4, 5]
    losses = run.get_metrics()["train-binary_logloss"]
    assert losses == sorted(losses, reverse=True)
    properties = run.get_properties()
    assert properties["num_leaves"] == "4" and properties["learning_rate"] == "0.2"
    assert properties["objective"] == "binary"
    run.download_file("outputs/model.txt", str(tmp_path / "model.txt"))
    restored = lgb.Booster(model_file=str(tmp_path / "model.txt"))
    np.testing.assert_allclose(restored.predict(X[150:]), booster.predict(X[150:]))
