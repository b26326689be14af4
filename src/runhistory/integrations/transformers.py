"""Hugging Face Transformers: a ``TrainerCallback`` that logs the ``Trainer``'s logs.

Example:
    >>> from runhistory.integrations.transformers import RunhistoryCallback  # doctest: +SKIP
    >>> trainer = Trainer(model=model, args=args, train_dataset=train,  # doctest: +SKIP
    ...                   callbacks=[RunhistoryCallback(run)])
    >>> trainer.train()  # doctest: +SKIP

Pass ``report_to="none"`` (or leave it at its default) in ``TrainingArguments``: Transformers
keeps its ``report_to`` names in a table of its own with no way to register one more, so the
callback is given to the ``Trainer`` directly.
"""

from __future__ import annotations

from typing import Any

from runhistory.integrations._common import add_properties, log_numbers, need, upload_model

__all__ = ["RunhistoryCallback"]

_transformers = need("transformers", "transformers")


class RunhistoryCallback(_transformers.TrainerCallback):  # type: ignore[misc,name-defined]
    """Logs every ``Trainer`` log (``loss``, ``learning_rate``, ``eval_loss``…) at its global step.

    When training begins the ``TrainingArguments`` become properties (``args.<name>``), and the
    model's configuration too (``model.<name>``). The trainer's own metric names are kept
    (``loss``, ``eval_loss``, ``train_runtime``…).

    Args:
        run: the run to log to (only the main process of a distributed training logs).
        model_path: when given, the trained model is saved (``save_pretrained``) and stored as
            this folder of the run when training ends (``outputs/model``).
    """

    def __init__(self, run: Any, model_path: str | None = None) -> None:
        self.run = run
        self.model_path = model_path
        self._described = False

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Add the training arguments and model configuration as properties."""
        if self._described or not state.is_world_process_zero:
            return
        self._described = True
        params: dict[str, Any] = {"args": args.to_sanitized_dict()}
        model = kwargs.get("model")
        config = getattr(model, "config", None)
        if config is not None:
            params["model"] = {
                k: v
                for k, v in config.to_dict().items()
                if isinstance(v, (int, float, str, bool)) and not k.startswith("_")
            }
        add_properties(self.run, params)

    def on_log(
        self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kw: Any
    ) -> None:
        """Log the numbers of one trainer log at ``state.global_step``."""
        if state.is_world_process_zero and logs:
            log_numbers(self.run, logs, state.global_step)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Store the model when asked."""
        model = kwargs.get("model")
        if self.model_path and model is not None and state.is_world_process_zero:
            upload_model(self.run, self.model_path, model.save_pretrained)
