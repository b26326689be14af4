"""Facts every server of one database must agree on, kept in the ``server_identity`` table.

The first server to start records its value; the others compare theirs with it. Used for the
fingerprint of the key that encrypts secrets, so that a server started with another key
refuses to start instead of failing later on every secret.
"""

from __future__ import annotations

import time

from sqlalchemy import Engine, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from runhistory.store.sql.engine import run_transaction
from runhistory.store.sql.schema import server_identity

SECRET_KEY_FINGERPRINT = "secret_key_fingerprint"


def agreed_value(engine: Engine, name: str, value: str) -> str:
    """The value recorded under ``name``; ``value`` is recorded when there is none yet."""

    def read(conn: Connection) -> str | None:
        query = select(server_identity.c.value).where(server_identity.c.name == name)
        found = conn.execute(query).scalar()
        return None if found is None else str(found)

    def read_or_record(conn: Connection) -> str:
        found = read(conn)
        if found is not None:
            return found
        row = {"name": name, "value": value, "created_time": time.time()}
        conn.execute(server_identity.insert().values(**row))
        return value

    try:
        return run_transaction(engine, read_or_record)
    except IntegrityError:  # another server recorded its value at the same moment
        recorded = run_transaction(engine, read, read_only=True)
        assert recorded is not None
        return recorded
