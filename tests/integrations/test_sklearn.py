"""scikit-learn: a fitted estimator's parameters, scores and curves, read back from the run."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from runhistory.integrations.sklearn import log_estimator


def test_a_classifier_logs_params_scores_and_curves(run: Any, tmp_path: Any) -> None:
    X, y = make_classification(n_samples=120, n_features=5, random_state=0)
    model = LogisticRegression(C=0.5, max_iter=200).fit(X[:80], y[:80])
    scores = log_estimator(run, model, X[80:], y[80:], model_path="outputs/model.pkl")
    properties = run.get_properties()
    assert properties["estimator"] == "LogisticRegression"
    assert properties["C"] == "0.5" and properties["max_iter"] == "200"
    metrics = run.get_metrics()
    expected = float(model.score(X[80:], y[80:]))
    assert metrics["test_score"] == expected == scores["test_score"]
    assert metrics["accuracy"] == expected
    matrix = metrics["confusion_matrix"]
    assert matrix["data"]["class_labels"] == ["0", "1"]
    assert int(np.sum(matrix["data"]["matrix"])) == 40
    assert metrics["accuracy_table"]["schema_type"] == "accuracy_table"
    run.download_file("outputs/model.pkl", str(tmp_path / "model.pkl"))
    with open(tmp_path / "model.pkl", "rb") as handle:
        restored = pickle.load(handle)
    assert restored.score(X[80:], y[80:]) == expected


def test_a_pipeline_and_a_regressor(run: Any) -> None:
    X, y = make_regression(n_samples=60, n_features=3, noise=0.1, random_state=0)
    forest = RandomForestRegressor(n_estimators=5, max_depth=3, random_state=0)
    model = make_pipeline(StandardScaler(), forest).fit(X[:40], y[:40])
    log_estimator(run, model, X[40:], y[40:], prefix="rf.")
    properties = run.get_properties()
    assert properties["rf.estimator"] == "Pipeline"
    assert properties["rf.randomforestregressor__n_estimators"] == "5"
    assert properties["rf.randomforestregressor__max_depth"] == "3"
    metrics = run.get_metrics()
    assert metrics["rf.test_score"] == float(model.score(X[40:], y[40:]))
    assert metrics["rf.residuals"]["schema_type"] == "residuals"
    assert metrics["rf.predictions"]["schema_type"] == "predictions"


def test_a_value_too_long_for_a_property_is_named_not_cut(run: Any, capsys: Any) -> None:
    from runhistory.integrations._common import add_properties

    added = add_properties(run, {"short": 1, "vocabulary": "w" * 6000})
    assert added == {"short": "1"}
    assert run.get_properties()["short"] == "1" and "vocabulary" not in run.get_properties()
    assert "'vocabulary' is not stored as a property" in capsys.readouterr().err
