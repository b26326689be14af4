"""MLflow's error answers: ``{"error_code": ..., "message": ...}`` with MLflow's HTTP statuses.

MLflow's clients branch on the error code (``get_experiment_by_name`` turns
``RESOURCE_DOES_NOT_EXIST`` into ``None``, ``set_experiment`` then creates the experiment), so
every runhistory error raised behind the MLflow API is answered with the code MLflow would send.
"""

from __future__ import annotations

from typing import Any

from runhistory.errors import (
    AuthenticationError,
    ConflictError,
    InvalidTransitionError,
    MultipartUnsupportedError,
    NotFoundError,
    PermissionDeniedError,
    PropertyImmutableError,
    RunhistoryError,
    StorageError,
    ValidationError,
)

INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"
RESOURCE_DOES_NOT_EXIST = "RESOURCE_DOES_NOT_EXIST"
RESOURCE_ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"
INVALID_STATE = "INVALID_STATE"
ENDPOINT_NOT_FOUND = "ENDPOINT_NOT_FOUND"
BAD_REQUEST = "BAD_REQUEST"
INTERNAL_ERROR = "INTERNAL_ERROR"
NOT_IMPLEMENTED = "NOT_IMPLEMENTED"
PERMISSION_DENIED = "PERMISSION_DENIED"
UNAUTHENTICATED = "UNAUTHENTICATED"
TEMPORARILY_UNAVAILABLE = "TEMPORARILY_UNAVAILABLE"

# The HTTP status MLflow's server answers for each code.
HTTP_STATUS = {
    INVALID_PARAMETER_VALUE: 400,
    BAD_REQUEST: 400,
    RESOURCE_ALREADY_EXISTS: 400,
    RESOURCE_DOES_NOT_EXIST: 404,
    ENDPOINT_NOT_FOUND: 404,
    INVALID_STATE: 500,
    INTERNAL_ERROR: 500,
    NOT_IMPLEMENTED: 501,
    PERMISSION_DENIED: 403,
    UNAUTHENTICATED: 401,
    TEMPORARILY_UNAVAILABLE: 503,
}


class MlflowApiError(ValidationError):
    """A request the MLflow API refuses, with the MLflow error code it is answered with."""

    def __init__(self, message: str, error_code: str = INVALID_PARAMETER_VALUE, **fields: Any):
        super().__init__(message, **fields)
        self.error_code = error_code
        self.status_code = HTTP_STATUS.get(error_code, 400)  # type: ignore[misc]


def error_code_of(exc: RunhistoryError) -> str:
    """The MLflow error code for a runhistory error."""
    if isinstance(exc, MlflowApiError):
        return exc.error_code
    if isinstance(exc, NotFoundError):
        return RESOURCE_DOES_NOT_EXIST
    if isinstance(exc, MultipartUnsupportedError):
        return NOT_IMPLEMENTED
    if isinstance(exc, PropertyImmutableError):
        return INVALID_PARAMETER_VALUE  # MLflow: "Changing param values is not allowed"
    if isinstance(exc, InvalidTransitionError):
        return INVALID_PARAMETER_VALUE  # 400: MLflow's clients retry a 500 (INVALID_STATE)
    if isinstance(exc, ConflictError):
        return RESOURCE_ALREADY_EXISTS
    if isinstance(exc, ValidationError):
        return INVALID_PARAMETER_VALUE
    if isinstance(exc, AuthenticationError):
        return UNAUTHENTICATED
    if isinstance(exc, PermissionDeniedError):
        return PERMISSION_DENIED
    if isinstance(exc, StorageError):
        return TEMPORARILY_UNAVAILABLE
    return INTERNAL_ERROR


def error_body(exc: RunhistoryError) -> tuple[dict[str, str], int]:
    """The MLflow error body of ``exc`` and its HTTP status."""
    code = error_code_of(exc)
    status = exc.status_code if code == INTERNAL_ERROR else HTTP_STATUS[code]
    return {"error_code": code, "message": exc.message}, status


def not_found(message: str) -> MlflowApiError:
    """``RESOURCE_DOES_NOT_EXIST`` with ``message``."""
    return MlflowApiError(message, RESOURCE_DOES_NOT_EXIST)
