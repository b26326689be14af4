"""Stand-ins for cloud-only classes of the original SDK: they import, and using them says why not.

``from azureml.core import Dataset`` works so that a notebook's import cell runs; calling
``Dataset.get_by_name(...)`` (or making one) raises a
:class:`~runhistory.errors.ValidationError` naming what to use instead on runhistory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from runhistory.errors import ValidationError

_INSTEAD = {
    "Dataset": "read your data from a local path or URL (pandas, numpy, open()) and pass the "
    "path to the script as an argument",
    "Datastore": "keep data in a folder (or s3://) and pass its path to the script",
    "Webservice": "serve the model yourself: Model.download() its files and load them in your "
    "own service",
    "AciWebservice": "serve the model yourself: Model.download() its files and load them in "
    "your own service",
    "AksWebservice": "serve the model yourself: Model.download() its files and load them in "
    "your own service",
    "LocalWebservice": "serve the model yourself: Model.download() its files and load them in "
    "your own service",
    "InferenceConfig": "deployments are outside runhistory: Model.download() the files and "
    "load them in your own service",
    "LocalAuthentication": "no sign-in is needed: a workspace is a folder, a database or a "
    "server URL (set a token with RUNHISTORY_TRACKING_TOKEN for a server started with --auth)",
}


def _refuse(name: str, member: str | None = None) -> NoReturn:
    what = f"{name}.{member}" if member else name
    raise ValidationError(
        f"azureml {what} is a cloud feature that runhistory does not provide; "
        f"{_INSTEAD.get(name, 'see docs/compatibility.md')}"
    )


class _Refusing(type):
    def __getattr__(cls, member: str) -> Any:
        if member.startswith("__"):
            raise AttributeError(member)
        _refuse(cls.__name__, member)

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        _refuse(cls.__name__)


def _stand_in(name: str) -> type:
    return _Refusing(name, (), {"__doc__": f"Not available: {_INSTEAD[name]}."})


Dataset = _stand_in("Dataset")
Datastore = _stand_in("Datastore")
Webservice = _stand_in("Webservice")
AciWebservice = _stand_in("AciWebservice")
AksWebservice = _stand_in("AksWebservice")
LocalWebservice = _stand_in("LocalWebservice")
InferenceConfig = _stand_in("InferenceConfig")


class LocalAuthentication:
    """Accepted and ignored: local workspaces need no sign-in (``auth=`` is ignored too)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.arguments = kwargs


class Audience:
    """The token audiences of the original's ``TokenAuthentication`` (names only here)."""

    aml = AML = "aml"
    arm = ARM = "arm"


class TokenAuthentication(LocalAuthentication):
    """Accepted and ignored like the other sign-ins; ``get_token`` asks the given function.

    Args:
        get_token_for_audience: a function of the audience returning a token (kept, called
            only by :meth:`get_token`).
    """

    def __init__(self, get_token_for_audience: Callable[[str], str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.get_token_for_audience = get_token_for_audience

    def get_token(self, audience: str = Audience.aml) -> str:
        """The token ``get_token_for_audience`` gives for ``audience``; runhistory uses none."""
        return self.get_token_for_audience(audience)


class _OfflineRun:
    """The original's type of a run outside a submission; no runhistory run is one.

    ``Run.get_context()`` always returns a recorded run here, so scripts that log only when
    ``not isinstance(run, _OfflineRun)`` log.
    """
