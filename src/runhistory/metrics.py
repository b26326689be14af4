"""Build structured metric documents from raw labels, scores and predictions.

Each helper returns a document ready for the matching ``Run.log_*`` call::

    from runhistory import metrics

    run.log_confusion_matrix("cm", metrics.confusion_matrix(y_true, y_pred))
    run.log_accuracy_table("acc", metrics.accuracy_table(y_true, y_proba))
    run.log_residuals("res", metrics.residuals(y_true, y_pred))
    run.log_predictions("pred", metrics.predictions(y_true, y_pred))

The helpers need numpy, which is imported only when one of them is called.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from runhistory.errors import InvalidMetricError
from runhistory.tracking.structured import validate_document

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import ArrayLike, NDArray

__all__ = ["accuracy_table", "confusion_matrix", "predictions", "residuals"]


def accuracy_table(
    y_true: ArrayLike,
    y_score: ArrayLike,
    class_labels: Sequence[Any] | None = None,
    num_points: int = 100,
) -> dict[str, Any]:
    """Build an ``accuracy_table`` document (TP, FP, TN, FN over a sweep of thresholds).

    Each class is scored one-vs-rest. At threshold ``t`` a sample is predicted positive for a
    class when its score for that class is ``>= t`` (the Azure ML rule): at ``t = 0`` every
    sample is positive, at ``t = 1`` only samples scored exactly 1.

    Two sets of ``num_points`` thresholds are swept:

    * probability thresholds, evenly spaced from 0 to 1;
    * percentile thresholds, the 0th … 100th percentiles (evenly spaced) of all predicted
      probabilities pooled over the classes. The document has a single list of percentile
      thresholds, shared by every class, hence the pooling.

    Args:
        y_true: ``[N]`` true labels. Labels are matched to ``class_labels`` by their string form
            (``1``, ``1.0`` and ``"1"`` all match ``"1"``).
        y_score: ``[N]`` probabilities of the positive class of a binary problem (classes are
            then ``["0", "1"]`` and class ``"0"`` is scored ``1 - y_score``), or ``[N, C]``
            probabilities, one column per class. Scores must lie in ``[0, 1]``.
        class_labels: the labels of the score columns, in column order. Defaults to
            ``"0"``, ``"1"``, … ``"C-1"``. Stored as strings.
        num_points: number of thresholds M of each sweep (at least 2).

    Returns:
        The document ``{"schema_type": "accuracy_table", "schema_version": "1.0.1",
        "data": {...}}`` whose tables have shape ``[C, M, 4]`` with integer counts.

    Raises:
        InvalidMetricError: shapes disagree, a score is outside ``[0, 1]`` or not finite, a
            label of ``y_true`` is not a class label, or there are no samples.

    Example::

        >>> doc = accuracy_table([0, 1, 1], [0.2, 0.7, 0.4], num_points=3)
        >>> doc["data"]["probability_tables"][1]  # class "1" at thresholds 0, 0.5, 1
        [[2, 1, 0, 0], [1, 0, 1, 1], [0, 0, 1, 2]]
    """
    import numpy as np

    scores = _scores(y_score)
    labels = _labels_for("accuracy_table", scores.shape[1], class_labels)
    truth = _class_index("accuracy_table", "y_true", y_true, labels, scores.shape[0])
    if isinstance(num_points, bool) or not isinstance(num_points, int) or num_points < 2:
        raise InvalidMetricError(
            f"accuracy_table: num_points must be an int >= 2, got {num_points!r}"
        )
    probability = np.linspace(0.0, 1.0, num_points)
    # np.maximum.accumulate guards against rounding making interpolated percentiles dip.
    percentile = np.clip(np.maximum.accumulate(np.percentile(scores, probability * 100)), 0, 1)
    data = {
        "class_labels": labels,
        "probability_tables": _sweep(truth, scores, probability),
        "percentile_tables": _sweep(truth, scores, percentile),
        "probability_thresholds": probability.tolist(),
        "percentile_thresholds": percentile.tolist(),
    }
    return validate_document("accuracy_table", {"data": data})


def confusion_matrix(
    y_true: ArrayLike, y_pred: ArrayLike, class_labels: Sequence[Any] | None = None
) -> dict[str, Any]:
    """Build a ``confusion_matrix`` document: rows are true classes, columns predicted ones.

    Args:
        y_true: ``[N]`` true labels.
        y_pred: ``[N]`` predicted labels.
        class_labels: the classes, in matrix order. Defaults to the sorted distinct values of
            ``y_true`` and ``y_pred`` together. Labels are matched and stored by their string
            form (``1``, ``1.0`` and ``"1"`` are the same class).

    Returns:
        The document ``{"schema_type": "confusion_matrix", "schema_version": "1.0.0",
        "data": {"class_labels": [...], "matrix": [[...], ...]}}`` where ``matrix[i][j]`` counts
        the samples of class ``i`` predicted as class ``j``.

    Raises:
        InvalidMetricError: lengths differ, there are no samples, or a label is not among
            ``class_labels`` (samples are never silently dropped).

    Example::

        >>> confusion_matrix(["a", "b", "b"], ["a", "a", "b"])["data"]
        {'class_labels': ['a', 'b'], 'matrix': [[1, 0], [1, 1]]}
    """
    import numpy as np

    truth, pred = _vector("confusion_matrix", "y_true", y_true), np.asarray(y_pred)
    if pred.shape != truth.shape:
        raise InvalidMetricError(
            f"confusion_matrix: y_true has shape {truth.shape}, y_pred has shape {pred.shape}"
        )
    if class_labels is None:
        class_labels = np.unique(np.concatenate([truth, pred])).tolist()
    labels = _labels_for("confusion_matrix", None, class_labels)
    n = truth.shape[0]
    rows = _class_index("confusion_matrix", "y_true", truth, labels, n)
    columns = _class_index("confusion_matrix", "y_pred", pred, labels, n)
    matrix = np.zeros((len(labels), len(labels)), dtype=np.int64)
    np.add.at(matrix, (rows, columns), 1)
    data = {"class_labels": labels, "matrix": matrix.tolist()}
    return validate_document("confusion_matrix", {"data": data})


def residuals(y_true: ArrayLike, y_pred: ArrayLike, num_bins: int = 10) -> dict[str, Any]:
    """Build a ``residuals`` document: a histogram of ``y_pred - y_true``.

    Args:
        y_true: ``[N]`` true values.
        y_pred: ``[N]`` predicted values.
        num_bins: number of equal-width bins, passed to ``numpy.histogram``.

    Returns:
        The document ``{"schema_type": "residuals", "schema_version": "1.0.0",
        "data": {"bin_edges": [...], "bin_counts": [...]}}`` with ``num_bins + 1`` edges and
        integer counts, as ``numpy.histogram`` returns them.

    Raises:
        InvalidMetricError: shapes differ, a value is not finite, or there are no samples.

    Example::

        >>> residuals([1.0, 2.0, 3.0], [1.5, 2.0, 2.0], num_bins=2)["data"]
        {'bin_edges': [-1.0, -0.25, 0.5], 'bin_counts': [1, 2]}
    """
    import numpy as np

    truth, pred = _regression("residuals", y_true, y_pred, num_bins)
    errors = pred - truth
    counts, edges = np.histogram(errors, bins=_bin_edges("residuals", errors, num_bins))
    data = {"bin_edges": edges.tolist(), "bin_counts": counts.tolist()}
    return validate_document("residuals", {"data": data})


def predictions(y_true: ArrayLike, y_pred: ArrayLike, num_bins: int = 10) -> dict[str, Any]:
    """Build a ``predictions`` document: predicted values summarised per bin of true values.

    The range of ``y_true`` is cut into ``num_bins`` equal-width bins (the edges
    ``numpy.histogram`` would use; each bin holds its left edge, the last also its right edge).
    For the samples of each bin the document holds the mean of ``y_pred`` (``bin_averages``),
    its population standard deviation (``bin_errors``, for error bars) and the number of
    samples (``bin_counts``). An empty bin has average 0, error 0 and count 0.

    Args:
        y_true: ``[N]`` true values; they choose the bin.
        y_pred: ``[N]`` predicted values; they are averaged.
        num_bins: number of bins.

    Returns:
        The document ``{"schema_type": "predictions", "schema_version": "1.0.0",
        "data": {"bin_averages": [...], "bin_errors": [...], "bin_counts": [...],
        "bin_edges": [...]}}`` with ``num_bins + 1`` edges.

    Raises:
        InvalidMetricError: shapes differ, a value is not finite, or there are no samples.

    Example::

        >>> predictions([0.0, 0.2, 1.0], [0.1, 0.3, 0.8], num_bins=2)["data"]["bin_averages"]
        [0.2, 0.8]
    """
    import numpy as np

    truth, pred = _regression("predictions", y_true, y_pred, num_bins)
    edges = _bin_edges("predictions", truth, num_bins)
    bins = np.clip(np.searchsorted(edges, truth, side="right") - 1, 0, num_bins - 1)
    counts = np.bincount(bins, minlength=num_bins)
    divisor = np.maximum(counts, 1)
    averages = np.bincount(bins, weights=pred, minlength=num_bins) / divisor
    squares = np.bincount(bins, weights=(pred - averages[bins]) ** 2, minlength=num_bins)
    data = {
        "bin_averages": averages.tolist(),
        "bin_errors": np.sqrt(squares / divisor).tolist(),
        "bin_counts": counts.tolist(),
        "bin_edges": edges.tolist(),
    }
    return validate_document("predictions", {"data": data})


# ---- internals --------------------------------------------------------------------------------


def _label(value: object) -> str:
    """The string form a label is matched and stored by: 1, 1.0, True and "1" are all "1"."""
    item = getattr(value, "item", None)  # numpy scalars → Python scalars
    if callable(item):
        value = item()
    if isinstance(value, bool) or (isinstance(value, float) and value.is_integer()):
        return str(int(value))
    return str(value)


def _labels_for(kind: str, columns: int | None, class_labels: Sequence[Any] | None) -> list[str]:
    if class_labels is None:
        return [str(c) for c in range(columns or 0)]
    labels = [_label(value) for value in class_labels]
    if len(set(labels)) != len(labels):
        raise InvalidMetricError(f"{kind}: class_labels repeat a label: {labels}")
    if columns is not None and len(labels) != columns:
        raise InvalidMetricError(f"{kind}: {len(labels)} class labels for {columns} score columns")
    return labels


def _vector(kind: str, name: str, values: ArrayLike) -> NDArray[Any]:
    import numpy as np

    array = np.asarray(values)
    if array.ndim != 1 or array.shape[0] == 0:
        raise InvalidMetricError(
            f"{kind}: {name} must be a non-empty 1-D array, got shape {array.shape}"
        )
    return array


def _class_index(
    kind: str, name: str, values: ArrayLike, labels: list[str], n: int
) -> NDArray[np.intp]:
    """Each sample's position in ``labels``; a value that is no class label is an error."""
    import numpy as np

    array = _vector(kind, name, values)
    if array.shape[0] != n:
        raise InvalidMetricError(f"{kind}: {name} has {array.shape[0]} samples, expected {n}")
    distinct, inverse = np.unique(array, return_inverse=True)
    position = {label: i for i, label in enumerate(labels)}
    index = []
    for value in distinct.tolist():
        if _label(value) not in position:
            raise InvalidMetricError(
                f"{kind}: {name} contains {value!r}, which is not one of the class labels {labels}"
            )
        index.append(position[_label(value)])
    return np.asarray(index, dtype=np.intp)[inverse.reshape(-1)]


def _scores(y_score: ArrayLike) -> NDArray[np.float64]:
    import numpy as np

    scores = np.asarray(y_score, dtype=np.float64)
    if scores.ndim == 1:
        scores = np.column_stack([1.0 - scores, scores])
    if scores.ndim != 2 or scores.shape[0] == 0 or scores.shape[1] == 0:
        raise InvalidMetricError(
            f"accuracy_table: y_score must have shape [N] or [N, C] with N, C > 0, "
            f"got {np.shape(y_score)}"
        )
    if not np.all(np.isfinite(scores)) or scores.min() < 0 or scores.max() > 1:
        raise InvalidMetricError("accuracy_table: y_score must hold probabilities in [0, 1]")
    return scores


def _sweep(
    truth: NDArray[np.intp], scores: NDArray[np.float64], thresholds: NDArray[np.float64]
) -> list[list[list[int]]]:
    """TP, FP, TN, FN of every class at every threshold, predicting positive when score >= t."""
    import numpy as np

    tables = []
    for c in range(scores.shape[1]):
        positive = truth == c
        # Counting the scores below each threshold by binary search keeps memory at O(N).
        fn = np.searchsorted(np.sort(scores[positive, c]), thresholds, side="left")
        tn = np.searchsorted(np.sort(scores[~positive, c]), thresholds, side="left")
        tp = np.count_nonzero(positive) - fn
        fp = np.count_nonzero(~positive) - tn
        tables.append(np.stack([tp, fp, tn, fn], axis=1).astype(int).tolist())
    return tables


def _bin_edges(kind: str, values: NDArray[np.float64], num_bins: int) -> NDArray[np.float64]:
    """The edges ``numpy.histogram`` would use, or an error if they cannot strictly increase."""
    import numpy as np

    try:
        edges = np.histogram_bin_edges(values, bins=num_bins)
    except ValueError:  # numpy: "Too many bins for data range"
        edges = np.zeros(0)
    if edges.size != num_bins + 1 or not np.all(np.diff(edges) > 0):
        raise InvalidMetricError(
            f"{kind}: the values span [{values.min()!r}, {values.max()!r}], too narrow a range "
            f"to cut into {num_bins} bins of distinct edges; use fewer bins"
        )
    return edges


def _regression(
    kind: str, y_true: ArrayLike, y_pred: ArrayLike, num_bins: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    import numpy as np

    truth = _vector(kind, "y_true", y_true).astype(np.float64)
    pred = np.asarray(y_pred, dtype=np.float64)
    if pred.shape != truth.shape:
        raise InvalidMetricError(
            f"{kind}: y_true has shape {truth.shape}, y_pred has shape {pred.shape}"
        )
    if not (np.all(np.isfinite(truth)) and np.all(np.isfinite(pred))):
        raise InvalidMetricError(f"{kind}: y_true and y_pred must be finite numbers")
    if isinstance(num_bins, bool) or not isinstance(num_bins, int) or num_bins < 1:
        raise InvalidMetricError(f"{kind}: num_bins must be an int >= 1, got {num_bins!r}")
    return truth, pred
