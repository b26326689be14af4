"""The tracking server: the tracking service over HTTP (FastAPI under uvicorn).

Build the application with :func:`~runhistory.server.app.create_app`; ``runhistory server``
does that from its command-line options.
"""

from typing import TYPE_CHECKING

from runhistory.lazy import lazy_getattr
from runhistory.server.config import ServerSettings, Services, open_services

if TYPE_CHECKING:
    from runhistory.server.app import create_app

__all__ = ["ServerSettings", "Services", "create_app", "open_services"]

__getattr__ = lazy_getattr(__name__, {"create_app": "runhistory.server.app"}, globals())
