"""XGBoost: the callback's metrics per round, parameters and model, read back from the run."""

from __future__ import annotations

from typing import Any

import numpy as np
import xgboost as xgb

from runhistory.integrations.xgboost import RunhistoryCallback


def _data() -> tuple[Any, Any]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    return X, y


def test_train_logs_each_round_with_its_step(run: Any, steps_of: Any, tmp_path: Any) -> None:
    X, y = _data()
    dtrain, dvalid = xgb.DMatrix(X[:150], label=y[:150]), xgb.DMatrix(X[150:], label=y[150:])
    params = {"objective": "binary:logistic", "max_depth": 2, "eta": 0.3, "eval_metric": "logloss"}
    callback = RunhistoryCallback(run, params=params, model_path="outputs/model.json")
    booster = xgb.train(
        params, dtrain, num_boost_round=5, evals=[(dtrain, "train"), (dvalid, "valid")],
        callbacks=[callback], verbose_eval=False,
    )  # fmt: skip
    assert steps_of(run, "train-logloss") == [0, 1, 2, 3, 4]
    assert steps_of(run, "valid-logloss") == [0, 1, 2, 3, 4]
    losses = run.get_metrics()["train-logloss"]
    assert losses == sorted(losses, reverse=True)  # training loss falls round by round
    properties = run.get_properties()
    assert properties["max_depth"] == "2" and properties["eta"] == "0.3"
    assert properties["objective"] == "binary:logistic"
    run.download_file("outputs/model.json", str(tmp_path / "model.json"))
    restored = xgb.Booster(model_file=str(tmp_path / "model.json"))
    np.testing.assert_allclose(restored.predict(dvalid), booster.predict(dvalid))


def test_the_sklearn_api_reads_params_from_the_model(run: Any, steps_of: Any) -> None:
    X, y = _data()
    model = xgb.XGBClassifier(
        n_estimators=3, max_depth=3, learning_rate=0.2, callbacks=[RunhistoryCallback(run)]
    )
    model.fit(X[:150], y[:150], eval_set=[(X[150:], y[150:])], verbose=False)
    assert steps_of(run, "validation_0-logloss") == [0, 1, 2]
    properties = run.get_properties()
    assert properties["max_depth"] == "3"
    assert properties["objective"] == "binary:logistic"
