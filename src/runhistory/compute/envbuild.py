"""Turning an environment definition into a Python interpreter for a job.

The definition is the plain-dict form of an ``Environment`` (the ``.runconfig`` layout:
``python.userManagedDependencies``, ``python.interpreterPath``, ``python.condaDependencies``).

* user-managed: the named interpreter as it is (``python`` or nothing: the current one);
* no packages to install: the current interpreter;
* pip packages: a venv under ``$RUNHISTORY_HOME/envs/<hash of the dependency list>``, built
  once with ``pip`` and reused by every later job with the same list. The venv sees runhistory
  (and its own dependencies) through a ``.pth`` file placed after its own packages, so the
  packages asked for win;
* conda packages: a conda environment when ``conda``/``mamba`` is on ``PATH``; without conda,
  the packages that exist on PyPI are installed with pip instead (a note names the mapping)
  and a Python version other than the current one is a clear error.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from runhistory.errors import ConfigurationError

MARKER = ".runhistory-env.json"
_IGNORED_CONDA = ("python", "pip")
Log = Callable[[str], None]


class EnvironmentBuildError(ConfigurationError):
    """An environment cannot be built (missing conda, failing pip, unknown interpreter)."""


@dataclass(frozen=True)
class EnvPlan:
    """How a job's interpreter is obtained."""

    kind: str  # "current", "user-managed", "venv" or "conda"
    name: str
    interpreter: str | None = None
    python_version: str | None = None
    pip: tuple[str, ...] = ()
    pip_options: tuple[str, ...] = ()
    conda: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    skipped: tuple[str, ...] = field(default=())
    notes: tuple[str, ...] = field(default=())  # what was done in the user's place

    @property
    def key(self) -> str:
        """A hash of everything that decides the built environment's contents."""
        from runhistory import __version__

        text = json.dumps(
            [
                self.kind,
                sys.executable,
                self.python_version,
                self.pip,
                self.pip_options,
                self.conda,
                self.channels,
                __version__,
            ]
        )
        return hashlib.sha256(text.encode()).hexdigest()[:20]


def plan_environment(definition: dict[str, Any] | None) -> EnvPlan:
    """Decide how to provide ``definition``; raises before anything is built.

    Raises:
        EnvironmentBuildError: conda packages without conda, an unavailable Python version,
            or a user-managed interpreter that does not exist.
    """
    definition = definition or {}
    name = str(definition.get("name") or "unnamed")
    python = definition.get("python") or {}
    if python.get("userManagedDependencies"):
        return EnvPlan("user-managed", name, _find_interpreter(name, python.get("interpreterPath")))
    version, conda, pip, options, channels = split_dependencies(python.get("condaDependencies"))
    kept = tuple(p for p in pip if not _provided_by_runhistory(p))
    skipped = tuple(p for p in pip if _provided_by_runhistory(p))
    needs_other_python = version is not None and not _same_python(version)
    if needs_other_python or (conda and _conda_executable() is not None):
        _require_conda(name, conda, version)
        return EnvPlan("conda", name, None, version, kept, options, conda, channels, skipped)
    notes: tuple[str, ...] = ()
    if conda:  # no conda here: the packages that exist on PyPI come from pip instead
        from runhistory.compute.conda_to_pip import pip_fallback

        from_conda, notes = pip_fallback(conda)
        kept = tuple(dict.fromkeys(from_conda + kept))
    if not kept:
        return EnvPlan("current", name, sys.executable, skipped=skipped, notes=notes)
    return EnvPlan("venv", name, None, version, kept, options, (), channels, skipped, notes)


def split_dependencies(
    conda_dependencies: dict[str, Any] | None,
) -> tuple[str | None, tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """``(python version, conda packages, pip packages, pip options, channels)`` of a conda spec."""
    spec = conda_dependencies or {}
    version: str | None = None
    conda: list[str] = []
    pip: list[str] = []
    options: list[str] = []
    for item in spec.get("dependencies") or []:
        if isinstance(item, dict):
            for entry in item.get("pip") or []:
                text = str(entry).strip()
                (options if text.startswith("-") else pip).append(text)
            continue
        text = str(item).strip()
        package = text.split("=")[0].split("<")[0].split(">")[0].strip()
        if package == "python":
            version = text[len("python") :].lstrip("=<>~ ") or None
        elif package not in _IGNORED_CONDA:
            conda.append(text)
    channels = tuple(str(c) for c in spec.get("channels") or [])
    return version, tuple(conda), tuple(pip), tuple(options), channels


def _provided_by_runhistory(requirement: str) -> bool:
    # azureml-core & co. are served by runhistory's alias; installing them would shadow it.
    return requirement.lower().replace("_", "-").startswith("azureml-")


def _same_python(version: str) -> bool:
    wanted = version.split(".")
    current = [
        str(sys.version_info.major),
        str(sys.version_info.minor),
        str(sys.version_info.micro),
    ]
    return wanted == current[: len(wanted)]


def _conda_executable() -> str | None:
    for candidate in ("conda", "mamba", "micromamba"):
        found = shutil.which(candidate)
        if found:
            return found
    return None


def _require_conda(name: str, conda: tuple[str, ...], version: str | None) -> None:
    if _conda_executable() is not None:
        return
    asked = list(conda) + ([f"python={version}"] if version and not _same_python(version) else [])
    raise EnvironmentBuildError(
        f"environment {name!r} asks for conda packages {asked}, but no conda, mamba or "
        f"micromamba was found on PATH. Install conda, list the packages as pip packages "
        f"(CondaDependencies.create(pip_packages=[...])), or set "
        f"environment.python.user_managed_dependencies = True to use an interpreter as it is "
        f"(this one is Python {sys.version.split()[0]})."
    )


def find_conda_python(environment_name: str) -> str:
    """The interpreter of an existing conda environment.

    Raises:
        EnvironmentBuildError: no conda on ``PATH``, or no environment of that name.
    """
    conda = _conda_executable()
    if conda is None:
        raise EnvironmentBuildError(
            f"cannot use conda environment {environment_name!r}: no conda, mamba or micromamba "
            f"was found on PATH. Install conda, or describe the packages instead "
            f"(Environment.from_pip_requirements(name, 'requirements.txt')), or point a "
            f"user-managed environment at an interpreter (env.python.user_managed_dependencies "
            f"= True; env.python.interpreter_path = '/path/to/python')"
        )
    result = subprocess.run(
        [conda, "env", "list", "--json"], stdout=subprocess.PIPE, text=True, check=False
    )
    folders = json.loads(result.stdout or "{}").get("envs", []) if result.returncode == 0 else []
    for folder in folders:
        if os.path.basename(folder) == environment_name and os.path.isfile(_python_in(folder)):
            return _python_in(folder)
    raise EnvironmentBuildError(
        f"no conda environment named {environment_name!r}; {conda} knows: "
        f"{', '.join(os.path.basename(f) for f in folders) or 'none'}"
    )


def _find_interpreter(name: str, path: str | None) -> str:
    if not path or path in ("python", "python3"):
        return sys.executable
    found = path if os.sep in path or "/" in path else shutil.which(path)
    if not found or not os.path.isfile(found) or not os.access(found, os.X_OK):
        raise EnvironmentBuildError(
            f"environment {name!r}: interpreter_path {path!r} is not an executable file "
            f"(user_managed_dependencies=True runs the script with it as it is)"
        )
    return os.path.abspath(found)


def prepare_interpreter(plan: EnvPlan, envs_folder: str, log: Log) -> str:
    """The interpreter the job runs with, building (or reusing) its environment first.

    Raises:
        EnvironmentBuildError: venv, pip or conda failed (the output went to ``log``).
    """
    for requirement in plan.skipped:
        log(f"not installing {requirement}: runhistory provides the azureml API itself")
    for note in plan.notes:
        log(note)
    if plan.interpreter is not None:
        log(f"using interpreter {plan.interpreter} ({plan.kind})")
        return plan.interpreter
    import fcntl

    os.makedirs(envs_folder, exist_ok=True)
    path = os.path.join(envs_folder, plan.key)
    with open(path + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder per environment; others wait and reuse
        if os.path.isfile(os.path.join(path, MARKER)):
            log(f"reusing environment {plan.name!r} at {path}")
        else:
            _build(plan, path, log)
    return _python_in(path)


def _build(plan: EnvPlan, path: str, log: Log) -> None:
    shutil.rmtree(path, ignore_errors=True)  # a half-built leftover
    log(f"building environment {plan.name!r} at {path}")
    if plan.kind == "conda":
        conda = _conda_executable() or "conda"
        channels = [arg for c in plan.channels for arg in ("-c", c)]
        python = [f"python={plan.python_version}"] if plan.python_version else ["python"]
        _run([conda, "create", "-y", "-p", path, *channels, *python, "pip", *plan.conda], log)
    else:
        _run([sys.executable, "-m", "venv", "--without-pip", path], log)
    if plan.pip:
        options = [arg for option in plan.pip_options for arg in shlex.split(option)]
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "--python",
                _python_in(path),
                "install",
                "--disable-pip-version-check",
                "--no-input",
                *options,
                *plan.pip,
            ],
            log,
        )
    _link_runhistory(path)
    with open(os.path.join(path, MARKER), "w", encoding="utf-8") as handle:
        json.dump({"name": plan.name, "pip": plan.pip, "conda": plan.conda}, handle)


def _run(command: list[str], log: Log) -> None:
    log("$ " + shlex.join(command))
    result = subprocess.run(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False
    )
    log(result.stdout.rstrip())
    if result.returncode != 0:
        tail = "\n".join(result.stdout.strip().splitlines()[-15:])
        program = " ".join(os.path.basename(part) for part in command[:3])
        raise EnvironmentBuildError(
            f"building the environment failed: {program} exited with code "
            f"{result.returncode}:\n{tail}"
        )


def _python_in(path: str) -> str:
    if os.name == "nt":
        return os.path.join(path, "Scripts", "python.exe")
    return os.path.join(path, "bin", "python")


def _link_runhistory(path: str) -> None:
    """Let the new environment import runhistory from the environment that submitted the job."""
    python = _python_in(path)
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    ).stdout.strip()
    parents = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
    lines = [f"import site; site.addsitedir({folder!r})\n" for folder in parents]
    os.makedirs(site, exist_ok=True)
    with open(os.path.join(site, "zz_runhistory_parent.pth"), "w", encoding="utf-8") as handle:
        handle.writelines(lines)


_DESCRIBE = """
import json, platform, sys
from importlib import metadata
packages = {}
for dist in metadata.distributions():
    name = dist.metadata["Name"]
    if name:
        packages[name] = dist.version
try:
    import runhistory  # noqa: F401
    has_runhistory = True
except Exception:
    has_runhistory = False
print(json.dumps({"python": {"version": platform.python_version(),
    "implementation": platform.python_implementation(), "interpreterPath": sys.executable,
    "packages": dict(sorted(packages.items(), key=lambda kv: kv[0].lower()))},
    "platform": platform.platform(), "machine": platform.machine(),
    "hasRunhistory": has_runhistory}))
"""


def describe_interpreter(interpreter: str) -> dict[str, Any]:
    """Python version, platform and installed packages of ``interpreter`` (run once).

    Raises:
        EnvironmentBuildError: the interpreter cannot run.
    """
    try:
        result = subprocess.run(
            [interpreter, "-c", _DESCRIBE],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
    except OSError as exc:
        raise EnvironmentBuildError(f"cannot run interpreter {interpreter!r}: {exc}") from exc
    if result.returncode != 0:
        raise EnvironmentBuildError(
            f"interpreter {interpreter!r} failed to start (exit code {result.returncode}): "
            f"{result.stderr.strip()[-2000:]}"
        )
    described: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return described
