"""The tracking server: the tracking service over HTTP (FastAPI under uvicorn).

Build the application with :func:`~runhistory.server.app.create_app`; ``runhistory server``
does that from its command-line options.
"""

from runhistory.server.config import ServerSettings, Services, open_services

__all__ = ["ServerSettings", "Services", "create_app", "open_services"]


def __getattr__(name: str) -> object:
    if name == "create_app":
        from runhistory.server.app import create_app

        return create_app
    raise AttributeError(name)
