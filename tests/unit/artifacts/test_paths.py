"""Artifact names: clean relative POSIX paths, everything else refused."""

from __future__ import annotations

import pytest

from runhistory.artifacts.paths import MAX_NAME_LENGTH, join_key, validate_artifact_name
from runhistory.errors import UnsafePathError, ValidationError


@pytest.mark.parametrize(
    ("name", "clean"),
    [
        ("model.pkl", "model.pkl"),
        ("outputs/model.pkl", "outputs/model.pkl"),
        ("./outputs//model.pkl", "outputs/model.pkl"),
        ("outputs/./sub/./x", "outputs/sub/x"),
        ("outputs/", "outputs"),
        ("a..b/c..", "a..b/c.."),
        ("...", "..."),
        (".hidden", ".hidden"),
        ("a\\b.txt", "a\\b.txt"),
        ("s3:/x", "s3:/x"),
        ("/".join(["x" * 255] * 4), "/".join(["x" * 255] * 4)),
        ("a/" + "é" * 127, "a/" + "é" * 127),
    ],
)
def test_valid_names_are_cleaned(name: str, clean: str) -> None:
    assert validate_artifact_name(name) == clean


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("..", "'..'"),
        ("a/../../b", "'..'"),
        ("a/..", "'..'"),
        ("a\\..\\..\\b", "'..'"),
        ("/etc/passwd", "relative"),
        ("//server/share", "relative"),
        ("C:\\x", "relative"),
        ("c:/x", "relative"),
        ("\\\\server\\share", "relative"),
        ("\\x", "relative"),
        ("", "empty"),
        (".", "name a file"),
        ("./", "name a file"),
        ("a\0b", "control character"),
        ("x" * (MAX_NAME_LENGTH + 1), "at most"),
    ],
)
def test_unsafe_names_are_refused(name: str, rule: str) -> None:
    with pytest.raises(UnsafePathError) as caught:
        validate_artifact_name(name)
    message = str(caught.value)
    assert rule in message
    assert repr(name[:20])[:-1] in message  # the offending name is quoted (maybe shortened)
    assert caught.value.fields["name"] == name


def test_unsafe_path_error_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        validate_artifact_name("../x")
    with pytest.raises(ValueError):
        validate_artifact_name("../x")


def test_non_string_is_refused() -> None:
    with pytest.raises(UnsafePathError, match="string"):
        validate_artifact_name(42)  # type: ignore[arg-type]


def test_long_names_are_shortened_in_messages() -> None:
    with pytest.raises(UnsafePathError) as caught:
        validate_artifact_name("../" + "y" * 5000)
    assert len(str(caught.value)) < 200


def test_join_key_validates_each_part() -> None:
    assert join_key("exp", "run_1", "./outputs//model.pkl") == "exp/run_1/outputs/model.pkl"
    with pytest.raises(UnsafePathError):
        join_key("exp", "..", "x")
    with pytest.raises(UnsafePathError):
        join_key("exp", "/abs")
    with pytest.raises(UnsafePathError):
        join_key()


def test_join_key_checks_the_total_length() -> None:
    half = "/".join(["x" * 255] * 2) + "/" + "x"  # 513 characters in segments that fit
    with pytest.raises(UnsafePathError, match="at most"):
        join_key(half, half)


@pytest.mark.parametrize("name", ["a\nb.txt", "x/\ty", "bell\x07", "del\x7f", "nul\x00"])
def test_control_characters_are_refused(name: str) -> None:
    with pytest.raises(UnsafePathError, match="must not contain a control character"):
        validate_artifact_name(name)


def test_a_segment_over_255_bytes_is_refused() -> None:
    assert len("x" * MAX_NAME_LENGTH) > 255  # MAX_NAME_LENGTH counts the whole name
    with pytest.raises(UnsafePathError, match="segment of 256 bytes"):
        validate_artifact_name("a/" + "x" * 256)
    with pytest.raises(UnsafePathError, match="segment of 256 bytes"):
        validate_artifact_name("é" * 128)  # 128 characters, 256 bytes of UTF-8
