"""Bearer tokens of the tracking server, kept in the ``api_tokens`` table.

A token is shown once when it is created; the table keeps only its SHA-256, so a copy of the
database does not reveal any token. Revoked tokens stay listed (with their revocation time).
A token has a scope (``write``: everything; ``read``: browse only), may expire, and records
when it was last used (at most once a minute, so checking a token rarely writes).
"""

from __future__ import annotations

import builtins
import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Engine, select, update
from sqlalchemy.engine import Connection

from runhistory.errors import NotFoundError, ValidationError
from runhistory.store.sql._common import SqlStoreBase
from runhistory.store.sql.engine import create_store_engine
from runhistory.store.sql.migrate import ensure_schema
from runhistory.store.sql.schema import api_tokens

if TYPE_CHECKING:
    from runhistory.store.sql.sessions import SqlSessionStore

TOKEN_PREFIX = "rht_"
_MAX_NAME = 255
SCOPES = ("write", "read")
_LAST_USE_RESOLUTION = 60.0


@dataclass(frozen=True)
class TokenInfo:
    """A stored token, without the token itself."""

    token_id: str
    name: str
    created_time: float
    revoked_time: float | None = None
    last_used_time: float | None = None
    scope: str = "write"
    expires_time: float | None = None

    @property
    def active(self) -> bool:
        """Whether the token still opens the server (neither revoked nor expired)."""
        return usable(self, time.time())

    @property
    def read_only(self) -> bool:
        """Whether the token may only read (scope ``read``)."""
        return self.scope == "read"


def usable(info: TokenInfo, now: float) -> bool:
    """Whether ``info`` is neither revoked nor expired at ``now``."""
    expired = info.expires_time is not None and info.expires_time <= now
    return info.revoked_time is None and not expired


def hash_token(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_info(row: object) -> TokenInfo:
    """A :class:`TokenInfo` from a row holding the ``api_tokens`` columns."""
    mapping = row._mapping  # type: ignore[attr-defined]
    return TokenInfo(
        token_id=mapping["id"],
        name=mapping["name"],
        created_time=mapping["created_time"],
        revoked_time=mapping["revoked_time"],
        last_used_time=mapping["last_used_time"],
        scope=mapping["scope"],
        expires_time=mapping["expires_time"],
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

    def create(
        self, name: str, scope: str = "write", expires_in: float | None = None
    ) -> tuple[str, TokenInfo]:
        """Make a new token; returns ``(token, info)`` — the token is never readable again.

        Args:
            name: who or what the token is for (runs it creates are submitted by this name).
            scope: ``write`` (everything) or ``read`` (browse and download only).
            expires_in: seconds until the token stops working (None: never).
        """
        if not isinstance(name, str) or not name.strip() or len(name) > _MAX_NAME:
            raise ValidationError(f"a token name is 1-{_MAX_NAME} characters, got {name!r}")
        if scope not in SCOPES:
            raise ValidationError(f"a token scope is one of {SCOPES}, got {scope!r}")
        if expires_in is not None and expires_in <= 0:
            raise ValidationError(f"a token's lifetime must be positive, got {expires_in} s")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = time.time()
        info = TokenInfo(
            token_id=uuid.uuid4().hex, name=name, created_time=now, scope=scope,
            expires_time=None if expires_in is None else now + expires_in,
        )  # fmt: skip
        row = {
            "id": info.token_id, "name": name, "token_sha256": hash_token(token),
            "created_time": info.created_time, "scope": scope, "expires_time": info.expires_time,
        }  # fmt: skip
        self._write(lambda conn: conn.execute(api_tokens.insert().values(**row)))
        return token, info

    def verify(self, token: str) -> TokenInfo | None:
        """The active token matching ``token``, or None (unknown, revoked or expired)."""
        query = select(api_tokens).where(api_tokens.c.token_sha256 == hash_token(token))
        row = self._read(lambda conn: conn.execute(query).first())
        now = time.time()
        if row is None or not usable(info := token_info(row), now):
            return None
        self.note_use(info, now)
        return info

    def note_use(self, info: TokenInfo, now: float) -> None:
        """Record that ``info`` was used at ``now`` (skipped when recorded under a minute ago)."""
        if info.last_used_time is not None and now - info.last_used_time < _LAST_USE_RESOLUTION:
            return
        statement = (
            update(api_tokens).where(api_tokens.c.id == info.token_id).values(last_used_time=now)
        )
        self._write(lambda conn: conn.execute(statement))

    def list(self) -> builtins.list[TokenInfo]:
        """Every token (active and revoked), oldest first."""
        query = select(api_tokens).order_by(api_tokens.c.created_time)
        return self._read(lambda conn: [token_info(r) for r in conn.execute(query)])

    def revoke(self, name_or_id: str) -> builtins.list[TokenInfo]:
        """Revoke the active tokens with this name or id; returns them.

        Raises:
            NotFoundError: no active token has this name or id.
        """

        def work(conn: Connection) -> list[TokenInfo]:
            table = api_tokens.c
            match = ((table.name == name_or_id) | (table.id == name_or_id)) & (
                table.revoked_time.is_(None)
            )  # an expired token can still be revoked, so it is not listed as active
            found = [token_info(r) for r in conn.execute(select(api_tokens).where(match))]
            if not found:
                raise NotFoundError(f"no active token named {name_or_id!r} (or with that id)")
            conn.execute(update(api_tokens).where(match).values(revoked_time=time.time()))
            return found

        return self._write(work)

    def sessions(self) -> SqlSessionStore:
        """The studio sessions and sign-in codes kept in the same database."""
        from runhistory.store.sql.sessions import SqlSessionStore

        return SqlSessionStore(self._engine)

    def close(self) -> None:
        """Release the engine's connections."""
        self._engine.dispose()
