"""SecretCipher (encryption at rest, key file handling) and redact."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from runhistory.errors import ConfigurationError
from runhistory.tracking.secrets import SecretCipher, redact


def test_round_trip(tmp_path: Path) -> None:
    cipher = SecretCipher.from_key_file(str(tmp_path / "secret.key"))
    for value in ["hunter2", "", "ünïcødé ✓", "x" * 10_000]:
        token = cipher.encrypt(value)
        assert isinstance(token, bytes)
        assert value.encode() not in token or not value
        assert cipher.decrypt(token) == value


def test_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    key_file = tmp_path / "nested" / "secret.key"
    token = SecretCipher.from_key_file(str(key_file)).encrypt("value")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert sorted(p.name for p in key_file.parent.iterdir()) == ["secret.key"]  # no temp left
    assert SecretCipher.from_key_file(str(key_file)).decrypt(token) == "value"


def test_concurrent_first_use_agrees_on_one_key(tmp_path: Path) -> None:
    key_file = str(tmp_path / "secret.key")
    ciphers: list[SecretCipher] = []
    threads = [
        threading.Thread(target=lambda: ciphers.append(SecretCipher.from_key_file(key_file)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    token = ciphers[0].encrypt("shared")
    assert [cipher.decrypt(token) for cipher in ciphers] == ["shared"] * 8


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    key_file = tmp_path / "secret.key"
    SecretCipher.from_key_file(str(key_file))
    os.chmod(key_file, 0o644)
    with pytest.raises(ConfigurationError) as caught:
        SecretCipher.from_key_file(str(key_file))
    assert str(key_file) in str(caught.value)
    assert f"chmod 600 {key_file}" in str(caught.value)


def test_wrong_key_is_a_configuration_error(tmp_path: Path) -> None:
    token = SecretCipher.from_key_file(str(tmp_path / "one.key")).encrypt("value")
    other = SecretCipher.from_key_file(str(tmp_path / "two.key"))
    with pytest.raises(ConfigurationError, match="secret store key does not match"):
        other.decrypt(token)


def test_malformed_key_file_is_a_configuration_error(tmp_path: Path) -> None:
    key_file = tmp_path / "secret.key"
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"not a key")
    os.close(fd)
    with pytest.raises(ConfigurationError, match="not a valid Fernet key"):
        SecretCipher.from_key_file(str(key_file))


def test_repr_hides_the_key(tmp_path: Path) -> None:
    key_file = tmp_path / "secret.key"
    cipher = SecretCipher.from_key_file(str(key_file))
    key = key_file.read_bytes().strip().decode()
    assert key not in repr(cipher)
    assert key not in str(vars(cipher))


@pytest.mark.parametrize(
    ("text", "secrets", "expected"),
    [
        ("password=hunter2 and hunter2", ["hunter2"], "password=*** and ***"),
        ("token abc123 key xyz", ["abc123", "xyz"], "token *** key ***"),
        ("nothing here", ["hunter2"], "nothing here"),
        ("keep me", ["", "zzz"], "keep me"),
        ("prefix secretsecret2", ["secret", "secretsecret2"], "prefix ***"),
        ("a.b*c", [".b*"], "a***c"),
        ("no secrets", [], "no secrets"),
    ],
)
def test_redact(text: str, secrets: list[str], expected: str) -> None:
    assert redact(text, secrets) == expected


def test_redact_accepts_any_iterable() -> None:
    assert redact("one two", (value for value in ["two"])) == "one ***"
