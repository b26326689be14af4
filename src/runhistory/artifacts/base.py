"""The artifact store interface: bytes under relative keys.

Keys are relative POSIX paths (``exp/run_id/outputs/model.pkl``). Implementations refuse keys
that are absolute or contain ``..`` (:class:`~runhistory.errors.UnsafePathError`), whatever the
caller checked before, and raise :class:`~runhistory.errors.NotFoundError` for missing keys.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO

from runhistory.errors import MultipartUnsupportedError

if TYPE_CHECKING:
    from runhistory.artifacts.multipart import MultipartUploads


class ArtifactStore(abc.ABC):
    """Where file contents live: a local folder, an S3 bucket, …"""

    @abc.abstractmethod
    def put_file(self, key: str, local_path: str) -> int:
        """Copy a local file to ``key``; return its size in bytes."""

    @abc.abstractmethod
    def put_stream(self, key: str, stream: BinaryIO) -> int:
        """Write everything read from ``stream`` to ``key`` in chunks; return the size."""

    @abc.abstractmethod
    def put_bytes(self, key: str, data: bytes) -> int:
        """Write ``data`` to ``key``; return its size."""

    @abc.abstractmethod
    def open_read(self, key: str) -> BinaryIO:
        """A readable binary stream of ``key``'s contents (caller closes it)."""

    def open_range(self, key: str, start: int, length: int) -> BinaryIO:
        """A readable binary stream of ``key`` from byte ``start`` that holds at least
        ``length`` bytes (fewer at the end of the file); the caller reads no more than
        ``length`` and closes it. Stores that can fetch a range alone override this."""
        stream = self.open_read(key)
        try:
            stream.seek(start)
        except BaseException:
            stream.close()
            raise
        return stream

    def size(self, key: str) -> int:
        """The size of ``key``'s contents in bytes."""
        with self.open_read(key) as stream:
            return stream.seek(0, 2)

    @abc.abstractmethod
    def get_bytes(self, key: str) -> bytes:
        """The whole contents of ``key``."""

    @abc.abstractmethod
    def get_to_file(self, key: str, local_path: str) -> None:
        """Copy ``key`` to a local file, creating parent folders."""

    @abc.abstractmethod
    def exists(self, key: str) -> bool:
        """Whether ``key`` holds a file."""

    @abc.abstractmethod
    def copy(self, source_key: str, dest_key: str) -> None:
        """Copy one key to another inside the store."""

    @abc.abstractmethod
    def list_keys(self, prefix: str) -> Iterator[str]:
        """Every key under ``prefix`` (a folder-like prefix), sorted."""

    @abc.abstractmethod
    def delete_prefix(self, prefix: str) -> None:
        """Delete every key under ``prefix``; nothing there is fine."""

    @abc.abstractmethod
    def uri(self) -> str:
        """Where this store's root is, for messages (never includes credentials)."""

    def multipart(self) -> MultipartUploads:
        """This store's multipart uploads (a large file sent in numbered parts, then joined).

        Raises:
            MultipartUnsupportedError: the store cannot take a file in parts (the default):
                send it in one upload.
        """
        raise MultipartUnsupportedError(
            f"the artifact store {self.uri()} cannot take multipart uploads: send the file in "
            "one upload"
        )
