"""The original SDK's older training wrappers: ``azureml.train.estimator`` and ``.sklearn``.

They are deprecated there as here: each builds a ``ScriptRunConfig`` and warns.
"""

from __future__ import annotations

from runhistory.train.estimator import Estimator, SKLearn

__all__ = ["Estimator", "SKLearn"]
