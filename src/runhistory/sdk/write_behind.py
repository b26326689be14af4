"""Runs written behind: created and changed through the write queue, stored in batches.

With the embedded backend, ``experiment.start_logging()`` and ``run.child_run()`` do not wait
for the database. The run's id is made here (in the original SDK's style), the creation is
queued, and its tags, properties and status changes follow it through the same queue; the
writer thread stores them with the run's metric values, usually in one transaction per run.
``complete()`` and ``flush()`` wait until everything is stored, and every other call of this
process waits for queued changes first, so nothing is read before it is written.

What can be checked here is checked at once (names, values, a property changing its value,
a finished run changing status); what only the store can know (a property another process
set, a run canceled from elsewhere) is reported by the next ``flush()`` or ``complete()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runhistory.tracking.entities import RunInfo
from runhistory.tracking.run_records import new_run, pending_info

if TYPE_CHECKING:
    from runhistory.client.backend import Connection
    from runhistory.sdk.experiment import Experiment


def writes_behind(connection: Connection) -> bool:
    """Whether runs of this connection are created and changed through its queue."""
    return connection.queue.takes_changes


def queue_new_run(
    experiment: Experiment,
    status: str,
    parent_run_id: str | None = None,
    display_name: str | None = None,
    description: str | None = None,
    run_type: str = "experimentrun",
    run_definition: dict[str, Any] | None = None,
    tags: dict[str, str | None] | None = None,
) -> RunInfo:
    """Queue the creation of a run and return what it will be.

    ``number`` and ``root_run_id`` are 0 and ``None`` until the run is read back from the store.
    """
    create = new_run(
        experiment.id,
        experiment.name,
        status,
        parent_run_id=parent_run_id,
        display_name=display_name,
        description=description,
        run_type=run_type,
        run_definition=run_definition,
        tags=tags,
    )
    experiment.workspace._connection.queue.put_change(create)
    return pending_info(create, experiment.name)
