"""An artifact store on a local folder or any fsspec filesystem (``s3://``, …).

A local root (a plain path or ``file://…``) is served with ``os`` and ``shutil`` directly: writes go
to a temporary file in the destination folder, are fsync'd, then renamed over the final name, so
a crash never leaves half a file under a key. Other roots go through fsspec, imported only when
such a store is opened so that ``import runhistory`` stays light. Data is always copied in
:data:`CHUNK_SIZE` pieces, never buffered whole.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from typing import Any, BinaryIO, cast
from urllib.parse import urlsplit, urlunsplit

from runhistory.artifacts.base import ArtifactStore
from runhistory.artifacts.multipart import (
    STAGING_FOLDER,
    LocalMultipartUploads,
    MultipartUploads,
    S3MultipartUploads,
)
from runhistory.artifacts.paths import validate_artifact_name
from runhistory.errors import NotFoundError, StorageError, UnsafePathError
from runhistory.faults import os_fault

__all__ = ["CHUNK_SIZE", "FsspecArtifactStore"]

CHUNK_SIZE = 1024 * 1024
"""Bytes copied per read/write when streaming artifacts."""

_READ_BLOCK = 8 * CHUNK_SIZE  # remote read-ahead: fewer requests, still bounded memory
_TMP_NAME = re.compile(r"^\.rh-[0-9a-f]{16}\.tmp$")  # in-flight local writes, hidden from listings
_NO_LISTINGS_CACHE = ("s3", "s3a")  # other processes write the bucket: never trust a cached listing


class FsspecArtifactStore(ArtifactStore):
    """Artifacts under a root folder: local (``/data/artifacts``, ``file://…``) or ``s3://bucket/x``.

    Args:
        root: where keys live. For ``s3://`` the endpoint and credentials come from the usual AWS
            environment variables (``AWS_ACCESS_KEY_ID``, ``AWS_ENDPOINT_URL``, …) unless
            ``storage_options`` gives them.
        storage_options: passed to the fsspec filesystem, for example
            ``{"client_kwargs": {"endpoint_url": "http://localhost:9000"}}``; unused for local
            roots.

    Example:
        >>> store = FsspecArtifactStore("/tmp/artifacts")
        >>> store.put_bytes("exp/run_1/outputs/hello.txt", b"hi")
        2
    """

    def __init__(self, root: str, storage_options: dict[str, Any] | None = None) -> None:
        self._uri = _public_uri(root)
        self._local: str | None = _local_root(root)
        self._fs: Any = None
        self._base = ""
        self._protocol = root.split("://", 1)[0].lower() if "://" in root else "file"
        self._options = dict(storage_options or {})
        self._multipart: MultipartUploads | None = None
        self._s3_client: Any = None
        if self._local is None:
            self._fs, self._base = _open_filesystem(root, dict(storage_options or {}))
            self._base = self._base.rstrip("/")

    def __repr__(self) -> str:
        return f"FsspecArtifactStore({self._uri!r})"

    def uri(self) -> str:
        """Where this store's root is (a local path or ``s3://bucket/prefix``), with no secrets."""
        return self._uri

    def multipart(self) -> MultipartUploads:
        """Multipart uploads: parts staged by the server for a local folder, S3's own
        multipart API for ``s3://``.

        Raises:
            MultipartUnsupportedError: any other filesystem (``memory://``, …).
        """
        if self._multipart is None:
            if self._local is not None:
                self._multipart = LocalMultipartUploads(self._local, _atomic_write)
            elif self._protocol in _NO_LISTINGS_CACHE:
                bucket, _, prefix = self._base.partition("/")
                self._multipart = S3MultipartUploads(bucket, prefix, _s3_client(self._options))
            else:
                return super().multipart()
        return self._multipart

    # -- writing ------------------------------------------------------------------------------

    def put_file(self, key: str, local_path: str) -> int:
        """Copy the local file ``local_path`` to ``key``; return its size in bytes."""
        path = self._path(key)
        with open(local_path, "rb") as source, self._writing(key):
            if self._local is not None:
                return _atomic_write(path, source)
            size = os.fstat(source.fileno()).st_size
            self._fs.put_file(local_path, path)
            return size

    def put_stream(self, key: str, stream: BinaryIO) -> int:
        """Write everything read from ``stream`` to ``key``; return the number of bytes."""
        path = self._path(key)
        with self._writing(key):
            if self._local is not None:
                return _atomic_write(path, stream)
            return self._remote_write(path, stream)

    def put_bytes(self, key: str, data: bytes) -> int:
        """Write ``data`` to ``key``; return its size."""
        path = self._path(key)
        with self._writing(key):
            if self._local is not None:
                return _atomic_write(path, io.BytesIO(data))
            self._fs.pipe_file(path, bytes(data))
            return len(data)

    def copy(self, source_key: str, dest_key: str) -> None:
        """Copy ``source_key`` to ``dest_key`` (server-side where the filesystem can).

        Raises:
            NotFoundError: ``source_key`` does not exist.
        """
        source, dest = self._path(source_key), self._path(dest_key)
        if self._local is None:
            if not self.exists(source_key):
                raise self._missing(source_key)
            with self._writing(dest_key):
                self._fs.cp_file(source, dest)
            return
        with self._reading(source_key):
            stream = open(source, "rb")  # noqa: SIM115 - closed just below
        with stream, self._writing(dest_key):
            _atomic_write(dest, stream)

    def delete_prefix(self, prefix: str) -> None:
        """Delete every key under the folder ``prefix``; an empty or missing folder is fine.

        Raises:
            UnsafePathError: ``prefix`` is empty (refusing to wipe the whole store) or unsafe.
        """
        if not prefix:
            raise UnsafePathError("refusing to delete every artifact: give a prefix", name="")
        path = self._path(prefix)
        with self._writing(prefix):
            if self._local is not None:
                if os.path.isdir(path):
                    shutil.rmtree(path)
                return
            paths = [self._fs_path(key) for key in self.list_keys(prefix)]
            if paths:
                self._fs.rm(paths)

    # -- reading ------------------------------------------------------------------------------

    def open_read(self, key: str) -> BinaryIO:
        """A readable binary stream of ``key``'s contents; the caller closes it.

        Raises:
            NotFoundError: there is no file at ``key``.
        """
        path = self._path(key)
        with self._reading(key):
            self._file_size(path)
            if self._local is not None:
                return open(path, "rb")
            return cast(BinaryIO, self._fs.open(path, "rb", block_size=_READ_BLOCK))

    def open_range(self, key: str, start: int, length: int) -> BinaryIO:
        """A readable stream of ``key`` from byte ``start`` holding at least ``length`` bytes
        (fewer at the end); the caller reads no more than ``length`` and closes it. An S3 store
        asks the bucket for exactly those bytes (one ``GET`` with a ``Range``), streamed.

        Raises:
            NotFoundError: there is no file at ``key``.
        """
        if self._local is not None or self._protocol not in _NO_LISTINGS_CACHE or length <= 0:
            return super().open_range(key, start, length)
        bucket, _, name = self._path(key).partition("/")
        with self._reading(key):
            try:
                answer = self._s3().get_object(
                    Bucket=bucket, Key=name, Range=f"bytes={start}-{start + length - 1}"
                )
            except Exception as exc:
                if _error_code(exc) in ("NoSuchKey", "404", "NotFound"):
                    raise FileNotFoundError(key) from exc
                raise
        return cast(BinaryIO, answer["Body"])

    def size(self, key: str) -> int:
        """The size of ``key``'s contents in bytes.

        Raises:
            NotFoundError: there is no file at ``key``.
        """
        with self._reading(key):
            return self._file_size(self._path(key))

    def _file_size(self, path: str) -> int:
        """The size of the file at ``path``; ``FileNotFoundError`` for a folder or nothing
        (called within :meth:`_reading`, which names the key)."""
        if self._local is not None:
            if os.path.isdir(path):
                raise FileNotFoundError(path)
            return os.path.getsize(path)
        found = self._fs.info(path)  # unlike isfile(), info() says when the store is out of reach
        if found.get("type") != "file":
            raise FileNotFoundError(path)
        return int(found["size"])

    def get_bytes(self, key: str) -> bytes:
        """The whole contents of ``key``.

        Raises:
            NotFoundError: there is no file at ``key``.
        """
        with self.open_read(key) as stream:
            return stream.read()

    def get_to_file(self, key: str, local_path: str) -> None:
        """Copy ``key`` to ``local_path`` (atomically), creating parent folders.

        Raises:
            NotFoundError: there is no file at ``key``.
        """
        with self.open_read(key) as stream:
            _atomic_write(os.path.abspath(local_path), stream)

    def exists(self, key: str) -> bool:
        """Whether ``key`` holds a file (a folder-like prefix does not count)."""
        path = self._path(key)
        if self._local is not None:
            return os.path.isfile(path)
        try:
            with self._reading(key):
                return bool(self._fs.info(path).get("type") == "file")
        except NotFoundError:
            return False

    def list_keys(self, prefix: str) -> Iterator[str]:
        """Every key under the folder ``prefix`` (``""`` for the whole store), sorted.

        ``list_keys("a/b")`` yields ``a/b/c`` and ``a/b/d/e`` but not ``a/bc``, nor ``a/b``
        itself should that be a file.
        """
        folder = validate_artifact_name(prefix) + "/" if prefix else ""
        with self._reading(prefix):
            keys = self._local_keys(folder) if self._local is not None else self._fs_keys(folder)
        return iter(sorted(key for key in keys if key.startswith(folder)))

    # -- helpers ------------------------------------------------------------------------------

    def _path(self, key: str) -> str:
        """The local or filesystem path of ``key``, after checking that it is safe."""
        clean = validate_artifact_name(key)
        if self._local is not None:
            return os.path.join(self._local, *clean.split("/"))
        return self._fs_path(clean)

    def _s3(self) -> Any:
        """The botocore S3 client of ranged reads (made once: clients are thread-safe)."""
        if self._s3_client is None:
            self._s3_client = _s3_client(self._options)
        return self._s3_client

    def _fs_path(self, clean_key: str) -> str:
        return f"{self._base}/{clean_key}" if self._base else clean_key

    def _local_keys(self, folder: str) -> list[str]:
        assert self._local is not None
        top = os.path.join(self._local, *folder.split("/"))
        keys: list[str] = []
        for dirpath, dirnames, filenames in os.walk(top):
            rel = os.path.relpath(dirpath, self._local).replace(os.sep, "/")
            if rel == "." and STAGING_FOLDER in dirnames:
                dirnames.remove(STAGING_FOLDER)  # parts of multipart uploads in progress
            stem = "" if rel == "." else rel + "/"
            keys.extend(stem + name for name in filenames if not _TMP_NAME.match(name))
        return keys

    def _fs_keys(self, folder: str) -> list[str]:
        top = self._fs_path(folder.rstrip("/")) if folder else self._base
        if not self._fs.isdir(top):
            return []
        start = len(self._base) + 1 if self._base else 0
        return [str(path)[start:] for path in self._fs.find(top)]

    def _remote_write(self, path: str, stream: BinaryIO) -> int:
        target = self._fs.open(path, "wb")
        try:
            size = _copy(stream, target)
        except BaseException:
            _discard(target)
            raise
        target.close()
        return size

    def _missing(self, key: str) -> NotFoundError:
        return NotFoundError(f"no artifact {key!r} in {self._uri}", key=key)

    @contextlib.contextmanager
    def _reading(self, key: str) -> Iterator[None]:
        """Turn a missing file into :class:`NotFoundError` and other I/O failures into
        :class:`StorageError`, both naming ``key``."""
        try:
            yield
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise self._missing(key) from exc
        except OSError as exc:
            raise os_fault(exc, f"reading artifact {key!r}", self._uri) from exc
        except Exception as exc:
            if not _is_store_failure(exc):
                raise
            raise StorageError(f"cannot read artifact {key!r} in {self._uri}: {exc}") from exc

    @contextlib.contextmanager
    def _writing(self, key: str) -> Iterator[None]:
        """Turn I/O failures into errors that say what happened (read-only folder, full disk,
        a file where a folder is needed, …) and name ``key``."""
        try:
            yield
        except OSError as exc:
            raise os_fault(exc, f"writing artifact {key!r}", self._uri) from exc
        except Exception as exc:
            if not _is_store_failure(exc):
                raise
            raise StorageError(f"cannot write artifact {key!r} to {self._uri}: {exc}") from exc


def _is_store_failure(exc: BaseException) -> bool:
    """Whether ``exc`` says the store failed: an I/O error, or an error of the object store's
    client library (botocore's connection errors, for example, are no ``OSError``)."""
    if isinstance(exc, OSError):
        return True
    module = type(exc).__module__.split(".", 1)[0]
    return module in _STORE_LIBRARIES


def _error_code(exc: BaseException) -> str:
    """The error code of an S3 answer (botocore's ``ClientError``), else ``""``."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return ""
    return str((response.get("Error") or {}).get("Code", ""))


def _atomic_write(dest: str, source: BinaryIO) -> int:
    """Stream ``source`` into ``dest`` through a fsync'd temporary file in the same folder."""
    folder = os.path.dirname(dest)
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".rh-{secrets.token_hex(8)}.tmp")
    try:
        with open(tmp, "xb") as out:
            size = _copy(source, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)
    return size


def _copy(source: BinaryIO, target: Any) -> int:
    size = 0
    while chunk := source.read(CHUNK_SIZE):
        target.write(chunk)
        size += len(chunk)
    return size


def _fsync_folder(folder: str) -> None:
    """Make the rename itself durable (POSIX only; Windows cannot open a folder)."""
    if os.name == "nt":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _discard(target: Any) -> None:
    """Abandon a half-written fsspec file so that nothing appears under its key."""
    with contextlib.suppress(Exception):
        target.discard()
    with contextlib.suppress(Exception):
        target.closed = True  # close() would otherwise commit the buffered part


def _local_root(root: str) -> str | None:
    """The absolute folder of a local root, or ``None`` if ``root`` is a remote URL."""
    if root.startswith("file://"):
        return os.path.abspath(root[len("file://") :])
    if "://" in root:
        return None
    return os.path.abspath(os.path.expanduser(root))


_STORE_LIBRARIES = frozenset(
    {"botocore", "aiobotocore", "boto3", "s3fs", "aiohttp", "fsspec", "gcsfs", "adlfs"}
)


def _public_uri(root: str) -> str:
    """``root`` without user, password or query string (which may hold tokens)."""
    local = _local_root(root)
    if local is not None:
        return local
    parts = urlsplit(root)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", "")).rstrip("/")


def _s3_client(options: dict[str, Any]) -> Any:
    """A botocore S3 client with the endpoint and credentials of the store's s3fs options
    (``key``, ``secret``, ``token``, ``endpoint_url``, ``client_kwargs``), else the standard
    AWS environment variables and configuration files."""
    import botocore.session  # s3fs's own dependency, imported only for S3 stores

    client_kwargs = dict(options.get("client_kwargs") or {})
    settings = {
        "aws_access_key_id": options.get("key"),
        "aws_secret_access_key": options.get("secret"),
        "aws_session_token": options.get("token"),
        "endpoint_url": options.get("endpoint_url") or client_kwargs.get("endpoint_url"),
        "region_name": client_kwargs.get("region_name"),
    }
    session = botocore.session.get_session()
    return session.create_client("s3", **{k: v for k, v in settings.items() if v is not None})


def _open_filesystem(root: str, storage_options: dict[str, Any]) -> tuple[Any, str]:
    import fsspec.core  # imported here: most processes never open a remote store

    protocol = root.split("://", 1)[0].lower()
    if protocol in _NO_LISTINGS_CACHE:
        storage_options.setdefault("use_listings_cache", False)
    try:
        fs, path = fsspec.core.url_to_fs(root, **storage_options)
    except (ImportError, ValueError) as exc:
        raise StorageError(f"cannot open artifact store {_public_uri(root)}: {exc}") from exc
    return fs, str(path)
