"""Turning low-level failures (database driver errors, ``OSError``) into runhistory errors.

A fault is classified once, here, so that every layer says the same thing about it:

* the caller's mistake → 4xx: a value the database refuses (``ValidationError``), a name
  that collides with another file or is too long for the file system (``ConflictError``,
  ``UnsafePathError``);
* real unavailability → ``StorageError`` (503): read-only folder, full disk, locked or
  unreachable database, I/O errors;
* anything else is a bug → a plain ``RunhistoryError`` (500).

Messages never carry SQL text. A ``StorageError`` made here has a short, path-free
``fields["reason"]`` (``"read-only"``, ``"disk full"``, …) that the server answers with, while
the full message (which may name local folders) stays in the log of the process that holds
the store, under an error id that both share.
"""

from __future__ import annotations

import errno
import logging
import os
import secrets
from typing import Any

from runhistory.errors import (
    ConflictError,
    RunhistoryError,
    StorageError,
    UnsafePathError,
    ValidationError,
)

__all__ = [
    "database_fault",
    "error_id",
    "is_database_error",
    "is_transient",
    "os_fault",
    "public_reason",
]

log = logging.getLogger("runhistory.store")

READ_ONLY = "read-only"
DISK_FULL = "disk full"
BUSY = "busy"
UNAVAILABLE = "unavailable"
IO_ERROR = "I/O error"

_READ_ONLY_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM}
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_COLLISION_ERRNOS = {errno.EISDIR, errno.ENOTDIR, errno.EEXIST, errno.ENOTEMPTY}
_DRIVER_MODULES = ("sqlite3", "psycopg")
_SHOWN = 200


def error_id() -> str:
    """A short random id that ties an answer to its entry in the log."""
    return secrets.token_hex(4)


def os_fault(exc: OSError, doing: str, folder: str) -> RunhistoryError:
    """The runhistory error for an ``OSError`` met while ``doing`` something in ``folder``.

    Args:
        exc: the error.
        doing: what failed, for the message ("writing artifact 'outputs/model.pkl'").
        folder: the folder (or store URI) involved, named in the message.
    """
    code = exc.errno
    if code in _READ_ONLY_ERRNOS:
        return _unavailable(f"the folder {folder} is read-only: {doing} failed", READ_ONLY)
    if code in _FULL_ERRNOS:
        return _unavailable(f"no space left on device while {doing} (in {folder})", DISK_FULL)
    if code in _COLLISION_ERRNOS:
        return ConflictError(
            f"{doing} failed: a file and a folder would have the same name "
            "(a name cannot be both a file and the folder of other files)"
        )
    if code == errno.ENAMETOOLONG:
        return UnsafePathError(f"{doing} failed: a name is too long for the file system")
    return _unavailable(f"{doing} failed: {exc.strerror or exc} (in {folder})", IO_ERROR)


def is_database_error(exc: BaseException) -> bool:
    """Whether ``exc`` comes from SQLAlchemy or a database driver."""
    from sqlalchemy.exc import SQLAlchemyError

    if isinstance(exc, SQLAlchemyError):
        return True
    return type(exc).__module__.split(".")[0] in _DRIVER_MODULES


def database_fault(exc: BaseException, where: str) -> RunhistoryError:
    """The runhistory error for a failure of the database at ``where`` (no SQL text).

    The driver's first line is logged with an error id, and kept in the message only where it
    describes a value or a constraint (never a statement).
    """
    from sqlalchemy.exc import DataError, IntegrityError

    original = getattr(exc, "orig", None) or exc
    first = _first_line(original)
    if isinstance(exc, IntegrityError):
        return ConflictError(f"the change conflicts with stored data: {first}")
    if isinstance(exc, (DataError, OverflowError)):
        return ValidationError(f"the metadata store refused a value: {first}")
    text = first.lower()
    if _is_read_only(text, where):
        return _unavailable(_read_only_store(where), READ_ONLY)
    if "disk is full" in text or "no space left" in text:
        return _unavailable(f"no space left on device while writing the metadata store {where}",
                            DISK_FULL)  # fmt: skip
    if "locked" in text or "busy" in text:
        return _unavailable(f"the metadata store {where} stayed locked by other writers; "
                            "retry later", BUSY)  # fmt: skip
    if _is_connection_failure(exc, text):
        return _unavailable(f"the metadata store {where} is unreachable: {first}", UNAVAILABLE)
    ident = error_id()
    log.error("metadata store error %s at %s: %r", ident, where, exc)
    return RunhistoryError(
        f"the metadata store failed unexpectedly (error id {ident}; the details are logged "
        "with this id)",
        error_id=ident,
    )


def _is_read_only(text: str, where: str) -> bool:
    if "readonly" in text or "read-only" in text or "read only" in text:
        return True
    # SQLite cannot even open a WAL database whose folder it cannot write (for its -shm file).
    folder = os.path.dirname(where)
    return "unable to open" in text and os.path.isabs(where) and not os.access(folder, os.W_OK)


def _read_only_store(where: str) -> str:
    if os.path.isabs(where):  # a SQLite file: its folder is what the user chose
        folder, name = os.path.split(where)
        return f"the workspace folder {folder} is read-only: cannot write the metadata store {name}"
    return f"the metadata store {where} is read-only: it cannot be written"


def _is_connection_failure(exc: BaseException, text: str) -> bool:
    from sqlalchemy.exc import DisconnectionError, OperationalError

    if isinstance(exc, DisconnectionError) or getattr(exc, "connection_invalidated", False):
        return True
    hints = ("connection", "could not connect", "unable to open", "server closed", "timeout")
    return isinstance(exc, OperationalError) and any(hint in text for hint in hints)


def _unavailable(message: str, reason: str) -> StorageError:
    ident = error_id()
    log.debug("storage fault %s (%s): %s", ident, reason, message)  # the answerer logs it
    return StorageError(message, reason=reason, error_id=ident)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    return first if len(first) <= _SHOWN else first[:_SHOWN] + "…"


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is unavailability worth waiting out: a ``StorageError`` whose reason is
    not a read-only folder or a full disk (those last until someone acts, so retrying them
    only delays the error the user needs to see)."""
    return isinstance(exc, StorageError) and exc.fields.get("reason") not in (READ_ONLY, DISK_FULL)


def public_reason(exc: RunhistoryError) -> Any:
    """The short, path-free reason of a fault made here (``None`` for other errors)."""
    return exc.fields.get("reason")
