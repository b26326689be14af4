"""PyTorch Lightning: a ``Logger`` that writes hyper-parameters and metrics to a run.

Example:
    >>> from runhistory.integrations.lightning import RunhistoryLogger  # doctest: +SKIP
    >>> trainer = L.Trainer(max_epochs=3, logger=RunhistoryLogger(run))  # doctest: +SKIP
    >>> trainer.fit(model, train_loader)  # doctest: +SKIP
"""

from __future__ import annotations

import os
from argparse import Namespace
from typing import Any

from runhistory.integrations._common import add_properties, log_numbers, need

__all__ = ["RunhistoryLogger"]


def _lightning() -> Any:
    try:
        import lightning.pytorch as pl
    except ImportError:
        try:
            import pytorch_lightning as pl  # type: ignore[no-redef]
        except ImportError:
            return need("lightning.pytorch", "lightning")  # raises, naming the extra
    return pl


_pl = _lightning()


class RunhistoryLogger(_pl.loggers.Logger):  # type: ignore[misc,name-defined]
    """Lightning logger over a runhistory run.

    ``self.log(...)`` values of the LightningModule are logged at the trainer's global step,
    ``save_hyperparameters()`` values become properties, and with ``log_model=True`` the best
    (or last) checkpoint is stored as ``outputs/checkpoints/<file>`` when training ends.

    Args:
        run: the run to log to; None starts one in ``experiment`` (and completes it when
            training ends, Failed if it fails).
        experiment: with ``run=None``, the :class:`~runhistory.Experiment` to start it in.
        log_model: store the checkpoint file(s) of the trainer's ``ModelCheckpoint``.
    """

    def __init__(self, run: Any = None, experiment: Any = None, log_model: bool = False) -> None:
        super().__init__()
        if run is None and experiment is None:
            from runhistory.errors import ValidationError

            raise ValidationError("RunhistoryLogger needs a run, or an experiment to start one in")
        self._run = run
        self._experiment = experiment
        self._owns_run = run is None
        self.log_model = log_model
        self._checkpoints: set[str] = set()

    @property
    def run(self) -> Any:
        """The run logged to (started on first use when only an experiment was given)."""
        if self._run is None:
            self._run = self._experiment.start_logging()
        return self._run

    @property
    def experiment(self) -> Any:
        """The run, as Lightning's ``logger.experiment`` (for ``run.log_image`` and so on)."""
        return self.run

    @property
    def name(self) -> str:
        """The experiment's name."""
        return str(self.run.experiment.name)

    @property
    def version(self) -> str:
        """The run id."""
        return str(self.run.id)

    def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
        """Add the hyper-parameters as properties."""
        if isinstance(params, Namespace):
            params = vars(params)
        add_properties(self.run, dict(params))

    def log_metrics(self, metrics: dict[str, Any], step: int | None = None) -> None:
        """Log the numbers at the trainer's step."""
        log_numbers(self.run, metrics, step)

    def after_save_checkpoint(self, checkpoint_callback: Any) -> None:
        """Remember the checkpoint files to store at the end (with ``log_model``)."""
        if self.log_model:
            for path in (
                getattr(checkpoint_callback, "best_model_path", ""),
                getattr(checkpoint_callback, "last_model_path", ""),
            ):
                if path:
                    self._checkpoints.add(path)

    def finalize(self, status: str) -> None:
        """Store the checkpoints; complete (or fail) the run this logger started."""
        self.run.flush()
        for path in sorted(self._checkpoints):
            if os.path.isfile(path):
                self.run.upload_file(f"outputs/checkpoints/{os.path.basename(path)}", path)
        self._checkpoints.clear()
        if self._owns_run:
            if status == "success":
                self.run.complete()
            else:
                self.run.fail(error_details=f"training ended with status {status}")
