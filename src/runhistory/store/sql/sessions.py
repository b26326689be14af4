"""Studio sessions and one-time sign-in codes, kept in the ``auth_sessions`` table.

A session is what the studio's cookie holds after a person signed in with a token; a sign-in
code is the short-lived, single-use secret of a link made by ``runhistory token create
--print-url``. Both are random strings shown once; the table keeps only their SHA-256 and the
token they stand for, so ending (or revoking) that token ends them too.
"""

from __future__ import annotations

import secrets
import time

from sqlalchemy import Engine, select, update
from sqlalchemy.engine import Connection

from runhistory.store.sql._common import SqlStoreBase
from runhistory.store.sql.schema import api_tokens, auth_sessions
from runhistory.store.sql.tokens import TokenInfo, hash_token, token_info, usable

SESSION = "session"
LOGIN_CODE = "login_code"
JOB = "job"  # the credential of one submitted job on a cluster (``rhj_`` + secret)
SESSION_SECONDS = 7 * 24 * 3600.0
LOGIN_CODE_SECONDS = 600.0


class SqlSessionStore(SqlStoreBase):
    """Create, check and end sessions and sign-in codes.

    Args:
        engine: the engine of an opened (migrated) store, shared with the token store.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def start(self, token_id: str, seconds: float = SESSION_SECONDS) -> str:
        """A new session for the token ``token_id``; returns its secret (the cookie value)."""
        return self._new(SESSION, token_id, seconds)

    def new_login_code(self, token_id: str, seconds: float = LOGIN_CODE_SECONDS) -> str:
        """A single-use sign-in code for ``token_id``, valid ``seconds``."""
        return self._new(LOGIN_CODE, token_id, seconds)

    def new_job_credential(self, token_id: str, seconds: float) -> str:
        """A credential for one job, standing for ``token_id`` and valid ``seconds``."""
        return self._new(JOB, token_id, seconds)

    def _new(self, kind: str, token_id: str, seconds: float) -> str:
        secret = secrets.token_urlsafe(32)
        now = time.time()
        row = {
            "id_sha256": hash_token(secret), "kind": kind, "token_id": token_id,
            "created_time": now, "expires_time": now + seconds,
        }  # fmt: skip
        self._write(lambda conn: conn.execute(auth_sessions.insert().values(**row)))
        return secret

    def redeem_login_code(self, code: str) -> TokenInfo | None:
        """The usable token a valid code stands for, or None; the code is used up either way."""

        def work(conn: Connection) -> TokenInfo | None:
            now = time.time()
            match = (
                (auth_sessions.c.id_sha256 == hash_token(code))
                & (auth_sessions.c.kind == LOGIN_CODE)
                & auth_sessions.c.ended_time.is_(None)
            )
            row = conn.execute(
                select(auth_sessions.c.expires_time, *api_tokens.c)
                .join(api_tokens, api_tokens.c.id == auth_sessions.c.token_id)
                .where(match)
            ).first()
            if row is None or conn.execute(
                update(auth_sessions).where(match).values(ended_time=now)
            ).rowcount != 1:  # fmt: skip
                return None  # unknown, or used by a concurrent request first
            info = token_info(row)
            return info if row.expires_time > now and usable(info, now) else None

        return self._write(work)

    def verify(self, secret: str, kind: str = SESSION) -> TokenInfo | None:
        """The usable token behind an open session (or job credential, ``kind=JOB``), or None
        (unknown, ended or expired)."""
        query = (
            select(auth_sessions.c.expires_time, *api_tokens.c)
            .join(api_tokens, api_tokens.c.id == auth_sessions.c.token_id)
            .where(
                (auth_sessions.c.id_sha256 == hash_token(secret))
                & (auth_sessions.c.kind == kind)
                & auth_sessions.c.ended_time.is_(None)
            )
        )
        row = self._read(lambda conn: conn.execute(query).first())
        now = time.time()
        if row is None or row.expires_time <= now:
            return None
        info = token_info(row)
        return info if usable(info, now) else None

    def end(self, secret: str) -> bool:
        """End a session (sign-out); True when it was open."""
        match = (auth_sessions.c.id_sha256 == hash_token(secret)) & (
            auth_sessions.c.ended_time.is_(None)
        )
        statement = update(auth_sessions).where(match).values(ended_time=time.time())
        return bool(self._write(lambda conn: conn.execute(statement).rowcount))
