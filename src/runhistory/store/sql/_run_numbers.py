"""Run numbers on PostgreSQL: reserved in a short transaction of their own.

An experiment numbers its runs from a counter on its row (``experiments.next_run_number``).
Reserving numbers locks that row until the transaction that reserved them ends. Reserved in a
batch's own transaction, the lock would be held while the batch's runs, keys and metrics are
inserted and committed, so concurrent batches creating runs in one experiment would be
stored one after the other. On PostgreSQL the numbers are therefore reserved first, on the
connection that then begins the batch's transaction, and committed at once: the runs of one
experiment (the usual batch) in one statement committed on its own (autocommit: one round
trip, no ``BEGIN``/``COMMIT`` and no second connection of the pool), those of several
experiments in one short transaction (all reserved, or none when one experiment is missing);
the batch's transaction takes them. The reservation's commit does not wait for the WAL to
reach the disk (``synchronous_commit`` off for that transaction alone): the batch's own commit
flushes the WAL past it, so no stored run's number can be lost, and a second disk flush a
group (a millisecond or more on a busy machine) is saved.

A batch that fails after that (refused, or a retried request whose runs exist already)
leaves its numbers unused: a gap in the experiment's numbering. Numbers stay unique and
increasing in creation order. SQLite writes one transaction at a time anyway: there the
numbers are reserved in the batch's transaction and never leave a gap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy.engine import Connection

from runhistory.store.sql._run_writes import reserve_numbers
from runhistory.tracking.entities import RunCreate


def reserve_apart(
    dialect: str, creates: Sequence[RunCreate], numbers: dict[str, int]
) -> Callable[[Connection], None] | None:
    """On PostgreSQL, the work that fills ``numbers`` (``{run id: number}``) with the numbers
    of new runs, each statement committed on its own (pass it as ``first`` to the batch's
    transaction); None on SQLite or without new runs (the batch reserves them itself).

    The work raises NotFoundError when an experiment does not exist (nothing reserved).
    """
    if not creates or dialect != "postgresql":
        return None

    several = len({c.experiment_id for c in creates}) > 1

    def reserve(conn: Connection) -> None:
        numbers.clear()  # a retried transaction reserves afresh
        if not several:  # one statement, committed alone
            numbers.update(reserve_numbers(conn, creates, apart=True))
            return
        driver = conn.connection.dbapi_connection
        assert driver is not None
        with driver.transaction():  # every experiment's numbers, or none (a missing one)
            numbers.update(reserve_numbers(conn, creates, apart=True))

    return reserve
