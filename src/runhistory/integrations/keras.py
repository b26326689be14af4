"""Keras 3: a callback that logs ``fit`` metrics per epoch (and per batch if asked).

Example:
    >>> from runhistory.integrations.keras import RunhistoryCallback  # doctest: +SKIP
    >>> model.fit(x, y, epochs=5, validation_split=0.2,  # doctest: +SKIP
    ...           callbacks=[RunhistoryCallback(run, model_path="outputs/model.keras")])
"""

from __future__ import annotations

from typing import Any

from runhistory.integrations._common import add_properties, log_numbers, need, upload_model

__all__ = ["RunhistoryCallback"]

_keras = need("keras", "keras")


class RunhistoryCallback(_keras.callbacks.Callback):  # type: ignore[misc,name-defined]
    """Logs each epoch's ``logs`` (``loss``, ``val_loss``, ``accuracy``…) at step ``epoch``.

    At the start of training the fit parameters (``epochs``, ``steps``) and the optimizer's
    configuration (``optimizer.learning_rate``…) become properties.

    Args:
        run: the run to log to.
        log_every_n_batches: also log the running batch metrics as ``batch/<name>`` at the
            global batch number every this many batches (0: epochs only).
        model_path: when given, the trained model is saved (``model.save``) and stored as this
            file of the run when training ends (``outputs/model.keras``).
    """

    def __init__(self, run: Any, log_every_n_batches: int = 0, model_path: str | None = None):
        super().__init__()
        self.run = run
        self.log_every_n_batches = int(log_every_n_batches)
        self.model_path = model_path
        self._batches = 0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Add the fit parameters and the optimizer's configuration as properties."""
        params: dict[str, Any] = {
            k: v for k, v in (self.params or {}).items() if v is not None and k != "verbose"
        }
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None:
            config = optimizer.get_config()
            params["optimizer"] = {
                k: v for k, v in config.items() if isinstance(v, (int, float, str, bool))
            }
        add_properties(self.run, params)

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Every ``log_every_n_batches`` batches, log the running metrics."""
        self._batches += 1
        every = self.log_every_n_batches
        if every and logs and self._batches % every == 0:
            log_numbers(self.run, logs, self._batches, prefix="batch/")

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Log the epoch's metrics at step ``epoch``."""
        log_numbers(self.run, logs or {}, epoch)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        """Store the model when asked."""
        if self.model_path:
            upload_model(self.run, self.model_path, self.model.save)
