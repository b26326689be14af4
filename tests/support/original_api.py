"""The reference facts of ``tests/fixtures/original_api.txt``: the original SDK's public
members (name, kind, signature) and its structured metric schemas."""

from __future__ import annotations

from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "original_api.txt"
SCHEMAS = "metric schemas"


def _sections() -> dict[str, list[list[str]]]:
    sections: dict[str, list[list[str]]] = {}
    current: list[list[str]] = []
    for line in FIXTURE.read_text("utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
        else:
            current.append(line.split("\t"))
    return sections


def original_members() -> dict[str, list[dict[str, str]]]:
    """``{class name: [{"name", "kind", "signature"?}, ...]}``."""
    members: dict[str, list[dict[str, str]]] = {}
    for section, rows in _sections().items():
        if section != SCHEMAS:
            fields = ("name", "kind", "signature")
            members[section] = [dict(zip(fields[: len(row)], row, strict=True)) for row in rows]
    return members


def metric_schemas() -> dict[str, tuple[str, list[str]]]:
    """``{kind: (schema version, data keys)}`` of the structured metric documents."""
    return {kind: (version, keys.split()) for kind, version, keys in _sections()[SCHEMAS]}
