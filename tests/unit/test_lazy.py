"""The packages' lazy public names (:mod:`runhistory.lazy`)."""

from __future__ import annotations

import pytest

from runhistory.lazy import lazy_getattr


def test_a_lazy_name_is_imported_on_first_use_and_kept_in_the_namespace() -> None:
    namespace: dict[str, object] = {}
    getattr_ = lazy_getattr("pkg", {"dedent": "textwrap"}, namespace)

    import textwrap

    assert getattr_("dedent") is textwrap.dedent
    assert namespace == {"dedent": textwrap.dedent}  # the next lookup no longer reaches getattr_


def test_a_name_that_is_not_exported_raises_attribute_error() -> None:
    getattr_ = lazy_getattr("pkg", {"dedent": "textwrap"}, {})
    with pytest.raises(AttributeError, match="module 'pkg' has no attribute 'indent'"):
        getattr_("indent")


@pytest.mark.parametrize(
    "package",
    [
        "runhistory",
        "runhistory.artifacts",
        "runhistory.store",
        "runhistory.store.sql",
        "runhistory.server",
    ],
)
def test_each_name_of_a_packages_all_resolves(package: str) -> None:
    module = __import__(package, fromlist=["*"])
    for name in module.__all__:
        assert getattr(module, name) is not None
