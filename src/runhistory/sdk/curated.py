"""Curated environment names of the original SDK (``AzureML-…``) and their local equivalent.

The cloud service pre-builds images named ``AzureML-sklearn-1.5``, ``AzureML-Minimal``, …
runhistory has no images: a curated name that is not registered in the workspace resolves to
the **current interpreter** (a user-managed environment), and a notice says so and names the
packages the original image had that this interpreter lacks. Register an environment under
the same name to make it mean something else.
"""

from __future__ import annotations

import sys
from importlib import metadata
from typing import TYPE_CHECKING

from runhistory.sdk.conda_dependencies import CondaDependencies
from runhistory.sdk.notices import notice

if TYPE_CHECKING:
    from runhistory.sdk.environment import Environment

PREFIX = "azureml-"
# Main packages of the best-known curated images (what a notebook prints and checks).
CURATED: dict[str, tuple[str, ...]] = {
    "AzureML-Minimal": (),
    "AzureML-Tutorial": ("scikit-learn", "pandas", "matplotlib"),
    "AzureML-sklearn-1.0": ("scikit-learn", "pandas", "numpy"),
    "AzureML-sklearn-1.5": ("scikit-learn", "pandas", "numpy"),
    "AzureML-lightgbm-3.3": ("lightgbm", "pandas", "numpy"),
    "AzureML-pytorch-1.13": ("torch", "torchvision", "numpy"),
    "AzureML-tensorflow-2.12": ("tensorflow", "numpy"),
    "AzureML-ACPT-pytorch-1.13-py38-cuda11.7-gpu": ("torch", "numpy"),
}


def is_curated(name: str) -> bool:
    """Whether ``name`` is a curated name of the original (``AzureML-…``, any case)."""
    return name.lower().startswith(PREFIX)


def _packages_for(name: str) -> tuple[str, ...]:
    lowered = name.lower()
    for known, packages in CURATED.items():
        if lowered == known.lower() or lowered.startswith(known.lower() + "-"):
            return packages
    return ()


def _missing(packages: tuple[str, ...]) -> list[str]:
    missing = []
    for package in packages:
        try:
            metadata.version(package)
        except metadata.PackageNotFoundError:
            missing.append(package)
    return missing


def curated_environment(name: str, announce: bool = True) -> Environment:
    """The local equivalent of curated environment ``name``: this interpreter, as it is."""
    from runhistory.sdk.environment import Environment

    env = Environment(name)
    env.python.user_managed_dependencies = True
    env.python.interpreter_path = sys.executable
    packages = _packages_for(name)
    env.python.conda_dependencies = CondaDependencies.create(pip_packages=list(packages))
    if announce:
        missing = _missing(packages)
        lacking = f"; it lacks {', '.join(missing)} (pip install them)" if missing else ""
        notice(
            f"curated environment {name!r} is a cloud image; using its local equivalent, the "
            f"current interpreter {sys.executable} (Python {sys.version.split()[0]}){lacking}"
        )
    return env
