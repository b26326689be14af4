"""Where the studio is: the base URL of portal links and of the notebook widget's link.

In order, the first that applies:

1. ``RUNHISTORY_STUDIO_URL`` (set on the client);
2. for a workspace on a server: the server's public URL (``runhistory server --public-url``,
   or ``RUNHISTORY_PUBLIC_URL`` where the server runs), else the server's own address;
3. for a local workspace: the address of a ``runhistory ui`` running on it now (each
   ``runhistory ui`` records its address under ``$RUNHISTORY_HOME/ui/`` while it serves).

``get_portal_url()`` falls back to ``http://127.0.0.1:5000`` (where ``runhistory ui`` listens by
default) so it always returns a link; the widget shows a link only when one is known.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from runhistory import settings
from runhistory.client.backend import home_folder, resolve_location
from runhistory.errors import ConfigurationError, RunhistoryError

if TYPE_CHECKING:
    from runhistory.sdk.workspace import Workspace

DEFAULT_UI_ADDRESS = "http://127.0.0.1:5000"
_WILDCARD_HOSTS = ("0.0.0.0", "::", "[::]", "")


def studio_base(workspace: Workspace) -> str:
    """Base URL of the studio for a workspace's portal links (never empty)."""
    return known_studio_base(workspace) or DEFAULT_UI_ADDRESS


def known_studio_base(workspace: Workspace) -> str | None:
    """Base URL of the studio when one is known (see the module docstring), else None."""
    configured = settings.get("RUNHISTORY_STUDIO_URL")
    if configured:
        return str(configured).rstrip("/")
    connection = workspace._connection
    if connection.location.kind == "remote":
        return _server_studio(connection.backend, connection.location.tracking_uri)
    return running_ui_address(connection.location.tracking_uri)


def _server_studio(backend: object, tracking_uri: str) -> str:
    info = getattr(backend, "get_server_info", None)
    try:
        public = info().get("public_url") if info is not None else None
    except RunhistoryError:  # an older server without the route: its own address serves it
        public = None
    return str(public or tracking_uri).rstrip("/")


def _record_path(tracking_uri: str) -> str:
    try:
        key = resolve_location(tracking_uri).tracking_uri  # one key for every spelling of a folder
    except ConfigurationError:  # a database URI without artifact location: itself is the key
        key = tracking_uri
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return os.path.join(home_folder(), "ui", f"{digest}.json")


def link_address(host: str, port: int) -> str:
    """``http://host:port`` to put in links (a wildcard listening address becomes loopback)."""
    shown = "127.0.0.1" if host in _WILDCARD_HOSTS else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


@contextmanager
def announce_ui(tracking_uri: str, url: str) -> Iterator[None]:
    """Record that a ``runhistory ui`` serves ``tracking_uri`` at ``url`` while the block runs."""
    path = _record_path(tracking_uri)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    mine = {"url": url.rstrip("/"), "pid": os.getpid(), "tracking_uri": tracking_uri}
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(mine, handle)
    os.replace(temporary, path)
    try:
        yield
    finally:
        if _read_record(path) == mine:  # a later ui on the same workspace keeps its record
            os.remove(path)


def running_ui_address(tracking_uri: str) -> str | None:
    """The address of a ``runhistory ui`` serving ``tracking_uri`` now, or None."""
    record = _read_record(_record_path(tracking_uri))
    pid = record.get("pid") if record is not None else None
    if record is None or not isinstance(pid, int) or not _alive(pid):
        return None
    url = record.get("url")
    return str(url) if url else None


def _read_record(path: str) -> dict[str, object] | None:
    try:
        with open(path, encoding="utf-8") as handle:
            found = json.load(handle)
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if os.name == "nt":  # os.kill(pid, 0) would stop the process there: trust the record
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    return True
