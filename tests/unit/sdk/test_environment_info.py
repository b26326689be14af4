"""The installed packages a run records: read from each distribution's metadata header."""

from __future__ import annotations

from importlib import metadata
from typing import Any

from runhistory.sdk.environment_info import _name_and_version, installed_packages


def test_the_packages_are_those_importlib_metadata_reports() -> None:
    expected: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            expected[name] = dist.version
    found = installed_packages()
    assert found == expected
    assert list(found) == sorted(found, key=str.lower)


class _Dist:
    """A distribution whose metadata files are given as text."""

    def __init__(self, **files: str) -> None:
        self.files = files

    def read_text(self, filename: str) -> Any:
        return self.files.get(filename)


def test_the_header_is_read_up_to_the_first_blank_line() -> None:
    text = (
        "Metadata-Version: 2.1\nname:  Some-Pkg \nSummary: a\n  Version: 9\nVersion: 1.2\n"
        "\nVersion: 3"
    )
    assert _name_and_version(_Dist(METADATA=text)) == ("Some-Pkg", "1.2")
    crlf = "Metadata-Version: 1.0\r\nName: old\r\nVersion: 0.1\r\n\r\nbody"
    assert _name_and_version(_Dist(**{"PKG-INFO": crlf})) == ("old", "0.1")


def test_what_the_header_lacks_is_none() -> None:
    assert _name_and_version(_Dist()) == (None, None)
    assert _name_and_version(_Dist(METADATA="Name: only\n\nVersion: 2")) == ("only", None)
