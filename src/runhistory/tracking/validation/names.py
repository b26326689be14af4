"""Names, tags and properties: who may name what, and the key/value rules."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from runhistory.errors import InvalidNameError, ValidationError
from runhistory.tracking.validation.text import TEXT_RULE, check_text, text_problem

EXPERIMENT_NAME_RULE = (
    "experiment names are 3-36 characters long, start with a letter or digit, "
    "and contain only letters, digits, '_' and '-'"
)
_EXPERIMENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{2,35}$")
MODEL_NAME_RULE = (
    "model names are 1-255 characters long, start with a letter or digit, "
    "and contain only letters, digits, '-', '.' and '_'"
)
_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-._]{0,254}$")
MAX_METRIC_NAME = 255
MAX_TAG_KEY = 255
MAX_TAG_VALUE = 5000


def check_experiment_name(name: object) -> str:
    """Return ``name`` if it is a valid experiment name, else raise ``InvalidNameError``."""
    if not isinstance(name, str) or not _EXPERIMENT_NAME.match(name):
        raise InvalidNameError(f"invalid experiment name {name!r}: {EXPERIMENT_NAME_RULE}")
    return name


def check_model_name(name: object) -> str:
    """Return ``name`` if it is a valid model name, else raise ``InvalidNameError``."""
    if not isinstance(name, str) or not _MODEL_NAME.match(name):
        raise InvalidNameError(f"invalid model name {name!r}: {MODEL_NAME_RULE}")
    return name


def check_metric_name(name: object) -> str:
    """Return ``name`` if it can name a metric (a non-empty string of at most 255 characters)."""
    if not isinstance(name, str) or not name or len(name) > MAX_METRIC_NAME:
        raise InvalidNameError(
            f"invalid metric name {name!r}: metric names are non-empty strings "
            f"of at most {MAX_METRIC_NAME} characters"
        )
    if name.isascii() and "\x00" not in name:
        return name  # the common case
    problem = text_problem(name)
    if problem is not None:
        raise InvalidNameError(f"invalid metric name {name!r}: it {problem}; {TEXT_RULE}")
    return name


def _check_key(what: str, key: object) -> str:
    if not isinstance(key, str) or not key:
        raise ValidationError(f"{what} keys must be non-empty strings, got {key!r}")
    return check_text(key, f"{what} key", MAX_TAG_KEY)


def _check_value(
    what: str, key: str, value: object, allow_none: bool, limit: int = MAX_TAG_VALUE
) -> str | None:
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, int, float)):
        value = str(value)
    if not isinstance(value, str):
        raise ValidationError(
            f"{what} {key!r} has a value of type {type(value).__name__}; values must be strings"
        )
    return check_text(value, f"{what} {key!r}", limit)


def _plain(mapping: Mapping[Any, Any], allow_none: bool, limit: int = MAX_TAG_VALUE) -> bool:
    """Whether every key and value is already a valid string (the common case, checked fast:
    column-wise, and ASCII without NUL needs no closer look)."""
    if not mapping:
        return True
    if len(mapping) <= _FEW:
        return _plain_few(mapping, allow_none, limit)
    keys = mapping.keys()
    values = [v for v in mapping.values() if v is not None] if allow_none else mapping.values()
    if set(map(type, keys)) != {str} or not set(map(type, values)) <= {str}:
        return False
    if min(map(len, keys)) == 0 or max(map(len, keys)) > MAX_TAG_KEY:
        return False
    if values and max(map(len, values)) > limit:
        return False
    text = "".join(keys) + "".join(values)
    return text.isascii() and "\x00" not in text


_FEW = 32  # entries checked one by one (a run's usual tags or properties: 2.5 times faster)


def _plain_few(mapping: Mapping[Any, Any], allow_none: bool, limit: int) -> bool:
    """:func:`_plain` of a few entries, one by one."""
    values: list[str] = []
    for key, value in mapping.items():
        if type(key) is not str or not 0 < len(key) <= MAX_TAG_KEY:
            return False
        if type(value) is not str:
            if value is None and allow_none:
                continue
            return False
        if len(value) > limit:
            return False
        values.append(value)
    text = "".join(mapping) + "".join(values)
    return text.isascii() and "\x00" not in text


def check_tags(tags: object, value_limit: int = MAX_TAG_VALUE) -> dict[str, str | None]:
    """Validate a tag dictionary (``str -> str | None``); numbers are turned into strings.
    Values are at most ``value_limit`` characters (``MAX_TAG_VALUE`` unless a caller with
    another contract, MLflow's API, gives its own)."""
    if not isinstance(tags, Mapping):
        raise ValidationError(f"tags must be a dict of str to str, got {type(tags).__name__}")
    if _plain(tags, True, value_limit):
        return dict(tags)
    return {
        _check_key("tag", k): _check_value("tag", k, v, True, value_limit) for k, v in tags.items()
    }


def check_properties(properties: object, value_limit: int = MAX_TAG_VALUE) -> dict[str, str]:
    """Validate a property dictionary (``str -> str``); numbers are turned into strings.
    Values are at most ``value_limit`` characters, as for :func:`check_tags`."""
    if not isinstance(properties, Mapping):
        raise ValidationError(
            f"properties must be a dict of str to str, got {type(properties).__name__}"
        )
    if _plain(properties, False, value_limit):
        return dict(properties)
    checked: dict[str, str] = {}
    for key, value in properties.items():
        _check_key("property", key)
        checked[key] = _check_value("property", key, value, False, value_limit) or ""
    return checked


def check_filter(what: str, value: Any) -> dict[str, str | None] | None:
    """Normalise a tag/property filter: a key (has it), a list of keys, or ``{key: value}``."""
    if value is None:
        return None
    if isinstance(value, str):
        return {check_text(value, f"{what} filter key"): None}
    if isinstance(value, Mapping):
        return {
            check_text(str(k), f"{what} filter key"): (
                None if v is None else check_text(str(v), f"{what} filter value")
            )
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple, set)):
        return {check_text(str(k), f"{what} filter key"): None for k in value}
    raise ValidationError(
        f"a {what} filter is a key, a list of keys or a dict of key to value, got {value!r}"
    )
