"""Reading the fields of MLflow's request messages (JSON bodies and query strings)."""

from __future__ import annotations

from typing import Any

from runhistory.mlflow_api.errors import MlflowApiError


def list_of(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise MlflowApiError(f"order_by must be a list of strings, got {value!r:.80}")


def key_of(body: dict[str, Any]) -> str:
    key = body.get("key")
    if not isinstance(key, str) or not key:
        raise MlflowApiError(f"Missing value for required parameter 'key'. got {key!r:.80}")
    return key


def value_of(body: dict[str, Any]) -> str:
    value = body.get("value", "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MlflowApiError(
            f"the value of {body.get('key')!r} must be a string, got {value!r:.80}"
        )
    return value


def pairs(value: object, what: str) -> dict[str, str]:
    """``[{"key": k, "value": v}, …]`` as a dict (a key given twice keeps its last value)."""
    if value is None:
        return {}
    if not isinstance(value, list):
        raise MlflowApiError(f"{what} must be a list of {{key, value}}, got {value!r:.80}")
    found: dict[str, str] = {}
    for item in value:
        if not isinstance(item, dict):
            raise MlflowApiError(f"{what} must be a list of {{key, value}}, got {item!r:.80}")
        found[key_of(item)] = value_of(item)
    return found


def refuse_hidden(tags: dict[str, Any], hidden: frozenset[str]) -> None:
    for key in tags:
        if key in hidden:
            raise MlflowApiError(f"the tag {key!r} is kept by runhistory and cannot be set")
