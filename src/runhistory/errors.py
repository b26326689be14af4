"""The runhistory exception hierarchy.

Every error runhistory raises on purpose derives from :class:`RunhistoryError`, so callers can
catch by type instead of comparing codes::

    RunhistoryError
    ├── ValidationError (also ValueError)      bad input: names, values, shapes
    │   ├── InvalidNameError                   experiment / model / artifact names
    │   ├── InvalidMetricError                 metric values, kinds, structured documents
    │   ├── UnsafePathError                    artifact names escaping their run
    │   └── RangeNotSatisfiableError           a download's Range holds no byte (HTTP 416)
    ├── NotFoundError (also KeyError)          no such experiment / run / file / model / secret
    ├── ConflictError                          the request contradicts what is stored
    │   ├── InvalidTransitionError             a run cannot move to the asked status
    │   ├── PropertyImmutableError             a property already has another value
    │   └── ExperimentArchivedError            the experiment is archived / name in use
    ├── AuthenticationError                    missing or wrong credentials (HTTP 401)
    ├── PermissionDeniedError                  credentials without the needed right (HTTP 403)
    ├── StorageError                           the store or artifact store failed
    │   └── SchemaVersionError                 the database was written by a newer runhistory
    ├── FlushTimeoutError                      flush() timed out with values still unsent
    ├── ActivityFailedException                a waited-for run ended Failed
    ├── SnapshotError                          a snapshot is too large or cannot be taken
    ├── MultipartUnsupportedError              the artifact store cannot take multipart uploads
    └── ConfigurationError                     workspace configuration missing or malformed

Each class carries the HTTP status the server maps it to, so the remote client can turn a
response back into the same exception type.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "ActivityFailedException",
    "AuthenticationError",
    "ConfigurationError",
    "ConflictError",
    "ExperimentArchivedError",
    "FlushTimeoutError",
    "InvalidMetricError",
    "InvalidNameError",
    "InvalidTransitionError",
    "MultipartUnsupportedError",
    "NotFoundError",
    "PermissionDeniedError",
    "PropertyImmutableError",
    "RangeNotSatisfiableError",
    "RunhistoryError",
    "SchemaVersionError",
    "SnapshotError",
    "StorageError",
    "UnknownEnvironmentError",
    "UnsafePathError",
    "ValidationError",
    "error_class_by_name",
]


class RunhistoryError(Exception):
    """Root of every error runhistory raises on purpose."""

    status_code: ClassVar[int] = 500

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """The JSON form the server sends and the remote client turns back into this type."""
        return {"error": type(self).__name__, "message": self.message, "fields": self.fields}


class ValidationError(RunhistoryError, ValueError):
    """Bad input: the message names the value and the rule it broke."""

    status_code = 400


class InvalidNameError(ValidationError):
    """An experiment, model, metric or artifact name that breaks the naming rule."""


class InvalidMetricError(ValidationError):
    """A metric value, kind or structured document that cannot be stored."""


class UnsafePathError(ValidationError):
    """An artifact name that is absolute or contains ``..`` and would escape its run."""


class RangeNotSatisfiableError(ValidationError):
    """A download's ``Range`` that asks for no byte of the file, one starting at its end or
    past it (HTTP 416); ``fields['size']`` is the file's size."""

    status_code = 416


class NotFoundError(RunhistoryError, KeyError):
    """No experiment, run, file, model or secret with the given identity."""

    status_code = 404

    def __str__(self) -> str:  # KeyError would quote the message otherwise
        return self.message


class ConflictError(RunhistoryError):
    """The request contradicts what is already stored."""

    status_code = 409


class UnknownEnvironmentError(ConflictError):
    """A run named its environment by an id the server has not stored: send it whole.

    ``fields["environment_ids"]`` lists the ids; nothing of the request was stored.
    """


class InvalidTransitionError(ConflictError):
    """A run cannot move to the requested status (for example it already finished)."""


class PropertyImmutableError(ConflictError):
    """A property key already holds a different value; properties are add-only."""


class ExperimentArchivedError(ConflictError):
    """The experiment is archived, or an active experiment already has the name."""


class AuthenticationError(RunhistoryError):
    """Missing, wrong or revoked credentials."""

    status_code = 401


class PermissionDeniedError(RunhistoryError):
    """Valid credentials that lack the right to do this."""

    status_code = 403


class StorageError(RunhistoryError):
    """The metadata store or the artifact store failed."""

    status_code = 503


class SchemaVersionError(StorageError):
    """The database schema is newer than this runhistory understands."""


class FlushTimeoutError(RunhistoryError):
    """``flush()`` reached its timeout while values were still waiting to be stored."""

    status_code = 504


class ActivityFailedException(RunhistoryError):
    """A run that was waited for ended ``Failed``; ``fields['error']`` holds its error details."""

    status_code = 500


class SnapshotError(RunhistoryError):
    """A snapshot exceeds the size or file-count limit, or cannot be read."""

    status_code = 400


class MultipartUnsupportedError(RunhistoryError):
    """The artifact store cannot take a file in parts (an in-memory store, for example): send
    it in one upload instead (HTTP 501)."""

    status_code = 501


class ConfigurationError(RunhistoryError):
    """The workspace configuration is missing or malformed."""

    status_code = 400


def error_class_by_name(name: str) -> type[RunhistoryError]:
    """Return the exception class called ``name``, or :class:`RunhistoryError` if unknown."""
    found = globals().get(name)
    if isinstance(found, type) and issubclass(found, RunhistoryError):
        return found
    return RunhistoryError
