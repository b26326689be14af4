"""The SQL implementation of :class:`~runhistory.store.base.TrackingStore`.

SQLAlchemy Core on SQLite or PostgreSQL. Each area lives in its own module (experiments,
runs, metrics, models); this class assembles them and adds the file index and secrets.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, or_, select
from sqlalchemy.engine import Connection

from runhistory.errors import NotFoundError, StorageError
from runhistory.faults import database_fault, is_database_error
from runhistory.store.base import TrackingStore, file_conflict
from runhistory.store.sql._changes import ChangesMixin
from runhistory.store.sql._common import require_run, upsert
from runhistory.store.sql._compute_targets import ComputeTargetsMixin
from runhistory.store.sql._environments import EnvironmentsMixin
from runhistory.store.sql._experiments import ExperimentsMixin
from runhistory.store.sql._lookup import LookupMixin
from runhistory.store.sql._metrics import MetricsMixin
from runhistory.store.sql._models import ModelsMixin
from runhistory.store.sql._registry import RegistryMixin
from runhistory.store.sql._runs import RunsMixin
from runhistory.store.sql._views import ViewsMixin
from runhistory.store.sql.engine import HeldConnection, create_store_engine
from runhistory.store.sql.migrate import ensure_schema
from runhistory.store.sql.schema import environments, files, secrets
from runhistory.tracking.entities import FileInfo


class SqlTrackingStore(
    ExperimentsMixin,
    RunsMixin,
    LookupMixin,
    ChangesMixin,
    MetricsMixin,
    ModelsMixin,
    RegistryMixin,
    EnvironmentsMixin,
    ComputeTargetsMixin,
    ViewsMixin,
    TrackingStore,
):
    """A tracking store in a SQL database, migrated to the current schema on open.

    Args:
        uri: ``sqlite:///path/to/file.db`` or ``postgresql://user@host/db``.

    Raises:
        SchemaVersionError: the database was written by a newer runhistory.
        StorageError: the database cannot be opened.

    Example::

        store = SqlTrackingStore("sqlite:///mlruns/runhistory.db")
    """

    def __init__(self, uri: str) -> None:
        self._engine = create_store_engine(uri)
        self._held = HeldConnection(self._engine)
        self._known_environments = set()
        try:
            ensure_schema(self._engine)
        except BaseException as exc:
            self._engine.dispose()
            if not is_database_error(exc):
                raise
            fault = database_fault(exc, self._where())
            raise StorageError(
                f"cannot open the metadata store: {fault.message}", **fault.fields
            ) from exc

    # ---- files -------------------------------------------------------------------------
    def put_file_entry(
        self, run_id: str, name: str, size: int, sha256: str, created_time: float
    ) -> None:
        row = {
            "run_id": run_id, "name": name, "size": size, "sha256": sha256,
            "created_time": created_time,
        }  # fmt: skip

        def work(conn: Connection) -> None:
            require_run(conn, run_id)
            other = _file_conflict(conn, run_id, name)
            if other is not None:
                raise file_conflict(run_id, name, other)
            upsert(conn, files, [row], ["run_id", "name"])

        self._write(work)

    def stored_environments(self, ids: Sequence[str], look: bool = True) -> set[str]:
        """Which environment ids are stored: those this store stored or found before are
        known without asking the database (environments are never deleted)."""
        known = self._known_environments
        wanted = sorted(set(ids) - known)
        if wanted and look:
            query = select(environments.c.id).where(environments.c.id.in_(wanted))
            known.update(self._read(lambda conn: list(conn.execute(query).scalars())))
        return {i for i in ids if i in known}

    def find_file_conflict(self, run_id: str, name: str) -> str | None:
        return self._read(lambda conn: _file_conflict(conn, run_id, name))

    def get_file_entry(self, run_id: str, name: str) -> FileInfo:
        def work(conn: Connection) -> FileInfo:
            require_run(conn, run_id)
            query = select(files).where(files.c.run_id == run_id, files.c.name == name)
            row = conn.execute(query).first()
            if row is None:
                raise NotFoundError(f"no file {name!r} in run {run_id!r}", run_id=run_id, name=name)
            return FileInfo(**row._mapping)

        return self._read(work)

    def list_file_entries(self, run_id: str, prefix: str | None = None) -> list[FileInfo]:
        def work(conn: Connection) -> list[FileInfo]:
            require_run(conn, run_id)
            query = select(files).where(files.c.run_id == run_id).order_by(files.c.name)
            if prefix:
                # substr, not LIKE: SQLite's LIKE ignores case and needs escaping.
                query = query.where(func.substr(files.c.name, 1, len(prefix)) == prefix)
            return [FileInfo(**row._mapping) for row in conn.execute(query)]

        return self._read(work)

    def delete_file_entries(self, run_id: str) -> None:
        def work(conn: Connection) -> None:
            require_run(conn, run_id)
            conn.execute(delete(files).where(files.c.run_id == run_id))

        self._write(work)

    # ---- secrets -----------------------------------------------------------------------
    def set_secret(self, name: str, ciphertext: bytes, updated_time: float) -> None:
        row = {"name": name, "ciphertext": ciphertext, "updated_time": updated_time}
        self._write(lambda conn: upsert(conn, secrets, [row], ["name"]))

    def get_secret(self, name: str) -> bytes:
        query = select(secrets.c.ciphertext).where(secrets.c.name == name)
        value = self._read(lambda conn: conn.execute(query).scalar())
        if value is None:
            raise NotFoundError(f"no secret named {name!r}", name=name)
        return bytes(value)

    def list_secret_names(self) -> list[str]:
        query = select(secrets.c.name).order_by(secrets.c.name)
        return self._read(lambda conn: list(conn.execute(query).scalars()))

    def delete_secret(self, name: str) -> None:
        def work(conn: Connection) -> None:
            if conn.execute(delete(secrets).where(secrets.c.name == name)).rowcount == 0:
                raise NotFoundError(f"no secret named {name!r}", name=name)

        self._write(work)

    # ---- lifecycle ---------------------------------------------------------------------
    def ping(self) -> None:
        """One trivial query (StorageError when the database does not answer)."""
        self._read(lambda conn: conn.exec_driver_sql("SELECT 1").scalar())

    def close(self) -> None:
        self._move_waiting_keys()
        self._held.close()
        self._engine.dispose()


def _file_conflict(conn: Connection, run_id: str, name: str) -> str | None:
    """A file of the run named like a folder of ``name``, or stored under ``name/``."""
    parts = name.split("/")
    folders = ["/".join(parts[:end]) for end in range(1, len(parts))]
    below = func.substr(files.c.name, 1, len(name) + 1) == name + "/"
    clash = or_(files.c.name.in_(folders), below) if folders else below
    query = select(files.c.name).where(files.c.run_id == run_id, clash).limit(1)
    found = conn.execute(query).scalar()
    return None if found is None else str(found)
