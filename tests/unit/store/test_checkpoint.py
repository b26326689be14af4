"""The writer's share of WAL checkpoints: it catches up with the background checkpoints only
once every ``COMMITS_PER_CATCH_UP`` commits (each catch-up waits for two syncs)."""

from __future__ import annotations

from pathlib import Path

from runhistory.store.sql.checkpoint import (
    COMMITS_PER_CATCH_UP,
    COMMITS_PER_CHECKPOINT,
    Checkpointer,
)


def test_the_writer_catches_up_once_every_so_many_commits(tmp_path: Path) -> None:
    # A file that is not in WAL mode: the thread's checkpoints never report progress, so
    # only the progress set here (as the thread sets it) counts.
    checkpointer = Checkpointer(str(tmp_path / "plain.db"), 1000)
    try:
        asked = [checkpointer.committed() for _ in range(COMMITS_PER_CATCH_UP * 2)]
        assert not any(asked)  # no background checkpoint got anywhere: nothing to catch up
        checkpointer._caught_up.set()  # the thread checkpointed
        assert checkpointer.committed()  # enough commits since the writer last caught up
        checkpointer._caught_up.set()  # the next background checkpoint, 64 commits later
        asked = [checkpointer.committed() for _ in range(COMMITS_PER_CATCH_UP - 1)]
        assert not any(asked)
        assert checkpointer.committed()
        assert COMMITS_PER_CATCH_UP > COMMITS_PER_CHECKPOINT
    finally:
        checkpointer.close()


def test_a_busy_writer_starts_the_log_over(tmp_path: Path) -> None:
    """Commits keep coming; the log file stops growing once the writer catches up."""
    from runhistory.store.sql.engine import HeldConnection, create_store_engine

    engine = create_store_engine(f"sqlite:///{tmp_path / 'x.db'}")
    held = HeldConnection(engine)
    try:
        assert held._checkpointer is not None
        checkpointer = held._checkpointer
        checkpointer._closed = True  # no thread: its checkpoints would race the writer's
        held.run(lambda conn: conn.exec_driver_sql("CREATE TABLE t (x BLOB)"))
        wal = tmp_path / "x.db-wal"
        page = b"x" * 3000
        for _ in range(COMMITS_PER_CATCH_UP):
            held.run(lambda conn: conn.exec_driver_sql("INSERT INTO t VALUES (?)", (page,)))
        checkpointer._caught_up.set()  # as the thread does after its checkpoint
        held.run(lambda conn: conn.exec_driver_sql("INSERT INTO t VALUES (?)", (page,)))
        size = wal.stat().st_size  # the writer caught up after this commit
        for _ in range(10):
            held.run(lambda conn: conn.exec_driver_sql("INSERT INTO t VALUES (?)", (page,)))
        assert wal.stat().st_size == size  # the log started over: its frames were reused
    finally:
        held.close()
        engine.dispose()
