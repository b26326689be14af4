"""Reading and updating the sections of a run's ``run_definition``.

``run_definition["compute"]`` says where and how a submitted job runs (target name, host,
supervisor and job pids, folders, script, arguments); ``run_definition["environment"]`` says what
it ran with. The store replaces ``run_definition`` as a whole, so updates read, merge and write.
"""

from __future__ import annotations

from typing import Any

from runhistory.tracking.entities import RunInfo

COMPUTE = "compute"
ENVIRONMENT = "environment"


def section_of(definition: dict[str, Any], name: str) -> dict[str, Any]:
    """One section of a run definition dict, itself (empty if absent)."""
    found = definition.get(name)
    return found if isinstance(found, dict) else {}


def section(info: RunInfo, name: str) -> dict[str, Any]:
    """One section of the run's definition, a copy (empty if absent)."""
    return dict(section_of(info.run_definition or {}, name))


def merge_section(backend: Any, run_id: str, name: str, values: dict[str, Any]) -> RunInfo:
    """Update keys of one section of the run's definition, keeping the rest."""
    info: RunInfo = backend.get_run(run_id)
    definition = dict(info.run_definition or {})
    merged = section(info, name)
    merged.update(values)
    definition[name] = merged
    updated: RunInfo = backend.update_run(run_id, run_definition=definition)
    return updated
