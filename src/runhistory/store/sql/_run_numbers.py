"""Run numbers on PostgreSQL: reserved in a short transaction of their own.

An experiment numbers its runs from a counter on its row (``experiments.next_run_number``).
Reserving numbers locks that row until the transaction that reserved them ends. Reserved in a
batch's own transaction, the lock would be held while the batch's runs, keys and metrics are
inserted and committed, so concurrent batches creating runs in one experiment would be
stored one after the other. On PostgreSQL the numbers are therefore reserved first, in a
transaction of their own that commits at once, and the batch's transaction takes them.

A batch that fails after that (refused, or a retried request whose runs exist already)
leaves its numbers unused: a gap in the experiment's numbering. Numbers stay unique and
increasing in creation order. SQLite writes one transaction at a time anyway: there the
numbers are reserved in the batch's transaction and never leave a gap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy.engine import Connection

from runhistory.store.sql._run_writes import reserve_numbers
from runhistory.tracking.entities import RunCreate

T = TypeVar("T")
Writer = Callable[[Callable[[Connection], T]], T]


def reserve_apart(
    dialect: str, write: Writer[dict[str, int]], creates: Sequence[RunCreate]
) -> dict[str, int] | None:
    """``{run id: number}`` of new runs reserved in a committed transaction of their own
    (``write`` runs one) on PostgreSQL; None on SQLite (the batch reserves them itself).

    Raises:
        NotFoundError: an experiment does not exist (nothing was reserved).
    """
    if not creates or dialect != "postgresql":
        return None
    return write(lambda conn: reserve_numbers(conn, creates))
