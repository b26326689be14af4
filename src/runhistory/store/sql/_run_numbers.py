"""Run numbers on PostgreSQL: reserved by the statement that stores the runs, or apart.

An experiment numbers its runs from a counter on its row (``experiments.next_run_number``).
Reserving numbers locks that row until the transaction that reserved them ends.

The usual batch — new runs of one experiment with their tags, properties, single-point
metrics and status, a client's short runs or a server's group of them — goes out as one
statement (see :mod:`._new_runs`) that reserves its numbers itself: one round trip and one
commit for the whole batch. It holds the experiment's row for that statement (a millisecond
or two), so such statements of concurrent writers in one experiment follow each other; a
server's writer gathers the requests that arrive meanwhile into its next group. Measured
with 8 clients creating runs through one server process on 2 cores: the reservation apart
took 1.0 ms of a group's 4.0 ms (its round trip on a busy machine) on the writer's path.
Such a statement refused as a whole (a replay, a missing experiment) reserves nothing.

Any other batch that creates runs has its numbers reserved here first, on the connection
that then begins the batch's transaction, and committed at once, so the row is not held
while the batch's statements run: the runs of one experiment in one statement committed on
its own (autocommit: one round trip, no ``BEGIN``/``COMMIT`` and no second connection of the
pool), those of several experiments in one short transaction (all reserved, or none when one
experiment is missing); the batch's transaction takes them. The reservation's commit does not
wait for the WAL to reach the disk (``synchronous_commit`` off for that transaction alone):
the batch's own commit flushes the WAL past it, so no stored run's number can be lost, and a
second disk flush a batch is saved. A batch that fails after that (refused, or a retried
request whose runs exist already) leaves its numbers unused: a gap in the experiment's
numbering.

Numbers stay unique and increasing in creation order. SQLite writes one transaction at a time
anyway: there the numbers are reserved in the batch's transaction and never leave a gap.
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
