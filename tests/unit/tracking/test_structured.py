"""Validation of the structured metric documents (accuracy table, confusion matrix, ...)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from runhistory.errors import InvalidMetricError
from runhistory.tracking.structured import DATA_KEYS, SCHEMA_VERSIONS, validate_document

# The four examples of the Azure ML SDK v1 documentation, verbatim.
ACCURACY_TABLE: dict[str, Any] = {
    "schema_type": "accuracy_table",
    "schema_version": "1.0.1",
    "data": {
        "probability_tables": [
            [[82, 118, 0, 0], [75, 31, 87, 7], [66, 9, 109, 16], [46, 2, 116, 36], [0, 0, 118, 82]],
            [
                [60, 140, 0, 0],
                [56, 20, 120, 4],
                [47, 4, 136, 13],
                [28, 0, 140, 32],
                [0, 0, 140, 60],
            ],
            [
                [58, 142, 0, 0],
                [53, 29, 113, 5],
                [40, 10, 132, 18],
                [24, 1, 141, 34],
                [0, 0, 142, 58],
            ],
        ],
        "percentile_tables": [
            [[82, 118, 0, 0], [82, 67, 51, 0], [75, 26, 92, 7], [48, 3, 115, 34], [3, 0, 118, 79]],
            [[60, 140, 0, 0], [60, 89, 51, 0], [60, 41, 99, 0], [46, 5, 135, 14], [3, 0, 140, 57]],
            [[58, 142, 0, 0], [56, 93, 49, 2], [54, 47, 95, 4], [41, 10, 132, 17], [3, 0, 142, 55]],
        ],
        "probability_thresholds": [0.0, 0.25, 0.5, 0.75, 1.0],
        "percentile_thresholds": [0.0, 0.01, 0.24, 0.98, 1.0],
        "class_labels": ["0", "1", "2"],
    },
}
CONFUSION_MATRIX: dict[str, Any] = {
    "schema_type": "confusion_matrix",
    "schema_version": "1.0.0",
    "data": {
        "class_labels": ["0", "1", "2", "3"],
        "matrix": [[3, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0], [0, 0, 0, 1]],
    },
}
PREDICTIONS: dict[str, Any] = {
    "schema_type": "predictions",
    "schema_version": "1.0.0",
    "data": {
        "bin_averages": [0.25, 0.75],
        "bin_errors": [0.013, 0.042],
        "bin_counts": [56, 34],
        "bin_edges": [0.0, 0.5, 1.0],
    },
}
RESIDUALS: dict[str, Any] = {
    "schema_type": "residuals",
    "schema_version": "1.0.0",
    "data": {"bin_edges": [50, 100, 200, 300, 350], "bin_counts": [0.88, 20, 30, 50.99]},
}
SEEDS = {
    "accuracy_table": ACCURACY_TABLE,
    "confusion_matrix": CONFUSION_MATRIX,
    "predictions": PREDICTIONS,
    "residuals": RESIDUALS,
}


def seed(kind: str) -> dict[str, Any]:
    """A fresh deep copy of the documented example of ``kind``."""
    return copy.deepcopy(SEEDS[kind])


def fails(kind: str, document: object, *fragments: str) -> str:
    """Assert that validation fails with a message holding every fragment; return it."""
    with pytest.raises(InvalidMetricError) as info:
        validate_document(kind, document)  # type: ignore[arg-type]
    message = str(info.value)
    assert message.startswith(f"{kind}: ")
    for fragment in fragments:
        assert fragment in message, message
    return message


# ---- documents that pass ------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(SEEDS))
def test_documented_examples_validate_verbatim(kind: str) -> None:
    document = seed(kind)
    result = validate_document(kind, document)
    assert result == SEEDS[kind]
    assert document == SEEDS[kind]  # the input is not changed


@pytest.mark.parametrize("kind", sorted(SEEDS))
def test_json_string_is_accepted(kind: str) -> None:
    assert validate_document(kind, json.dumps(SEEDS[kind])) == SEEDS[kind]


@pytest.mark.parametrize("kind", sorted(SEEDS))
def test_schema_type_and_version_are_filled_in(kind: str) -> None:
    result = validate_document(kind, {"data": seed(kind)["data"]})
    assert result["schema_type"] == kind
    assert result["schema_version"] == SCHEMA_VERSIONS[kind]


def test_normal_form_lists_data_keys_in_schema_order() -> None:
    result = validate_document("accuracy_table", seed("accuracy_table"))
    assert tuple(result["data"]) == DATA_KEYS["accuracy_table"]


def test_result_is_independent_of_the_input() -> None:
    document = seed("confusion_matrix")
    result = validate_document("confusion_matrix", document)
    document["data"]["matrix"][0][0] = 99
    assert result["data"]["matrix"][0][0] == 3


def test_schema_versions_match_the_api_manifest() -> None:
    # The shared folder lies beside the repository (as CI checks it out).
    manifest = Path(__file__).resolve().parents[3].parent / "shared" / "api_manifest.json"
    assert manifest.exists(), f"the API manifest is missing: expected {manifest}"
    schemas = json.loads(manifest.read_text())["metric_schemas"]
    assert {k: v["schema_version"] for k, v in schemas.items()} == SCHEMA_VERSIONS
    assert {k: sorted(v["data_keys"]) for k, v in schemas.items()} == {
        k: sorted(v) for k, v in DATA_KEYS.items()
    }


def test_integer_labels_and_integral_float_counts_are_normalised() -> None:
    document = seed("accuracy_table")
    document["data"]["class_labels"] = [0, 1, 2]
    document["data"]["probability_tables"][0][1] = [75.0, 31.0, 87.0, 7.0]
    data = validate_document("accuracy_table", document)["data"]
    assert data["class_labels"] == ["0", "1", "2"]
    assert data["probability_tables"][0][1] == [75, 31, 87, 7]
    assert all(type(v) is int for v in data["probability_tables"][0][1])


def test_integer_thresholds_become_floats() -> None:
    document = seed("accuracy_table")
    document["data"]["probability_thresholds"] = [0, 0.25, 0.5, 0.75, 1]
    data = validate_document("accuracy_table", document)["data"]
    assert all(type(t) is float for t in data["probability_thresholds"])


# ---- envelope -----------------------------------------------------------------------------


def test_unknown_kind() -> None:
    with pytest.raises(InvalidMetricError, match="unknown structured metric kind 'roc'"):
        validate_document("roc", {"data": {}})


def test_bad_json() -> None:
    fails("residuals", '{"data": [1, 2', "not valid JSON")


@pytest.mark.parametrize("value", [[1, 2], 3, "[1, 2]"])
def test_document_must_be_an_object(value: object) -> None:
    fails("residuals", value, "must be a JSON object")


def test_wrong_schema_type() -> None:
    document = seed("residuals")
    document["schema_type"] = "predictions"
    fails("residuals", document, "schema_type is 'predictions'", "expected 'residuals'")


@pytest.mark.parametrize("version", ["v1", "1", "1.0", "1.0.0", "1.0.1"])
def test_every_version_of_schema_one_is_accepted_and_kept(version: str) -> None:
    for kind in ("accuracy_table", "confusion_matrix", "predictions", "residuals"):
        document = seed(kind)
        document["schema_version"] = version
        assert validate_document(kind, document)["schema_version"] == version


@pytest.mark.parametrize("version", ["2.0.0", "v2", "latest", ""])
def test_other_schema_versions_are_refused(version: str) -> None:
    document = seed("accuracy_table")
    document["schema_version"] = version
    fails("accuracy_table", document, f"schema_version is {version!r}", "schema 1")


def test_missing_data() -> None:
    fails("residuals", {"schema_type": "residuals"}, "no 'data'")


def test_unexpected_top_level_key() -> None:
    document = seed("residuals")
    document["extra"] = 1
    fails("residuals", document, "unexpected key 'extra'")


def test_data_must_be_an_object() -> None:
    fails("residuals", {"data": [1]}, "'data' must be a JSON object")


@pytest.mark.parametrize("kind", sorted(SEEDS))
def test_each_missing_data_key_is_named(kind: str) -> None:
    for key in DATA_KEYS[kind]:
        document = seed(kind)
        del document["data"][key]
        fails(kind, document, f"data is missing key {key!r}")


@pytest.mark.parametrize("kind", sorted(SEEDS))
def test_extra_data_key_is_named(kind: str) -> None:
    document = seed(kind)
    document["data"]["colour"] = "red"
    fails(kind, document, "data has unexpected key 'colour'")


# ---- accuracy table -----------------------------------------------------------------------


def accuracy(**changes: Any) -> dict[str, Any]:
    document = seed("accuracy_table")
    document["data"].update(changes)
    return document


def test_accuracy_n_must_be_the_same_everywhere() -> None:
    document = seed("accuracy_table")
    # Shift one sample from FP to nothing at every threshold of class 1: per-class sums stay
    # constant, but N differs from class 0.
    for row in document["data"]["probability_tables"][1]:
        row[1 if row[1] else 2] -= 1
    message = fails(
        "accuracy_table",
        document,
        "probability_tables, class 1 ('1'), threshold 0: TP+FP+TN+FN = 199",
        "expected N = 200",
        "(as at probability_tables, class 0 ('0'), threshold 0)",
    )
    assert "TP+FP+TN+FN must be the same N at every class and threshold" in message


def test_accuracy_percentile_table_is_checked_against_the_probability_table() -> None:
    document = seed("accuracy_table")
    for row in document["data"]["percentile_tables"][2]:
        row[2 if row[2] else 1] += 1  # N = 201 for the whole class: its negatives disagree
    fails(
        "accuracy_table",
        document,
        "percentile_tables, class 2 ('2'), threshold 0: TN+FP = 143, expected 142",
        "(as at probability_tables, class 2 ('2'), threshold 0)",
    )


def test_accuracy_positives_constant_across_thresholds() -> None:
    document = seed("accuracy_table")
    document["data"]["probability_tables"][1][3] = [29, 0, 139, 32]  # TP+1, TN-1: N unchanged
    fails(
        "accuracy_table",
        document,
        "probability_tables, class 1 ('1'), threshold 3: TP+FN = 61, expected 60",
        "(as at probability_tables, class 1 ('1'), threshold 0)",
        "constant across the thresholds",
    )


def test_accuracy_negatives_constant_across_thresholds() -> None:
    document = seed("accuracy_table")
    document["data"]["percentile_tables"][0][2] = [75, 27, 92, 7]  # FP+1
    fails(
        "accuracy_table",
        document,
        "percentile_tables, class 0 ('0'), threshold 2: TN+FP = 119, expected 118",
        "constant across the thresholds",
    )


def test_accuracy_positives_agree_between_tables() -> None:
    document = seed("accuracy_table")
    document["data"]["percentile_tables"][0][0] = [83, 117, 0, 0]
    fails("accuracy_table", document, "percentile_tables, class 0 ('0'), threshold 0: TP+FN = 83")


def test_accuracy_wrong_number_of_classes() -> None:
    document = accuracy(class_labels=["0", "1"])
    fails("accuracy_table", document, "probability_tables has 3 classes, expected C = 2")


def test_accuracy_wrong_number_of_thresholds() -> None:
    document = accuracy(percentile_thresholds=[0.0, 0.5, 1.0])
    fails(
        "accuracy_table",
        document,
        "percentile_tables, class 0 ('0') has 5 thresholds, expected M = 3",
        "len(percentile_thresholds)",
    )


def test_accuracy_cell_must_have_four_values() -> None:
    document = seed("accuracy_table")
    document["data"]["probability_tables"][2][4] = [0, 0, 142]
    fails(
        "accuracy_table",
        document,
        "probability_tables, class 2 ('2'), threshold 4 has 3 values, expected 4",
    )


@pytest.mark.parametrize(
    ("value", "problem"),
    [(-1, "-1 is negative"), (1.5, "1.5 is not an integer count"), ("7", "'7' is not a number")],
)
def test_accuracy_counts_are_non_negative_integers(value: object, problem: str) -> None:
    document = seed("accuracy_table")
    document["data"]["probability_tables"][1][2][3] = value
    fails(
        "accuracy_table",
        document,
        f"probability_tables, class 1 ('1'), threshold 2, FN = {problem}",
    )


def test_accuracy_bool_count_is_not_a_number() -> None:
    document = seed("accuracy_table")
    document["data"]["probability_tables"][0][0][0] = True
    fails("accuracy_table", document, "TP = True is not a number")


def test_accuracy_thresholds_must_be_in_unit_interval() -> None:
    document = accuracy(probability_thresholds=[0.0, 0.25, 0.5, 0.75, 1.5])
    fails("accuracy_table", document, "probability_thresholds[4] = 1.5 is outside [0, 1]")


def test_accuracy_thresholds_must_not_decrease() -> None:
    document = accuracy(percentile_thresholds=[0.0, 0.24, 0.01, 0.98, 1.0])
    fails(
        "accuracy_table",
        document,
        "percentile_thresholds[2] = 0.01 is less than percentile_thresholds[1] = 0.24",
        "non-decreasing",
    )


def test_accuracy_thresholds_may_repeat() -> None:
    document = accuracy(percentile_thresholds=[0.0, 0.5, 0.5, 0.98, 1.0])
    validate_document("accuracy_table", document)


def test_accuracy_thresholds_must_be_finite() -> None:
    document = accuracy(probability_thresholds=[0.0, float("nan"), 0.5, 0.75, 1.0])
    fails("accuracy_table", document, "probability_thresholds[1] = nan is not finite")


@pytest.mark.parametrize(
    ("labels", "problem"),
    [
        (["0", "1", None], "class_labels[2] = None is not a string"),
        (["0", "1", True], "class_labels[2] = True is not a string"),
        (["0", "1", "1"], "class_labels[2] = '1' repeats an earlier label"),
        ("012", "class_labels must be a list"),
        ([], "class_labels is empty"),
    ],
)
def test_accuracy_class_labels(labels: object, problem: str) -> None:
    fails("accuracy_table", accuracy(class_labels=labels), problem)


# ---- confusion matrix ---------------------------------------------------------------------


def matrix_doc(labels: list[Any], matrix: list[Any]) -> dict[str, Any]:
    return {"data": {"class_labels": labels, "matrix": matrix}}


def test_confusion_matrix_rows_match_labels() -> None:
    document = matrix_doc(["a", "b", "c"], [[1, 0, 0], [0, 1, 0]])
    fails("confusion_matrix", document, "matrix has 2 rows, expected 3 (one per class label)")


def test_confusion_matrix_must_be_square() -> None:
    document = matrix_doc(["a", "b"], [[1, 0], [0, 1, 2]])
    fails(
        "confusion_matrix",
        document,
        "matrix row 1 ('b') has 3 columns, expected 2",
        "must be square",
    )


@pytest.mark.parametrize(
    ("value", "problem"),
    [(-2, "-2 is negative"), ("x", "'x' is not a number"), (float("inf"), "inf is not finite")],
)
def test_confusion_matrix_entries(value: object, problem: str) -> None:
    document = matrix_doc(["a", "b"], [[1, 0], [value, 1]])
    fails("confusion_matrix", document, f"matrix row 1 ('b'), column 0 ('a') = {problem}")


def test_confusion_matrix_accepts_float_entries() -> None:
    result = validate_document("confusion_matrix", matrix_doc([0, 1], [[0.75, 0.25], [0.1, 0.9]]))
    assert result["data"] == {"class_labels": ["0", "1"], "matrix": [[0.75, 0.25], [0.1, 0.9]]}


# ---- residuals ----------------------------------------------------------------------------


def test_residuals_need_one_more_edge_than_counts() -> None:
    document = {"data": {"bin_edges": [0, 1, 2], "bin_counts": [1, 2, 3]}}
    fails(
        "residuals",
        document,
        "bin_edges has 3 edges but bin_counts has 3 bins",
        "one more edge than bins",
    )


def test_residual_edges_strictly_increase() -> None:
    document = {"data": {"bin_edges": [50, 100, 100, 300], "bin_counts": [1, 2, 3]}}
    fails(
        "residuals",
        document,
        "bin_edges[2] = 100 is not greater than bin_edges[1] = 100",
        "strictly increasing",
    )


def test_residual_counts_are_non_negative() -> None:
    document = {"data": {"bin_edges": [0, 1, 2], "bin_counts": [1, -0.5]}}
    fails("residuals", document, "bin_counts[1] = -0.5 is negative")


def test_residuals_need_a_bin() -> None:
    fails("residuals", {"data": {"bin_edges": [0], "bin_counts": []}}, "bin_counts is empty")


# ---- predictions --------------------------------------------------------------------------


def predictions(**changes: Any) -> dict[str, Any]:
    document = seed("predictions")
    document["data"].update(changes)
    return document


@pytest.mark.parametrize("key", ["bin_errors", "bin_counts"])
def test_prediction_bins_have_equal_length(key: str) -> None:
    document = predictions(**{key: [1, 2, 3]})
    fails(
        "predictions",
        document,
        f"{key} has 3 bins but bin_averages has 2",
        "must have equal length",
    )


def test_prediction_edges_one_longer_than_bins() -> None:
    document = predictions(bin_edges=[0.0, 1.0])
    fails("predictions", document, "bin_edges has 2 edges but bin_averages has 2 bins")


def test_prediction_values_are_finite() -> None:
    document = predictions(bin_averages=[0.25, float("nan")])
    fails("predictions", document, "bin_averages[1] = nan is not finite")


def test_prediction_errors_are_non_negative() -> None:
    document = predictions(bin_errors=[0.013, -0.042])
    fails("predictions", document, "bin_errors[1] = -0.042 is negative")


def test_prediction_nan_in_json_string_is_rejected() -> None:
    text = re.sub(
        r'"bin_averages": \[[^]]*\]', '"bin_averages": [NaN, 0.75]', json.dumps(PREDICTIONS)
    )
    fails("predictions", text, "bin_averages[0] = nan is not finite")


def test_error_carries_the_kind_field() -> None:
    with pytest.raises(InvalidMetricError) as info:
        validate_document("residuals", "nope")
    assert info.value.fields == {"kind": "residuals"}
    assert isinstance(info.value, ValueError)
