"""Where run files and snapshots live: the :class:`ArtifactStore` interface and its implementation.

Open a store with :func:`open_artifact_store`; every key is checked with
:func:`validate_artifact_name` so no name can escape the store's root.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runhistory.lazy import lazy_getattr

if TYPE_CHECKING:
    from runhistory.artifacts.base import ArtifactStore
    from runhistory.artifacts.fsspec_store import FsspecArtifactStore
    from runhistory.artifacts.paths import validate_artifact_name

__all__ = ["ArtifactStore", "FsspecArtifactStore", "open_artifact_store", "validate_artifact_name"]

# Imported on first use: the SDK imports the light ``paths`` module of this package, and the
# store's implementation (multipart uploads, fsspec) is needed only once a store is opened.
__getattr__ = lazy_getattr(
    __name__,
    {
        "ArtifactStore": "runhistory.artifacts.base",
        "FsspecArtifactStore": "runhistory.artifacts.fsspec_store",
        "validate_artifact_name": "runhistory.artifacts.paths",
    },
    globals(),
)


def open_artifact_store(uri: str, storage_options: dict[str, Any] | None = None) -> ArtifactStore:
    """Open the artifact store rooted at ``uri``.

    Args:
        uri: a local folder (``/data/artifacts``, ``~/runs``), ``file:///data/artifacts``, or an
            fsspec URL such as ``s3://bucket/prefix`` (needs the ``s3`` extra). S3 endpoint and
            credentials come from the standard AWS environment variables (``AWS_ACCESS_KEY_ID``,
            ``AWS_SECRET_ACCESS_KEY``, ``AWS_ENDPOINT_URL``, …) unless ``storage_options`` has them.
        storage_options: options for the fsspec filesystem, for example
            ``{"client_kwargs": {"endpoint_url": "http://localhost:9000"}}``.

    Raises:
        StorageError: the filesystem for ``uri`` is unknown or its package is not installed.

    Example:
        >>> store = open_artifact_store("s3://team-bucket/artifacts")  # doctest: +SKIP
        >>> store.put_bytes("exp/run_1/outputs/note.txt", b"hello")  # doctest: +SKIP
        5
    """
    from runhistory.artifacts.fsspec_store import FsspecArtifactStore

    return FsspecArtifactStore(uri, storage_options)
