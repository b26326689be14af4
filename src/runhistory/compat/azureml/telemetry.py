"""``azureml.telemetry``: runhistory sends no diagnostics anywhere, so these do nothing."""

from __future__ import annotations

from typing import Any


def set_diagnostics_collection(send_diagnostics: bool = True, **kwargs: Any) -> None:
    """Accepted and ignored: runhistory collects and sends no diagnostics."""


def get_diagnostics_collection_info(**kwargs: Any) -> dict[str, Any]:
    """Always ``{'send_diagnostics': False}``: nothing is collected."""
    return {"send_diagnostics": False}
