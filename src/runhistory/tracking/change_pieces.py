"""Splitting a refused batch of run changes so one bad change costs nothing else: first into
the changes of each run, then a run's into single changes (the writer thread of the SDK and
the server's batch endpoint both do this)."""

from __future__ import annotations

from runhistory.tracking.entities import RunChanges


def by_run(whole: RunChanges) -> list[tuple[str, RunChanges]]:
    """A batch as the changes of each run, runs in the order they first appear (so a parent
    created in the batch comes before its children)."""
    pieces: dict[str, RunChanges] = {run_id: RunChanges() for run_id in whole.run_ids()}
    for create in whole.creates:
        pieces[create.run_id].creates.append(create)
    for update in whole.updates:
        pieces[update.run_id].updates.append(update)
    for tags in whole.tags:
        pieces[tags.run_id].tags.append(tags)
    for properties in whole.properties:
        pieces[properties.run_id].properties.append(properties)
    for run_id, writes in whole.metrics.items():
        pieces[run_id].metrics[run_id] = writes
    for status in whole.statuses:
        pieces[status.run_id].statuses.append(status)
    return list(pieces.items())


def single_changes(mine: RunChanges) -> list[RunChanges]:
    """One run's changes one by one (each metric write alone), in their order of effect."""
    return [
        *(RunChanges(creates=[c]) for c in mine.creates),
        *(RunChanges(updates=[c]) for c in mine.updates),
        *(RunChanges(tags=[c]) for c in mine.tags),
        *(RunChanges(properties=[c]) for c in mine.properties),
        *(RunChanges(metrics={r: [w]}) for r, writes in mine.metrics.items() for w in writes),
        *(RunChanges(statuses=[c]) for c in mine.statuses),
    ]
