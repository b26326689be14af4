"""Conda package specs as pip requirements, for machines without conda.

The original SDK's tutorials ask for ``CondaDependencies.create(conda_packages=
['scikit-learn'])``. Most conda packages have the same name on PyPI; a few are renamed
(``pytorch`` → ``torch``) and a few exist only for conda (compilers, CUDA runtimes), which
are left out. Conda's ``name=1.2`` means "1.2.*"; pip writes that ``name==1.2.*``.
"""

from __future__ import annotations

import re

RENAMED = {
    "pytorch": "torch",
    "pytorch-cpu": "torch",
    "py-xgboost": "xgboost",
    "pytables": "tables",
    "matplotlib-base": "matplotlib",
    "tensorflow-gpu": "tensorflow",
    "pyyaml": "PyYAML",
    "msgpack-python": "msgpack",
    "pillow-simd": "pillow",
    "opencv": "opencv-python",
    "py-opencv": "opencv-python",
    "libopencv": "opencv-python",
}
# Conda-only packages: native runtimes that pip wheels bring themselves, or tooling.
CONDA_ONLY = frozenset({
    "cudatoolkit", "cudnn", "nccl", "cuda", "cuda-toolkit", "mkl", "mkl-service", "mkl_fft",
    "mkl_random", "blas", "libblas", "openblas", "libgcc", "libgcc-ng", "libstdcxx-ng",
    "gcc", "gxx", "make", "cmake", "nodejs", "git", "openmpi", "mpich", "intel-openmp",
    "nomkl", "conda", "pip", "setuptools", "wheel", "python", "cpuonly",
})  # fmt: skip
_SPEC = re.compile(r"^\s*(?:[\w.\-]+::)?([A-Za-z0-9_.\-]+)\s*(.*?)\s*$")


def conda_to_pip(spec: str) -> str | None:
    """The pip requirement for one conda spec, or None for a conda-only package."""
    match = _SPEC.match(spec)
    if match is None:
        return spec
    name, version = match.group(1), match.group(2).replace(" ", "")
    if name.lower() in CONDA_ONLY:
        return None
    name = RENAMED.get(name.lower(), name)
    if not version:
        return name
    if version.startswith("=") and not version.startswith("=="):
        exact = version[1:].split("=")[0]  # name=1.2=build: the build string has no pip form
        return f"{name}=={exact}.*" if exact.count(".") < 2 else f"{name}=={exact}"
    return f"{name}{version}"


def pip_fallback(conda_specs: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(pip requirements, notes)`` for conda specs on a machine without conda."""
    mapped: list[str] = []
    pairs: list[str] = []
    dropped: list[str] = []
    for spec in conda_specs:
        requirement = conda_to_pip(spec)
        if requirement is None:
            dropped.append(spec)
            continue
        mapped.append(requirement)
        pairs.append(f"{spec} -> {requirement}")
    notes = []
    if pairs:
        notes.append(
            "no conda on PATH: installing conda packages with pip instead: " + ", ".join(pairs)
        )
    if dropped:
        notes.append(f"no conda on PATH: leaving out conda-only packages {', '.join(dropped)}")
    return tuple(mapped), tuple(notes)
