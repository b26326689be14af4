"""scikit-learn: log a fitted estimator's parameters, test scores and curves to a run.

Example:
    >>> from runhistory.integrations.sklearn import log_estimator  # doctest: +SKIP
    >>> model = LogisticRegression().fit(X_train, y_train)  # doctest: +SKIP
    >>> log_estimator(run, model, X_test, y_test, model_path="outputs/model.pkl")  # doctest: +SKIP
"""

from __future__ import annotations

import pickle
from typing import Any

from runhistory.integrations._common import add_properties, need, upload_model

__all__ = ["log_estimator"]


def log_estimator(
    run: Any,
    estimator: Any,
    X_test: Any = None,
    y_test: Any = None,
    prefix: str = "",
    model_path: str | None = None,
) -> dict[str, Any]:
    """Log a fitted scikit-learn estimator to ``run``.

    * its parameters (``get_params()``, nested ones dotted) as properties, and its class as
      the ``estimator`` property;
    * with test data: ``<prefix>test_score`` (the estimator's own ``score``); for a classifier
      ``<prefix>accuracy``, a ``<prefix>confusion_matrix`` and, when it predicts probabilities,
      an ``<prefix>accuracy_table`` (ROC and precision-recall curves in the studio) built with
      :mod:`runhistory.metrics`; for a regressor ``<prefix>residuals`` and
      ``<prefix>predictions``;
    * with ``model_path``, the pickled estimator as that file of the run.

    Returns:
        The scalar scores logged, by metric name.
    """
    need("sklearn", "sklearn")
    import numpy as np
    from sklearn.base import is_classifier, is_regressor

    from runhistory import metrics

    params = {k: v for k, v in estimator.get_params(deep=True).items() if not _is_estimator(v)}
    add_properties(run, {"estimator": type(estimator).__name__, **params}, prefix)
    scores: dict[str, Any] = {}
    if X_test is not None and y_test is not None:
        scores[prefix + "test_score"] = float(estimator.score(X_test, y_test))
        if is_classifier(estimator):
            predicted = estimator.predict(X_test)
            scores[prefix + "accuracy"] = float((predicted == np.asarray(y_test)).mean())
            labels = list(getattr(estimator, "classes_", []))
            run.log_confusion_matrix(
                prefix + "confusion_matrix", metrics.confusion_matrix(y_test, predicted, labels)
            )
            if hasattr(estimator, "predict_proba"):
                table = metrics.accuracy_table(y_test, estimator.predict_proba(X_test), labels)
                run.log_accuracy_table(prefix + "accuracy_table", table)
        elif is_regressor(estimator):
            predicted = estimator.predict(X_test)
            run.log_residuals(prefix + "residuals", metrics.residuals(y_test, predicted))
            run.log_predictions(prefix + "predictions", metrics.predictions(y_test, predicted))
        for name, value in scores.items():
            run.log(name, value)
    if model_path:
        upload_model(run, model_path, lambda path: _pickle(estimator, path))
    return scores


def _is_estimator(value: Any) -> bool:
    return hasattr(value, "get_params") and hasattr(value, "fit")


def _pickle(estimator: Any, path: str) -> None:
    with open(path, "wb") as handle:
        pickle.dump(estimator, handle)
