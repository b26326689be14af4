"""LightGBM: a training callback that logs evaluation results per boosting round.

Example:
    >>> from runhistory.integrations.lightgbm import RunhistoryCallback  # doctest: +SKIP
    >>> lgb.train(params, train_set, 20, valid_sets=[valid_set], valid_names=["valid"],
    ...           callbacks=[RunhistoryCallback(run)])  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from runhistory.integrations._common import add_properties, need, upload_model

__all__ = ["RunhistoryCallback"]


class RunhistoryCallback:
    """Logs ``<data>-<metric>`` (``valid-binary_logloss``) at each iteration's step to ``run``.

    The training parameters (``env.params``) are added as properties at the first iteration.
    LightGBM calls it after every iteration (``order`` 30, after LightGBM's own recorders).

    Args:
        run: the run to log to.
        model_path: when given, the booster is stored as this file of the run after the last
            iteration (``outputs/model.txt``, LightGBM's text format).
    """

    order = 30
    before_iteration = False

    def __init__(self, run: Any, model_path: str | None = None) -> None:
        need("lightgbm", "lightgbm")
        self.run = run
        self.model_path = model_path
        self._started = False

    def __call__(self, env: Any) -> None:
        """Log this iteration's evaluation results (LightGBM's callback interface)."""
        if not self._started:
            self._started = True
            add_properties(self.run, env.params)
        for entry in env.evaluation_result_list or []:
            data, metric, value = entry[0], entry[1], entry[2]
            self.run.log(f"{data}-{metric}", float(value), step=env.iteration)
        if self.model_path and env.iteration + 1 >= env.end_iteration:
            upload_model(self.run, self.model_path, env.model.save_model)
