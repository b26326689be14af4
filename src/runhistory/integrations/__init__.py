"""Thin adapters between runhistory's public ``Run`` API and other tools.

Each framework module uses that framework's own callback interface and needs its extra
(``pip install 'runhistory[<framework>]'``): :mod:`.sklearn` (``log_estimator``),
:mod:`.xgboost`, :mod:`.lightgbm`, :mod:`.keras`, :mod:`.transformers` and :mod:`.optuna`
(``RunhistoryCallback``), :mod:`.lightning` (``RunhistoryLogger``); :mod:`.tensorboard` exports
runs as TensorBoard event files. See ``docs/integrations.md``.
"""
