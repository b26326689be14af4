"""A realistic run logged into the default workspace: `make demo`.

Trains a small softmax classifier with numpy on synthetic data and logs what a training
script usually logs: scalar and vector metrics with steps, rows, a table, an image, a
confusion matrix and an accuracy table, tags, properties, two child runs, an output file and a
registered model.
"""

from __future__ import annotations

import json
import os
import tempfile

import numpy as np

from runhistory import Experiment, Workspace
from runhistory import metrics as rm

CLASSES = 3


def make_data(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    centers = np.array([[0.0, 0.0], [2.5, 0.5], [1.0, 2.5]])
    labels = rng.integers(0, CLASSES, size=n)
    points = centers[labels] + rng.normal(scale=0.8, size=(n, 2))
    return points, labels


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def train(run, x, y, lr: float, epochs: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    weights = np.zeros((x.shape[1] + 1, CLASSES))
    xb = np.hstack([x, np.ones((len(x), 1))])
    onehot = np.eye(CLASSES)[y]
    for epoch in range(epochs):
        probs = softmax(xb @ weights)
        loss = float(-np.mean(np.sum(onehot * np.log(probs + 1e-12), axis=1)))
        accuracy = float(np.mean(probs.argmax(axis=1) == y))
        weights -= lr * xb.T @ (probs - onehot) / len(x)
        run.log("loss", loss, step=epoch)
        run.log("accuracy", accuracy, step=epoch)
        if epoch % 10 == 0:
            run.log_row("progress", epoch=epoch, loss=round(loss, 4), accuracy=round(accuracy, 4))
    return weights


def main() -> None:
    rng = np.random.default_rng(7)
    x_train, y_train = make_data(rng, 600)
    x_test, y_test = make_data(rng, 200)
    ws = Workspace()
    experiment = Experiment(ws, "demo-softmax")
    run = experiment.start_logging(display_name="softmax on blobs", outputs=tempfile.mkdtemp())
    run.tag("demo")
    run.set_tags({"dataset": "synthetic-blobs", "framework": "numpy"})
    run.add_properties({"classes": str(CLASSES), "train_size": str(len(x_train))})
    run.log("learning_rate", 0.5)
    run.log_list("class_names", ["red", "green", "blue"])

    results = {}
    for lr in (0.05, 0.5):
        with run.child_run(name=f"lr={lr}") as child:
            child.log("learning_rate", lr)
            weights = train(child, x_train, y_train, lr, epochs=60)
            xb = np.hstack([x_test, np.ones((len(x_test), 1))])
            results[lr] = (weights, softmax(xb @ weights))
            child.log("test_accuracy", float(np.mean(results[lr][1].argmax(axis=1) == y_test)))

    weights, probs = results[0.5]
    predicted = probs.argmax(axis=1)
    labels = [str(c) for c in range(CLASSES)]
    run.log_table(
        "test_summary",
        {
            "learning_rate": [0.05, 0.5],
            "test_accuracy": [
                float(np.mean(results[k][1].argmax(axis=1) == y_test)) for k in (0.05, 0.5)
            ],
        },
    )
    run.log_confusion_matrix(
        "confusion_matrix", rm.confusion_matrix(y_test, predicted, class_labels=labels)
    )
    run.log_accuracy_table(
        "accuracy_table", rm.accuracy_table(y_test, probs, class_labels=labels, num_points=21)
    )
    run.log_residuals(
        "residuals", rm.residuals(y_test.astype(float), predicted.astype(float), num_bins=5)
    )
    run.log_predictions(
        "predictions", rm.predictions(y_test.astype(float), probs @ np.arange(CLASSES), num_bins=5)
    )
    run.log_image("decision_scores", plot=_figure(probs, y_test))

    model_file = os.path.join(tempfile.mkdtemp(), "model.json")
    with open(model_file, "w") as handle:
        json.dump({"weights": weights.tolist()}, handle)
    run.upload_file("outputs/model.json", model_file)
    run.complete()
    model = run.register_model(
        "demo-softmax",
        model_path="outputs/model.json",
        tags={"stage": "demo"},
        model_framework="Custom",
    )

    print(f"\nLogged run {run.id} (#{run.number}) in experiment {experiment.name!r}")
    print(f"  workspace:  {ws.tracking_uri}")
    print(f"  metrics:    {', '.join(sorted(run.get_metrics()))}")
    print(f"  files:      {', '.join(run.get_file_names())}")
    print(f"  children:   {', '.join(c.display_name or c.id for c in run.get_children())}")
    print(f"  model:      {model.id}")
    print(f"  status:     {run.get_status()}")
    print(f"  studio:     {run.get_portal_url()}  (start it with: runhistory ui)")


def _figure(probs: np.ndarray, labels: np.ndarray):  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(4, 3))
    for c in range(CLASSES):
        axis.hist(probs[labels == c, c], bins=20, alpha=0.6, label=f"class {c}")
    axis.set_xlabel("score of the true class")
    axis.legend()
    return figure


if __name__ == "__main__":
    main()
