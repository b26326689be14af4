"""A package's public names imported on first use (PEP 562), so importing the package stays light.

Example, in a package's ``__init__``::

    if TYPE_CHECKING:  # type checkers and editors see the names as ordinary imports
        from mypackage.heavy import Heavy

    __all__ = ["Heavy"]
    __getattr__ = lazy_getattr(__name__, {"Heavy": "mypackage.heavy"}, globals())

This module imports nothing but :mod:`importlib`: it is loaded with ``import runhistory``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_getattr(
    package: str, exports: Mapping[str, str], namespace: dict[str, Any]
) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``exports[name]`` and returns its ``name``.

    Args:
        package: the package's ``__name__``, for the error message.
        exports: each lazy name and the module that defines it.
        namespace: the package's ``globals()``: a name, once imported, is stored there, so later
            lookups no longer reach ``__getattr__``.

    Raises:
        AttributeError: (from the returned function) the name is not one of ``exports``.
    """

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(module), name)
        namespace[name] = value
        return value

    return __getattr__
