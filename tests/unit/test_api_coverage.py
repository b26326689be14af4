"""How much of the original SDK's public surface runhistory's classes reproduce.

The reference signatures are in ``tests/fixtures/original_api.txt`` (read through
``support.original_api``). A member counts as covered when runhistory's class has it with the
same shape:

* a method (or static/class method) accepts every parameter name of the original, its
  positional parameters start with the original's positional parameters in the same order,
  and it takes ``*args`` / ``**kwargs`` wherever the original does;
* a property is a property; a nested class is a class.
"""

from __future__ import annotations

import ast
import inspect
from typing import Any

import pytest

from runhistory import (
    Environment,
    Experiment,
    Model,
    Run,
    RunConfiguration,
    ScriptRunConfig,
    Workspace,
)
from support.original_api import original_members

REQUIRED = 0.90
CLASSES: dict[str, type] = {"Run": Run, "Experiment": Experiment, "Model": Model,
                            "Workspace": Workspace, "ScriptRunConfig": ScriptRunConfig,
                            "RunConfiguration": RunConfiguration,
                            "Environment": Environment}  # fmt: skip
POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def _manifest() -> dict[str, list[dict[str, str]]]:
    return original_members()


def _public(member: dict[str, str]) -> bool:
    return member["name"] == "__init__" or not member["name"].startswith("_")


def _original_parameters(signature: str) -> list[tuple[str, str]]:
    """``(name, kind)`` of each parameter of a signature string, without self/cls."""
    args = ast.parse(f"def f{signature}: pass").body[0].args  # type: ignore[attr-defined]
    found = [(a.arg, "positional") for a in (*args.posonlyargs, *args.args)]
    found += [(a.arg, "keyword") for a in args.kwonlyargs]
    if args.vararg:
        found.append((args.vararg.arg, "*args"))
    if args.kwarg:
        found.append((args.kwarg.arg, "**kwargs"))
    return [(n, k) for n, k in found if n not in ("self", "cls")]


def _our_parameters(function: Any) -> list[inspect.Parameter]:
    parameters = list(inspect.signature(function).parameters.values())
    if parameters and parameters[0].name in ("self", "cls"):
        parameters = parameters[1:]
    return parameters


def _method_problem(ours: Any, signature: str) -> str | None:
    original = _original_parameters(signature)
    params = _our_parameters(ours)
    names = {p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    kinds = {p.kind for p in params}
    wanted_positional = [n for n, k in original if k == "positional"]
    our_positional = [p.name for p in params if p.kind in POSITIONAL]
    missing = [n for n, k in original if k in ("positional", "keyword") and n not in names]
    if missing:
        return f"lacks parameters {missing}"
    if our_positional[: len(wanted_positional)] != wanted_positional:
        return f"positional order {our_positional} instead of {wanted_positional}"
    if any(k == "*args" for _, k in original) and inspect.Parameter.VAR_POSITIONAL not in kinds:
        return "takes no *args"
    if any(k == "**kwargs" for _, k in original) and inspect.Parameter.VAR_KEYWORD not in kinds:
        return "takes no **kwargs"
    return None


def _problem(cls: type, member: dict[str, str]) -> str | None:
    """Why ``cls`` does not reproduce ``member``, or None when it does."""
    name, kind = member["name"], member["kind"]
    try:
        static = inspect.getattr_static(cls, name)
    except AttributeError:
        return "missing"
    if kind == "property":
        return None if isinstance(static, property) else f"is not a property ({type(static)})"
    if kind == "nested_class":
        return None if isinstance(static, type) else "is not a class"
    bound = not isinstance(static, (staticmethod, classmethod))
    if bound != (kind == "method") and name != "__init__":
        return f"is {'an instance method' if bound else 'static/class'}, the original is {kind}"
    return _method_problem(getattr(cls, name), member["signature"])


def coverage(class_name: str) -> tuple[float, dict[str, str]]:
    """The covered fraction of a class's public members and the problem of each uncovered."""
    members = [m for m in _manifest()[class_name] if _public(m)]
    problems = {m["name"]: p for m in members if (p := _problem(CLASSES[class_name], m))}
    return 1 - len(problems) / len(members), problems


def _report(class_name: str, fraction: float, problems: dict[str, str]) -> str:
    lines = [f"{class_name}: {fraction:.0%} of the original public members covered"]
    lines += [f"  {name}: {problem}" for name, problem in sorted(problems.items())]
    return "\n".join(lines)


@pytest.mark.parametrize(
    "class_name",
    ["Run", "Experiment", "Model", "ScriptRunConfig", "RunConfiguration", "Environment"],
)
def test_public_api_is_covered(class_name: str) -> None:
    fraction, problems = coverage(class_name)
    report = _report(class_name, fraction, problems)
    print(report)
    assert fraction >= REQUIRED, report


def test_workspace_coverage_is_reported() -> None:
    fraction, problems = coverage("Workspace")
    print(_report("Workspace", fraction, problems))
    assert 0 < fraction <= 1


def test_the_checker_notices_differences() -> None:
    class Original:
        def method(self, a: int, b: int = 0, **kwargs: Any) -> None: ...

    assert _method_problem(Original.method, "(self, a, b=0, **kwargs)") is None
    assert _method_problem(Original.method, "(self, b, a)") is not None
    assert "lacks parameters ['c']" in str(_method_problem(Original.method, "(self, a, c=1)"))
    assert _method_problem(Original.method, "(self, a, *args)") == "takes no *args"
    assert _problem(Original, {"name": "gone", "kind": "method", "signature": "()"}) == "missing"
