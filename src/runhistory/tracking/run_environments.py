"""A run definition's environment as it is stored once by content: its id and canonical JSON.

Every run of a process carries the same environment (Python, platform, a few hundred
packages). The store keeps each environment once, under the SHA-256 of its canonical JSON
(keys sorted); the remote client names it by that id on the wire once the server has it
(see :mod:`runhistory.client.change_wire`). Both compute the id here, the one way.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from runhistory.tracking.validation.text import dump_document

ENVIRONMENT = "environment"  # the key of a run definition's environment
FIELD = "run_definition environment"


def environment_document(value: Any) -> tuple[str, str]:
    """``(id, canonical JSON)`` of an environment: the id is the SHA-256 (hex) of the JSON.

    Raises:
        ValidationError: the environment cannot be stored as JSON (named).
    """
    text = dump_document(value, FIELD, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest(), text


@dataclass(frozen=True, slots=True)
class KnownEnvironment:
    """An environment whose id is known already, in a run definition's ``environment``.

    ``document`` is its canonical JSON, checked against ``id``; ``None`` when the run names
    an environment stored already (its id checked against the store by the server).
    """

    id: str
    document: str | None = None
