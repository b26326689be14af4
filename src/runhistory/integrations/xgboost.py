"""XGBoost: a training callback that logs evaluation metrics per boosting round.

Example:
    >>> from runhistory.integrations.xgboost import RunhistoryCallback  # doctest: +SKIP
    >>> xgb.train(params, dtrain, 20, evals=[(dvalid, "valid")],  # doctest: +SKIP
    ...           callbacks=[RunhistoryCallback(run, params=params)])
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runhistory.integrations._common import add_properties, need, upload_model

__all__ = ["RunhistoryCallback"]

_xgb = need("xgboost", "xgboost")


class RunhistoryCallback(_xgb.callback.TrainingCallback):  # type: ignore[misc,name-defined]
    """Logs ``<data>-<metric>`` (``valid-logloss``) at each round's step to ``run``.

    Args:
        run: the run to log to.
        params: the training parameters, added as properties (``xgb.train`` does not show
            them to callbacks); with the scikit-learn API (``XGBClassifier(callbacks=...)``)
            they are read from the model's configuration when not given.
        model_path: when given, the trained booster is stored as this file of the run
            (``outputs/model.json``; the extension picks XGBoost's format).
    """

    def __init__(
        self, run: Any, params: Mapping[str, Any] | None = None, model_path: str | None = None
    ) -> None:
        super().__init__()
        self.run = run
        self.params = dict(params) if params is not None else None
        self.model_path = model_path

    def before_training(self, model: Any) -> Any:
        """Add the parameters as properties."""
        params = self.params if self.params is not None else _configured(model)
        add_properties(self.run, params)
        return model

    def after_iteration(self, model: Any, epoch: int, evals_log: Mapping[str, Any]) -> bool:
        """Log the newest value of each evaluation metric at step ``epoch``."""
        for data, metrics in evals_log.items():
            for metric, history in metrics.items():
                value = history[-1]
                if isinstance(value, tuple):  # (mean, std) under xgb.cv
                    value = value[0]
                self.run.log(f"{data}-{metric}", float(value), step=epoch)
        return False  # never asks training to stop

    def after_training(self, model: Any) -> Any:
        """Store the model when asked."""
        if self.model_path:
            upload_model(self.run, self.model_path, model.save_model)
        return model


def _configured(model: Any) -> dict[str, Any]:
    """The training parameters a booster was configured with (learner and tree settings)."""
    import json

    try:
        learner = json.loads(model.save_config())["learner"]
    except Exception:
        return {}
    found: dict[str, Any] = dict(learner.get("learner_train_param", {}))
    booster = learner.get("gradient_booster", {})
    for section in ("tree_train_param", "gbtree_train_param"):
        found.update(booster.get(section, {}) or booster.get("updater", {}).get(section, {}))
    objective = learner.get("objective", {}).get("name")
    if objective:
        found["objective"] = objective
    return found
