"""Encryption of workspace secrets at rest, and redaction of their values from text.

Secret values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) under a
key kept in a file only its owner can read. The key file is created on first use.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
from collections.abc import Iterable
from secrets import token_hex
from typing import Any

from runhistory.errors import ConfigurationError

__all__ = ["SecretCipher", "redact"]

REDACTED = "***"


class SecretCipher:
    """Encrypts and decrypts secret values with one Fernet key.

    Args:
        key: a Fernet key (32 url-safe base64-encoded bytes).
        key_file: where the key came from, named in error messages.

    Example:
        >>> cipher = SecretCipher.from_key_file("~/.runhistory/secret.key")  # doctest: +SKIP
        >>> cipher.decrypt(cipher.encrypt("hunter2"))  # doctest: +SKIP
        'hunter2'
    """

    def __init__(self, key: bytes, key_file: str | None = None) -> None:
        from cryptography.fernet import Fernet  # imported here: most runs never touch secrets

        self.key_file = key_file
        self.fingerprint = hashlib.sha256(b"runhistory-secret-key\0" + key).hexdigest()[:32]
        try:
            self._fernet: Any = Fernet(key)
        except (ValueError, TypeError) as exc:
            where = f"key file {key_file}" if key_file else "the given key"
            raise ConfigurationError(
                f"secret store key in {where} is not a valid Fernet key: {exc}"
            ) from None

    def __repr__(self) -> str:  # never show the key
        return f"SecretCipher(key_file={self.key_file!r})"

    @classmethod
    def from_key_file(cls, path: str) -> SecretCipher:
        """The cipher whose key is in ``path``, creating the file (mode 0600) on first use.

        Raises:
            ConfigurationError: the file can be read by group or others (the message gives the
                ``chmod`` command that fixes it), or does not hold a valid key.
        """
        path = os.path.abspath(os.path.expanduser(path))
        key = _read_key(path)
        if key is None:
            key = _create_key_file(path)
        return cls(key, key_file=path)

    def encrypt(self, value: str) -> bytes:
        """The encrypted token of ``value``."""
        token: bytes = self._fernet.encrypt(value.encode("utf-8"))
        return token

    def decrypt(self, token: bytes) -> str:
        """The value encrypted in ``token``.

        Raises:
            ConfigurationError: the token was made with another key (or is damaged).
        """
        from cryptography.fernet import InvalidToken

        try:
            return str(self._fernet.decrypt(bytes(token)).decode("utf-8"))
        except InvalidToken:  # no key path here: this message may travel to a server's client
            raise ConfigurationError(
                "the secret store key does not match the key this secret was encrypted with "
                f"(key fingerprint {self.fingerprint}); was the key file replaced or the "
                "secret copied from another workspace?",
                key_fingerprint=self.fingerprint,
            ) from None


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret value replaced by ``***``.

    Longer secrets are replaced first, so a secret containing another is hidden whole; empty
    values are ignored.

    Example:
        >>> redact("login alice:hunter2", ["hunter2"])
        'login alice:***'
    """
    values = sorted({value for value in secrets if value}, key=len, reverse=True)
    if not values:
        return text
    pattern = re.compile("|".join(re.escape(value) for value in values))
    return pattern.sub(REDACTED, text)


def _read_key(path: str) -> bytes | None:
    """The key in ``path``, or ``None`` if there is no such file; refuses a readable file."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as handle:
        mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
        if os.name != "nt" and mode & 0o077:
            raise ConfigurationError(
                f"secret store key file {path} can be read by other users (mode {mode:04o}); "
                f"restrict it with: chmod 600 {path}",
                key_file=path,
            )
        key = handle.read().strip()
    if not key:
        raise ConfigurationError(f"secret store key file {path} is empty", key_file=path)
    return key


def _create_key_file(path: str) -> bytes:
    """Write a new key to ``path`` unless another process got there first; return the key.

    The key goes to a private temporary file that is then hard-linked to ``path``: the link either
    appears complete or fails because ``path`` exists, so a reader never sees half a key.
    """
    from cryptography.fernet import Fernet

    folder = os.path.dirname(path)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    key = Fernet.generate_key()
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(key + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise
        except OSError:  # no hard links on this filesystem: create the file itself exclusively
            _write_new(path, key)
    except FileExistsError:
        existing = _read_key(path)  # another process created it meanwhile: use theirs
        assert existing is not None
        return existing
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return key


def _write_new(path: str, key: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
