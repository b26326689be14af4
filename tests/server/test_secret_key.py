"""Servers of one database agree on the secret key: one with another key refuses to start, and
a client never sees a server's file paths in an error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from runhistory.tracking.secrets import SecretCipher
from support.services import start_server


def _server_cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    command = [os.path.join(os.path.dirname(sys.executable), "runhistory"), "server", *args]
    env = {**os.environ, "RUNHISTORY_HOME": str(home), "RUNHISTORY_QUIET": "1"}
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)


def test_a_server_with_another_key_refuses_to_start(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'shared.db'}"
    first_key, other_key = tmp_path / "keys" / "first.key", tmp_path / "keys" / "other.key"
    server = start_server(store, tmp_path / "first.log",
                          extra_args=["--secret-key-file", str(first_key)])  # fmt: skip
    try:
        refused = _server_cli("--backend-store-uri", store, "--port", "0",
                              "--secret-key-file", str(other_key), home=tmp_path)  # fmt: skip
        assert refused.returncode == 1
        assert "is not the key the servers of this database use" in refused.stderr
        assert "--secret-key-file" in refused.stderr and "Traceback" not in refused.stderr
        assert other_key.read_bytes() not in refused.stderr.encode()
    finally:
        server.stop()
    # The same key again is fine (a restart, or a second machine with a copy of the file).
    again = start_server(store, tmp_path / "again.log",
                         extra_args=["--secret-key-file", str(first_key)])  # fmt: skip
    again.stop()


def test_a_secret_error_shows_no_server_path(tmp_path: Path) -> None:
    """A secret encrypted with another key: the client's error names no file of the server."""
    import sqlite3

    database = tmp_path / "ws.db"
    key = tmp_path / "server-side-folder" / "server.key"
    server = start_server(f"sqlite:///{database}", tmp_path / "server.log",
                          extra_args=["--secret-key-file", str(key), "--auth"])  # fmt: skip
    try:
        from runhistory.store.sql.tokens import SqlTokenStore

        tokens = SqlTokenStore.open(f"sqlite:///{database}")
        token, _ = tokens.create("reader")
        tokens.close()
        headers = {"Authorization": f"Bearer {token}"}
        put = httpx.put(f"{server.url}/api/v1/secrets/db", json={"value": "v"}, headers=headers)
        assert put.status_code == 204
        foreign = SecretCipher.from_key_file(str(tmp_path / "foreign.key")).encrypt("x")
        with sqlite3.connect(database) as conn:
            conn.execute("UPDATE secrets SET ciphertext = ?", (foreign,))
        conn.close()
        response = httpx.get(f"{server.url}/api/v1/secrets/db", headers=headers)
        assert response.status_code == 400
        assert "does not match" in response.json()["message"]
        assert str(tmp_path) not in response.text and "server-side-folder" not in response.text
    finally:
        server.stop()
