"""The helpers of ``runhistory.metrics`` that build structured metric documents."""

from __future__ import annotations

import doctest
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import runhistory.metrics
import runhistory.tracking.structured
from runhistory import metrics
from runhistory.errors import InvalidMetricError
from runhistory.tracking.structured import validate_document


def test_docstring_examples_hold() -> None:
    for module in (runhistory.metrics, runhistory.tracking.structured):
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0
        assert result.attempted > 0


def test_importing_the_helpers_does_not_import_numpy() -> None:
    code = "import sys, runhistory.metrics; assert 'numpy' not in sys.modules"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


# ---- accuracy table -----------------------------------------------------------------------


def test_binary_accuracy_table_matches_hand_count() -> None:
    y_true = [0, 0, 1, 1, 1]
    y_score = [0.1, 0.6, 0.4, 0.8, 1.0]  # probability of class "1"
    document = metrics.accuracy_table(y_true, y_score, num_points=3)
    data = document["data"]
    assert document["schema_type"] == "accuracy_table"
    assert document["schema_version"] == "1.0.1"
    assert data["class_labels"] == ["0", "1"]
    assert data["probability_thresholds"] == [0.0, 0.5, 1.0]
    # Class "0" is scored 1 - y_score = [0.9, 0.4, 0.6, 0.2, 0.0]; positive when score >= t.
    class_0 = [[2, 3, 0, 0], [1, 1, 2, 1], [0, 0, 3, 2]]
    class_1 = [[3, 2, 0, 0], [2, 1, 1, 1], [1, 0, 2, 2]]  # the score 1.0 is >= 1.0
    assert data["probability_tables"] == [class_0, class_1]
    # Pooled scores 0, .1, .2, .4, .4, .6, .6, .8, .9, 1: percentiles 0, 50, 100 = 0, .5, 1.
    assert data["percentile_thresholds"] == pytest.approx([0.0, 0.5, 1.0])
    assert data["percentile_tables"] == [class_0, class_1]


def test_multiclass_accuracy_table_is_one_vs_rest() -> None:
    y_true = ["cat", "dog", "bird", "dog"]
    y_score = [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.5, 0.4, 0.1]]
    data = metrics.accuracy_table(y_true, y_score, ["cat", "dog", "bird"], num_points=3)["data"]
    assert data["class_labels"] == ["cat", "dog", "bird"]
    tables = data["probability_tables"]
    assert tables[0] == [[1, 3, 0, 0], [1, 1, 2, 0], [0, 0, 3, 1]]  # cat: 0.7 and 0.5 >= 0.5
    assert tables[1] == [[2, 2, 0, 0], [1, 0, 2, 1], [0, 0, 2, 2]]  # dog: only 0.8 >= 0.5
    assert tables[2] == [[1, 3, 0, 0], [0, 0, 3, 1], [0, 0, 3, 1]]  # bird: nothing >= 0.5


def test_accuracy_table_default_thresholds() -> None:
    rng = np.random.default_rng(7)
    y_score = rng.random((50, 3))
    y_true = rng.integers(0, 3, 50)
    data = metrics.accuracy_table(y_true, y_score)["data"]
    assert len(data["probability_thresholds"]) == 100
    assert data["percentile_thresholds"][0] == pytest.approx(y_score.min())
    assert data["percentile_thresholds"][-1] == pytest.approx(y_score.max())
    assert np.shape(data["percentile_tables"]) == (3, 100, 4)


def test_accuracy_table_matches_labels_by_string_form() -> None:
    data = metrics.accuracy_table([1.0, 0.0, 1.0], [0.9, 0.2, 0.6], num_points=2)["data"]
    assert data["probability_tables"][1][0] == [2, 1, 0, 0]


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"y_true": [0, 2], "y_score": [0.1, 0.9]}, "y_true contains 2, which is not one of"),
        ({"y_true": [0, 1], "y_score": [0.1, 1.2]}, "probabilities in [0, 1]"),
        ({"y_true": [0, 1], "y_score": [0.1, float("nan")]}, "probabilities in [0, 1]"),
        ({"y_true": [0, 1, 1], "y_score": [0.1, 0.9]}, "y_true has 3 samples, expected 2"),
        ({"y_true": [], "y_score": []}, "with N, C > 0"),
        ({"y_true": [0], "y_score": [0.5], "num_points": 1}, "num_points must be an int >= 2"),
        ({"y_true": [0], "y_score": [0.5], "class_labels": ["a"]}, "1 class labels for 2 score"),
        ({"y_true": [0], "y_score": [0.5], "class_labels": [0, "0"]}, "repeat a label"),
    ],
)
def test_accuracy_table_input_errors(kwargs: dict[str, object], problem: str) -> None:
    with pytest.raises(InvalidMetricError, match="accuracy_table: ") as info:
        metrics.accuracy_table(**kwargs)  # type: ignore[arg-type]
    assert problem in str(info.value)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 40),
    classes=st.integers(1, 5),
    num_points=st.integers(2, 12),
    binary=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_accuracy_table_always_validates(
    n: int, classes: int, num_points: int, binary: bool, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    classes = 2 if binary else classes
    y_true = rng.integers(0, classes, n)
    # Rounded scores produce ties, exact 0s and exact 1s.
    shape = (n,) if binary else (n, classes)
    y_score = np.round(rng.random(shape), int(rng.integers(0, 3)))
    document = metrics.accuracy_table(y_true, y_score, num_points=num_points)
    assert validate_document("accuracy_table", document) == document
    for c, table in enumerate(document["data"]["probability_tables"]):
        positives = int(np.sum(y_true == c))
        assert table[0] == [positives, n - positives, 0, 0]


# ---- confusion matrix ---------------------------------------------------------------------


def test_confusion_matrix_matches_hand_count() -> None:
    document = metrics.confusion_matrix([2, 0, 2, 2, 0, 1], [0, 0, 2, 2, 0, 2])
    assert document == {
        "schema_type": "confusion_matrix",
        "schema_version": "1.0.0",
        "data": {"class_labels": ["0", "1", "2"], "matrix": [[2, 0, 0], [0, 0, 1], [1, 0, 2]]},
    }


def test_confusion_matrix_labels_default_to_both_inputs_sorted() -> None:
    data = metrics.confusion_matrix([10, 2], [2, 3])["data"]
    assert data["class_labels"] == ["2", "3", "10"]  # sorted as numbers, stored as strings
    assert data["matrix"] == [[0, 1, 0], [0, 0, 0], [1, 0, 0]]


def test_confusion_matrix_with_given_labels_keeps_their_order_and_unused_classes() -> None:
    data = metrics.confusion_matrix(["b", "a"], ["b", "b"], class_labels=["b", "a", "z"])["data"]
    assert data == {"class_labels": ["b", "a", "z"], "matrix": [[1, 0, 0], [1, 0, 0], [0, 0, 0]]}


def test_confusion_matrix_rejects_unknown_labels() -> None:
    with pytest.raises(InvalidMetricError, match="y_pred contains 'c'"):
        metrics.confusion_matrix(["a", "b"], ["a", "c"], class_labels=["a", "b"])


def test_confusion_matrix_rejects_length_mismatch() -> None:
    with pytest.raises(InvalidMetricError, match="y_pred has shape"):
        metrics.confusion_matrix([1, 2], [1])


# ---- residuals and predictions ------------------------------------------------------------


def test_residuals_are_a_histogram_of_prediction_minus_truth() -> None:
    rng = np.random.default_rng(3)
    y_true, y_pred = rng.normal(size=200), rng.normal(size=200)
    data = metrics.residuals(y_true, y_pred, num_bins=7)["data"]
    counts, edges = np.histogram(y_pred - y_true, bins=7)
    assert data == {"bin_edges": edges.tolist(), "bin_counts": counts.tolist()}
    assert sum(data["bin_counts"]) == 200


def test_residuals_of_a_perfect_model_validate() -> None:
    document = metrics.residuals([1, 2, 3], [1, 2, 3])
    assert sum(document["data"]["bin_counts"]) == 3


def test_predictions_match_hand_computation_with_an_empty_bin() -> None:
    y_true = [0.0, 0.1, 0.9, 1.0]
    y_pred = [1.0, 3.0, 5.0, 7.0]
    data = metrics.predictions(y_true, y_pred, num_bins=3)["data"]
    assert data["bin_edges"] == pytest.approx([0.0, 1 / 3, 2 / 3, 1.0])
    assert data["bin_counts"] == [2, 0, 2]
    assert data["bin_averages"] == pytest.approx([2.0, 0.0, 6.0])
    assert data["bin_errors"] == pytest.approx([1.0, 0.0, 1.0])


def test_predictions_put_interior_edges_in_the_right_bin() -> None:
    data = metrics.predictions([0.0, 0.5, 1.0], [1.0, 2.0, 3.0], num_bins=2)["data"]
    assert data["bin_counts"] == [1, 2]
    assert data["bin_averages"] == pytest.approx([1.0, 2.5])


def test_predictions_of_constant_truth() -> None:
    data = metrics.predictions([4.0] * 3, [1.0, 2.0, 3.0], num_bins=4)["data"]
    assert sum(data["bin_counts"]) == 3
    assert validate_document("predictions", {"data": data})["data"] == data


@pytest.mark.parametrize("helper", [metrics.residuals, metrics.predictions])
@pytest.mark.parametrize(
    ("y_true", "y_pred", "num_bins", "problem"),
    [
        ([1.0, 2.0], [1.0], 3, "y_pred has shape"),
        ([1.0, float("inf")], [1.0, 2.0], 3, "must be finite"),
        ([], [], 3, "non-empty 1-D array"),
        ([1.0], [1.0], 0, "num_bins must be an int >= 1"),
    ],
)
def test_regression_helper_input_errors(
    helper: object, y_true: list[float], y_pred: list[float], num_bins: int, problem: str
) -> None:
    with pytest.raises(InvalidMetricError) as info:
        helper(y_true, y_pred, num_bins=num_bins)  # type: ignore[operator]
    assert problem in str(info.value)


@pytest.mark.parametrize("helper", [metrics.residuals, metrics.predictions])
def test_regression_helpers_reject_a_range_too_narrow_for_the_bins(helper: object) -> None:
    with pytest.raises(InvalidMetricError, match="too narrow a range to cut into 12 bins"):
        helper([0.0, 5e-324], [0.0, 0.0], num_bins=12)  # type: ignore[operator]


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.tuples(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6)), min_size=1, max_size=50),
    num_bins=st.integers(1, 12),
)
def test_regression_helpers_always_validate(
    values: list[tuple[float, float]], num_bins: int
) -> None:
    y_true, y_pred = zip(*values, strict=True)
    for helper, kind in ((metrics.residuals, "residuals"), (metrics.predictions, "predictions")):
        document = helper(y_true, y_pred, num_bins=num_bins)
        assert validate_document(kind, document) == document
        assert sum(document["data"]["bin_counts"]) == len(values)
