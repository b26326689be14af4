"""Keras 3 (torch backend, CPU): epoch metrics at their steps, fit parameters, the saved model."""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "torch")  # Keras 3 on the torch CPU build, no TensorFlow

import keras
import numpy as np
import pytest

from runhistory.integrations.keras import RunhistoryCallback

pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


def test_fit_logs_epochs_params_and_model(run: Any, steps_of: Any, tmp_path: Any) -> None:
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x.sum(axis=1) > 0).astype("float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])  # fmt: skip
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="binary_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    callback = RunhistoryCallback(run, log_every_n_batches=2, model_path="outputs/model.keras")
    history = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0,
                        callbacks=[callback])  # fmt: skip
    for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert steps_of(run, name) == [0, 1, 2], name
    metrics = run.get_metrics()
    assert metrics["loss"] == pytest.approx(history.history["loss"])
    assert steps_of(run, "batch/loss") == [2, 4, 6, 8]  # 3 batches x 3 epochs, every 2nd
    properties = run.get_properties()
    assert properties["epochs"] == "3"
    assert properties["optimizer.name"] == "sgd"
    assert float(properties["optimizer.learning_rate"]) == pytest.approx(0.1)
    run.download_file("outputs/model.keras", str(tmp_path / "model.keras"))
    restored = keras.saving.load_model(str(tmp_path / "model.keras"))
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0))
