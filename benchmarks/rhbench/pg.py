"""PostgreSQL databases for the server workloads: fresh ones (``bench_<hex>``), dropped
afterwards, and named ones a workload keeps between runs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

from rhbench.harness import NotAvailable


def _admin(url: str):  # type: ignore[no-untyped-def]
    try:
        import psycopg
    except ImportError:
        raise NotAvailable("psycopg is not installed (pip install -e '.[postgres]')") from None
    try:
        return psycopg.connect(
            url.replace("postgresql+psycopg://", "postgresql://"),
            autocommit=True,
            connect_timeout=5,
        )
    except psycopg.OperationalError as exc:
        raise NotAvailable(f"PostgreSQL unreachable at {_where(url)}: {exc}") from None


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 5432}"


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name``."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """Create an empty database, yield its URL, drop it (even when the workload failed)."""
    name = f"bench_{uuid.uuid4().hex[:12]}"
    create_database(admin_url, name)
    try:
        yield with_database(admin_url, name)
    finally:
        drop_database(admin_url, name)


def create_database(admin_url: str, name: str) -> None:
    """Create the empty database ``name``."""
    with _admin(admin_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(admin_url: str, name: str) -> None:
    """Drop the database ``name`` if it exists (closing its connections)."""
    with _admin(admin_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_exists(admin_url: str, name: str) -> bool:
    """Whether the server has a database ``name``."""
    with _admin(admin_url) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return found is not None


def for_mlflow(url: str) -> str:
    """The same database for MLflow's SQLAlchemy, with the psycopg2 driver its venv has."""
    scheme, rest = url.split("://", 1)
    return f"postgresql+psycopg2://{rest}" if scheme.startswith("postgresql") else url
