"""Opening a tracking backend from a tracking URI.

A *connection* pairs a backend (the :class:`~runhistory.tracking.service.TrackingService`
in-process, or a remote client with the same methods) with the process's metric queue.
Connections are cached per (tracking URI, artifact location): every ``Workspace`` object
for the same place shares one database engine and one background writer.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from runhistory import settings
from runhistory.client.location import ARTIFACT_FOLDER as ARTIFACT_FOLDER
from runhistory.client.location import DATABASE_FILE as DATABASE_FILE
from runhistory.client.location import SECRET_KEY_FILE as SECRET_KEY_FILE
from runhistory.client.location import Location as Location
from runhistory.client.location import home_folder as home_folder
from runhistory.client.location import resolve_location as resolve_location
from runhistory.client.queue import MetricQueue
from runhistory.errors import ConfigurationError

if TYPE_CHECKING:
    from runhistory.client.protocol import Backend
    from runhistory.tracking.service import TrackingService


class Connection:
    """A backend and the queue that feeds it.

    With a backend that stores batches of run changes (the embedded tracking service), runs
    started by this process are written behind: their creation, tags, properties and status
    changes go through the queue like metric values. ``backend`` then waits for queued
    changes before each call, so this process always reads what it wrote, in order.
    """

    def __init__(self, location: Location, backend: Backend) -> None:
        self.location = location
        self.queue = MetricQueue(
            backend.log_metrics,
            max_points=int(settings.get("RUNHISTORY_QUEUE_MAX_POINTS")),
            batch_size=int(settings.get("RUNHISTORY_WRITER_BATCH")),
            drain=getattr(backend, "wait_until_sent", None),
            changes=getattr(backend, "write_changes", None),
            refusals=getattr(backend, "take_refusals", None),
            accepts_changes=getattr(backend, "takes_changes", None),
            hold=getattr(backend, "hold_sending", None),
        )
        ordered = hasattr(backend, "write_changes")
        settle = getattr(backend, "wait_for_changes", None)
        self.backend: Backend = OrderedBackend(backend, self.queue, settle) if ordered else backend


class OrderedBackend:
    """A backend whose every call first waits for the run changes queued before it.

    Writes behind stay invisible to nobody in this process: ``Run.get``, listings, file
    uploads or a tag set from another ``Run`` object see the runs and changes queued earlier.
    The wait costs nothing when no run change is queued (metric values alone do not wait).
    ``settle`` (a remote backend's) then waits until the server stored the run changes the
    queue handed over (spooled batches are sent in the background).
    """

    def __init__(
        self, backend: Backend, queue: MetricQueue, settle: Callable[[], None] | None = None
    ) -> None:
        self._backend = backend
        self._queue = queue
        self._settle = settle

    @property
    def unordered(self) -> Backend:
        """The backend itself, without waiting."""
        return self._backend

    def __getattr__(self, name: str) -> Any:
        # Every method of :class:`Backend`, wrapped (mypy checks the wrapped backend's).
        found = getattr(self._backend, name)
        if not callable(found):
            return found
        queue = self._queue
        settle = self._settle

        @functools.wraps(found)
        def in_order(*args: Any, **kwargs: Any) -> Any:
            if queue.has_pending_changes():
                queue.wait()
            if settle is not None:
                settle()
            return found(*args, **kwargs)

        self.__dict__[name] = in_order
        return in_order


_CONNECTIONS: dict[tuple[str, str | None], Connection] = {}
_LOCK = threading.Lock()


def connect(
    tracking_uri: str, artifact_location: str | None = None, token: str | None = None
) -> Connection:
    """The cached connection for a tracking URI, opened on first use.

    ``token`` (from a workspace config) is sent to a server unless
    ``RUNHISTORY_TRACKING_TOKEN`` is set.
    """
    location = resolve_location(tracking_uri, artifact_location)
    key = (location.tracking_uri, location.artifact_location)
    with _LOCK:
        found = _CONNECTIONS.get(key)
        if found is None:
            found = _CONNECTIONS[key] = Connection(location, _open_backend(location, token))
        return found


def _open_backend(location: Location, token: str | None = None) -> Backend:
    if location.kind == "remote":
        try:
            from runhistory.client.remote import RemoteBackend
        except ImportError:
            raise ConfigurationError(
                f"cannot reach {location.tracking_uri}: this installation has no remote backend"
            ) from None
        token = settings.get("RUNHISTORY_TRACKING_TOKEN") or token
        return RemoteBackend(location.tracking_uri, token=token)
    return open_local_service(location)


def open_local_service(location: Location) -> TrackingService:
    """A :class:`TrackingService` over the SQL store and artifact store of ``location``."""
    from runhistory.artifacts import open_artifact_store
    from runhistory.store.sql import open_store
    from runhistory.tracking.service import TrackingService

    if location.kind == "local":
        os.makedirs(location.tracking_uri, exist_ok=True)
    assert location.database_url is not None and location.artifact_location is not None
    return TrackingService(
        open_store(location.database_url),
        open_artifact_store(location.artifact_location),
        secret_key_path=location.secret_key_path,
        heartbeat_timeout=float(settings.get("RUNHISTORY_HEARTBEAT_TIMEOUT")),
    )


def close_all() -> None:
    """Flush and close every cached connection (tests use this between workspaces)."""
    with _LOCK:
        connections = list(_CONNECTIONS.values())
        _CONNECTIONS.clear()
    for connection in connections:
        connection.queue.close()
        connection.backend.close()
