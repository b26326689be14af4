"""Every setting runhistory reads from the environment, declared once.

Each :class:`Setting` has a name, a type, a default and a help text; ``runhistory`` reads the
environment only through :func:`get`. ``docs/settings.md`` is checked against this table by
the tests, so a setting cannot go undocumented.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from runhistory.errors import ConfigurationError


@dataclass(frozen=True)
class Setting:
    """One environment setting."""

    name: str
    type: type
    default: Any
    help: str


_SETTINGS = [
    Setting(
        "RUNHISTORY_HOME",
        str,
        "~/.runhistory",
        "Folder of the default workspace (and of named local workspaces under workspaces/).",
    ),
    Setting(
        "RUNHISTORY_TRACKING_URI",
        str,
        None,
        "Tracking URI to use instead of any config file: a folder, sqlite:///…, "
        "postgresql://… or http(s)://host:port.",
    ),
    Setting(
        "RUNHISTORY_ARTIFACT_LOCATION",
        str,
        None,
        "Where run files go when the tracking URI is a database (folder or s3://bucket/prefix).",
    ),
    Setting(
        "RUNHISTORY_TRACKING_TOKEN",
        str,
        None,
        "Bearer token sent to a runhistory server that requires authentication.",
    ),
    Setting(
        "RUNHISTORY_HTTP_RETRY_SECONDS",
        float,
        30.0,
        "Seconds a remote client keeps retrying a request while a server that answered it "
        "before is unreachable, e.g. restarting (metric batches are spooled and retried "
        "without limit).",
    ),
    Setting(
        "RUNHISTORY_HTTP_CONNECT_SECONDS",
        float,
        2.0,
        "Seconds a remote client retries its first contact with a server that has not "
        "answered the process yet (0: fail at once); a host name that does not resolve "
        "fails at once.",
    ),
    Setting(
        "RUNHISTORY_RUN_ID",
        str,
        None,
        "Set by runhistory for a submitted script: the run that Run.get_context() returns.",
    ),
    Setting(
        "RUNHISTORY_QUIET",
        bool,
        False,
        "Do not print the one-line notice when the default workspace is first created.",
    ),
    Setting(
        "RUNHISTORY_QUEUE_MAX_POINTS",
        int,
        1_000_000,
        "Most metric values held in memory before log calls wait for the writer.",
    ),
    Setting(
        "RUNHISTORY_WRITER_BATCH",
        int,
        50_000,
        "Most metric values the background writer stores in one transaction.",
    ),
    Setting(
        "RUNHISTORY_HEARTBEAT_TIMEOUT",
        float,
        120.0,
        "Seconds without a heartbeat after which a running run shows NotResponding.",
    ),
    Setting(
        "RUNHISTORY_CLI_LEAN_READER",
        bool,
        True,
        "Read `runhistory run list` of an embedded SQLite workspace with the lean read-only "
        "reader (no SQLAlchemy import), and `run list --last N` of a server with the lean HTTP "
        "path (no SDK or httpx import); off: always through the SDK.",
    ),
    Setting(
        "RUNHISTORY_SNAPSHOT_MAX_BYTES",
        int,
        300 * 1024 * 1024,
        "Largest total size of a snapshot of a source folder, in bytes.",
    ),
    Setting(
        "RUNHISTORY_SNAPSHOT_MAX_FILES", int, 2000, "Most files in a snapshot of a source folder."
    ),
    Setting(
        "RUNHISTORY_LOCAL_MAX_JOBS",
        int,
        os.cpu_count() or 1,
        "Most submitted jobs the local compute target runs at once (default: CPU count).",
    ),
    Setting(
        "RUNHISTORY_DEFAULT_CLUSTER",
        str,
        None,
        "Ray job-server address (http://host:8265) that AmlCompute targets are created on; "
        "unset: they are local process pools.",
    ),
    Setting(
        "RUNHISTORY_CANCEL_GRACE_SECONDS",
        float,
        10.0,
        "Seconds a cancelled local job gets between SIGTERM and SIGKILL.",
    ),
    Setting(
        "RUNHISTORY_HEARTBEAT_INTERVAL",
        float,
        5.0,
        "Seconds between heartbeats of a running submitted job or interactive run.",
    ),
    Setting(
        "RUNHISTORY_LOG_UPLOAD_INTERVAL",
        float,
        0.5,
        "Seconds between uploads of a running job's growing log file.",
    ),
    Setting(
        "RUNHISTORY_SYSTEM_METRICS",
        bool,
        True,
        "Sample CPU, memory, disk, network and GPU figures as system/… metrics of every run "
        "started by start_logging(), a submitted job or Run.get_context() (false: off).",
    ),
    Setting(
        "RUNHISTORY_SYSTEM_METRICS_INTERVAL",
        float,
        10.0,
        "Seconds between two samples of system metrics.",
    ),
    Setting(
        "RUNHISTORY_STUDIO_URL",
        str,
        None,
        "Base URL of the studio used in portal links, set on the client (default: the "
        "server's public URL or address, or a running `runhistory ui` on a local workspace).",
    ),
    Setting(
        "RUNHISTORY_WIDGET_POLL_SECONDS",
        float,
        2.0,
        "Seconds between two refreshes of a notebook RunDetails widget while its run is live.",
    ),
    Setting(
        "RUNHISTORY_BACKEND_STORE_URI",
        str,
        None,
        "Database of runhistory server, token and db commands (--backend-store-uri).",
    ),
    Setting("RUNHISTORY_SERVER_HOST", str, "127.0.0.1", "Address the server listens on (--host)."),
    Setting("RUNHISTORY_SERVER_PORT", int, 5000, "Port the server listens on (--port)."),
    Setting("RUNHISTORY_SERVER_WORKERS", int, 1, "Server processes sharing the port (--workers)."),
    Setting(
        "RUNHISTORY_SERVER_WORKER_TIMEOUT",
        float,
        30.0,
        "Seconds a silent server worker lives before it is replaced (--worker-timeout).",
    ),
    Setting("RUNHISTORY_SERVER_AUTH", bool, False, "Require a token on the server (--auth)."),
    Setting(
        "RUNHISTORY_SECRET_KEY_FILE",
        str,
        None,
        "Key file encrypting workspace secrets on the server (--secret-key-file).",
    ),
    Setting(
        "RUNHISTORY_PUBLIC_URL",
        str,
        None,
        "The server's address as users open it (--public-url; for sign-in and portal links).",
    ),
    Setting(
        "RUNHISTORY_FORWARDED_ALLOW_IPS",
        str,
        "127.0.0.1",
        "Proxies whose X-Forwarded-* headers the server trusts (--forwarded-allow-ips).",
    ),
    Setting("RUNHISTORY_SERVER_LOG_LEVEL", str, "info", "Server log level (--log-level)."),
    Setting(
        "RUNHISTORY_SERVER_HTTP",
        str,
        "auto",
        "Server HTTP stack: auto (httptools and uvloop where installed) or python (h11, asyncio).",
    ),
]
SETTINGS: dict[str, Setting] = {s.name: s for s in _SETTINGS}


def get(name: str) -> Any:
    """The value of setting ``name`` from the environment, or its default."""
    setting = SETTINGS[name]
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return setting.default
    if setting.type is bool:
        return raw.strip().lower() in ("1", "true", "yes", "on")
    try:
        return setting.type(raw)
    except ValueError:
        raise ConfigurationError(
            f"environment variable {name}={raw!r} is not a valid {setting.type.__name__}: "
            f"{setting.help}"
        ) from None


# The environment as ``os.environ`` holds it (POSIX: encoded names and values), read without
# ``os.environ.get``'s Python layers; ``None`` where it has another shape (then ``get`` reads).
_ENVIRON: Any = getattr(os.environ, "_data", None) if os.name == "posix" else None
_PARSED: dict[str, tuple[bytes | None, Any]] = {}  # name: (raw value, value) last read


def get_fast(name: str) -> Any:
    """:func:`get`, parsed once for each value the environment holds: for settings read by
    every run a process starts (a change of ``os.environ`` is seen at once).

    Raises:
        ConfigurationError: as :func:`get`, each time the value is read.
    """
    if _ENVIRON is None:
        return get(name)
    raw = _ENVIRON.get(os.fsencode(name))
    found = _PARSED.get(name)
    if found is not None and found[0] == raw:
        return found[1]
    value = get(name)
    _PARSED[name] = (raw, value)
    return value
