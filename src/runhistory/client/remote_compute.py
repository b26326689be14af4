"""The compute-target methods of the remote backend, answered by a server."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from runhistory.client.http import HttpClient
from runhistory.client.wire import record, records
from runhistory.tracking.compute_rules import check_compute_name
from runhistory.tracking.entities import ComputeTargetInfo


class RemoteComputeMixin:
    """``create/get/list/delete_compute_target`` over HTTP."""

    http: HttpClient

    if TYPE_CHECKING:  # provided by RemoteBackend

        def _all_pages(self, path: str, params: list[tuple[str, Any]]) -> list[Any]: ...

    def create_compute_target(
        self, name: str, kind: str, config: dict[str, Any]
    ) -> ComputeTargetInfo:
        """Record a new named compute target."""
        body = {"name": check_compute_name(name), "kind": kind, "config": config}
        return record(ComputeTargetInfo, self.http.call("POST", "/compute-targets", body))

    def get_compute_target(self, name: str) -> ComputeTargetInfo:
        """A named compute target."""
        path = f"/compute-targets/{quote(check_compute_name(name), safe='')}"
        return record(ComputeTargetInfo, self.http.call("GET", path))

    def list_compute_targets(self) -> list[ComputeTargetInfo]:
        """Every named compute target, by name."""
        return records(ComputeTargetInfo, self._all_pages("/compute-targets", []))

    def create_job_credential(self, run_id: str, seconds: float | None = None) -> str | None:
        """A credential for the job of ``run_id`` on a cluster (None: the server needs none)."""
        body = {"run_id": run_id, "seconds": seconds}
        found: Any = self.http.call("POST", "/job-credentials", body)
        credential = found.get("credential") if isinstance(found, dict) else None
        return str(credential) if credential else None

    def end_job_credential(self) -> None:
        """End the job credential this backend authenticates with (the job has finished)."""
        self.http.call("DELETE", "/job-credentials/current")

    def delete_compute_target(self, name: str) -> None:
        """Forget a named compute target."""
        path = f"/compute-targets/{quote(check_compute_name(name), safe='')}"
        self.http.call("DELETE", path)
