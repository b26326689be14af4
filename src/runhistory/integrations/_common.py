"""What every framework adapter shares: parameters as properties, numbers as metrics, models."""

from __future__ import annotations

import numbers
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from runhistory.errors import ConfigurationError

MAX_PROPERTY_VALUE = 5000  # the store's limit; a longer value is refused, never cut short


def need(module: str, extra: str) -> Any:
    """Import a framework module, or say which extra installs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigurationError(
            f"this integration needs {module}: pip install 'runhistory[{extra}]'"
        ) from None


def flatten(values: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``{"a": {"b": 1}}`` → ``("a.b", 1)``: nested settings become dotted keys."""
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            yield from flatten(value, name + ".")
        else:
            yield name, value


def as_properties(params: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Hyper-parameters as run properties (strings).

    A value longer than a property can hold is left out, and a notice on stderr names it.
    """
    from runhistory.sdk.notices import notice

    properties = {}
    for key, value in flatten(params, prefix):
        text = value if isinstance(value, str) else repr(value)
        if len(text) > MAX_PROPERTY_VALUE:
            notice(
                f"hyper-parameter {key!r} is not stored as a property: its value has "
                f"{len(text)} characters, more than the {MAX_PROPERTY_VALUE} a property holds"
            )
        elif key:
            properties[key] = text
    return properties


def add_properties(run: Any, params: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Add hyper-parameters as properties, skipping keys already set to the same value."""
    wanted = as_properties(params, prefix)
    if wanted:
        run.add_properties(wanted)
    return wanted


def number(value: Any) -> float | None:
    """A plain float for a loggable number (numpy and 0-d tensors included), else None."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, numbers.Real):
        return float(value)
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", 0) == 0:
        try:
            found = item()
        except Exception:
            return None
        return float(found) if isinstance(found, numbers.Real) else None
    return None


def log_numbers(
    run: Any, values: Mapping[str, Any], step: int | None, prefix: str = ""
) -> dict[str, float]:
    """Log each number of ``values`` at ``step``; other values are not metrics and are skipped."""
    logged = {}
    for key, value in values.items():
        found = number(value)
        if found is not None:
            run.log(prefix + key, found, step=step)
            logged[prefix + key] = found
    return logged


def upload_model(run: Any, name: str, save: Callable[[str], Any]) -> str:
    """Save a model with ``save(path)`` into a temporary folder and store it as ``name``.

    ``name`` is the file's name among the run's files (``outputs/model.json``); a saver that
    writes a folder stores every file under it.
    """
    with tempfile.TemporaryDirectory(prefix="runhistory-model-") as folder:
        path = os.path.join(folder, os.path.basename(name))
        save(path)
        if os.path.isdir(path):
            run.upload_folder(name, path)
        else:
            run.upload_file(name, path)
    return name
