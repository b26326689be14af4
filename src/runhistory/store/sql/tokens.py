"""Bearer tokens of the tracking server, kept in the ``api_tokens`` table.

A token is shown once when it is created; the table keeps only its SHA-256, so a copy of the
database does not reveal any token. Revoked tokens stay listed (with their revocation time).
"""

from __future__ import annotations

import builtins
import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import Engine, select, update
from sqlalchemy.engine import Connection

from runhistory.errors import NotFoundError, ValidationError
from runhistory.store.sql._common import SqlStoreBase
from runhistory.store.sql.engine import create_store_engine
from runhistory.store.sql.migrate import ensure_schema
from runhistory.store.sql.schema import api_tokens

TOKEN_PREFIX = "rht_"
_MAX_NAME = 255


@dataclass(frozen=True)
class TokenInfo:
    """A stored token, without the token itself."""

    token_id: str
    name: str
    created_time: float
    revoked_time: float | None = None
    last_used_time: float | None = None

    @property
    def active(self) -> bool:
        """Whether the token still opens the server."""
        return self.revoked_time is None


def hash_token(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _info(row: object) -> TokenInfo:
    mapping = row._mapping  # type: ignore[attr-defined]
    return TokenInfo(
        token_id=mapping["id"],
        name=mapping["name"],
        created_time=mapping["created_time"],
        revoked_time=mapping["revoked_time"],
        last_used_time=mapping["last_used_time"],
    )


class SqlTokenStore(SqlStoreBase):
    """Create, check, list and revoke server tokens in a SQL store's database.

    Args:
        engine: the engine of an opened (migrated) store; see :meth:`open`.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @classmethod
    def open(cls, uri: str) -> SqlTokenStore:
        """Open the token table of the database at ``uri``, migrating it first."""
        engine = create_store_engine(uri)
        try:
            ensure_schema(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    def create(self, name: str) -> tuple[str, TokenInfo]:
        """Make a new token; returns ``(token, info)`` — the token is never readable again."""
        if not isinstance(name, str) or not name.strip() or len(name) > _MAX_NAME:
            raise ValidationError(f"a token name is 1-{_MAX_NAME} characters, got {name!r}")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        info = TokenInfo(token_id=uuid.uuid4().hex, name=name, created_time=time.time())
        row = {
            "id": info.token_id, "name": name, "token_sha256": hash_token(token),
            "created_time": info.created_time,
        }  # fmt: skip
        self._write(lambda conn: conn.execute(api_tokens.insert().values(**row)))
        return token, info

    def verify(self, token: str) -> TokenInfo | None:
        """The active token matching ``token``, or None (unknown or revoked)."""
        query = select(api_tokens).where(api_tokens.c.token_sha256 == hash_token(token))
        row = self._read(lambda conn: conn.execute(query).first())
        if row is None or row.revoked_time is not None:
            return None
        return _info(row)

    def list(self) -> builtins.list[TokenInfo]:
        """Every token (active and revoked), oldest first."""
        query = select(api_tokens).order_by(api_tokens.c.created_time)
        return self._read(lambda conn: [_info(r) for r in conn.execute(query)])

    def revoke(self, name_or_id: str) -> builtins.list[TokenInfo]:
        """Revoke the active tokens with this name or id; returns them.

        Raises:
            NotFoundError: no active token has this name or id.
        """

        def work(conn: Connection) -> list[TokenInfo]:
            table = api_tokens.c
            match = ((table.name == name_or_id) | (table.id == name_or_id)) & (
                table.revoked_time.is_(None)
            )
            found = [_info(r) for r in conn.execute(select(api_tokens).where(match))]
            if not found:
                raise NotFoundError(f"no active token named {name_or_id!r} (or with that id)")
            conn.execute(update(api_tokens).where(match).values(revoked_time=time.time()))
            return found

        return self._write(work)

    def close(self) -> None:
        """Release the engine's connections."""
        self._engine.dispose()
