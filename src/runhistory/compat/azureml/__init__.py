"""Make ``import azureml.core`` resolve to runhistory when the real package is absent.

``install()`` registers a small set of alias modules (``azureml``, ``azureml.core``,
``azureml.core.run``, ``azureml.core.model``, …) so unmodified scripts work::

    import runhistory.compat.azureml as alias
    alias.install()
    from azureml.core import Run   # runhistory.Run

``python -m runhistory.compat.azureml script.py [args]`` runs a script with the alias installed;
in a notebook, ``%load_ext runhistory.compat.azureml`` installs it for the kernel.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import types
from collections.abc import Sequence
from typing import Any

from runhistory.compat.azureml._names import ALIASES as _ALIASES


def _resolve(target: str) -> Any:
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


class _AliasModule(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        targets = _ALIASES.get(self.__name__, {})
        if name in targets:
            value = _resolve(targets[name])
            setattr(self, name, value)
            return value
        raise AttributeError(
            f"module {self.__name__!r} has no attribute {name!r} "
            f"(runhistory provides: {', '.join(sorted(targets)) or 'nothing here'})"
        )


class _AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname not in _ALIASES:
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = _AliasModule(spec.name)
        module.__path__ = []
        module.__all__ = sorted(_ALIASES[spec.name])  # type: ignore[attr-defined]
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        return None


_FINDER = _AliasFinder()


def real_azureml_available() -> bool:
    """Whether the real ``azureml.core`` package is importable (then no alias is installed)."""
    if _FINDER in sys.meta_path:
        return False
    return importlib.util.find_spec("azureml") is not None


def install() -> bool:
    """Install the alias unless the real package exists; returns whether it is installed."""
    if _FINDER in sys.meta_path:
        return True
    if real_azureml_available():
        return False
    sys.meta_path.append(_FINDER)
    return True


def uninstall() -> None:
    """Remove the alias and the alias modules already imported."""
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    for name in list(sys.modules):
        if name in _ALIASES and isinstance(sys.modules[name], _AliasModule):
            del sys.modules[name]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext runhistory.compat.azureml``: install the alias in a notebook's kernel."""
    install()


def run_script(argv: Sequence[str]) -> None:
    """Run ``argv[0]`` as ``__main__`` with ``argv[1:]`` as its arguments, alias installed."""
    import runpy

    if not argv:
        raise SystemExit("usage: python -m runhistory.compat.azureml SCRIPT [ARGS...]")
    install()
    sys.argv = list(argv)
    # As ``python script.py`` does: modules beside the script import by name.
    sys.path.insert(0, os.path.dirname(os.path.abspath(argv[0])))
    from runhistory.compat.azureml.mlflow_job import keep_job_run_open

    keep_job_run_open()  # in a submitted job: MLflow does not end the job's run
    runpy.run_path(argv[0], run_name="__main__")
