"""Rules for workspace secrets: encrypted at rest, values never listed."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

from runhistory.errors import ConfigurationError, InvalidNameError
from runhistory.store.base import TrackingStore

if TYPE_CHECKING:
    from runhistory.tracking.secrets import SecretCipher

_SECRET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-_.]{0,126}$")


def check_secret_name(name: object) -> str:
    """Return ``name`` if it can name a secret, else raise ``InvalidNameError``."""
    if not isinstance(name, str) or not _SECRET_NAME.match(name):
        raise InvalidNameError(
            f"invalid secret name {name!r}: 1-127 letters, digits, '-', '_' or '.', "
            f"starting with a letter or digit"
        )
    return name


class SecretRules:
    """The secret part of :class:`~runhistory.tracking.service.TrackingService`."""

    store: TrackingStore
    secret_key_path: str | None
    _cipher: SecretCipher | None = None

    def _secret_cipher(self) -> SecretCipher:
        if self._cipher is None:
            from runhistory.tracking.secrets import SecretCipher

            if not self.secret_key_path:
                raise ConfigurationError("this workspace has no secret key file configured")
            self._cipher = SecretCipher.from_key_file(self.secret_key_path)
        return self._cipher

    def set_secret(self, name: str, value: str) -> None:
        """Store (or replace) a secret, encrypted."""
        check_secret_name(name)
        if not isinstance(value, str):
            raise InvalidNameError(f"secret {name!r}: values must be strings")
        self.store.set_secret(name, self._secret_cipher().encrypt(value), time.time())

    def get_secret(self, name: str) -> str:
        """The decrypted value of a secret."""
        return self._secret_cipher().decrypt(self.store.get_secret(check_secret_name(name)))

    def list_secret_names(self) -> list[str]:
        """Names of the stored secrets (never their values)."""
        return self.store.list_secret_names()

    def delete_secret(self, name: str) -> None:
        """Delete a secret."""
        self.store.delete_secret(check_secret_name(name))
