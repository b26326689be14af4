"""Multipart uploads into an artifact store: a large file sent as numbered parts, then joined.

:class:`MultipartUploads` is the interface; an artifact store hands out its implementation with
:meth:`~runhistory.artifacts.base.ArtifactStore.multipart` (or raises
:class:`~runhistory.errors.MultipartUnsupportedError`, and the file goes in one upload):

* :class:`LocalMultipartUploads` (a local folder): the server itself takes each part at a URL of
  its own, behind a per-upload secret sent in the :data:`SECRET_HEADER` header (only the secret's
  SHA-256 is kept). Parts are staged under ``<root>/.rh-multipart/<upload id>/`` and joined on
  :meth:`~MultipartUploads.complete` into a temporary file next to the key, renamed over it.
* :class:`S3MultipartUploads` (``s3://``): S3's own multipart API; each part goes straight to
  the bucket through a presigned ``UploadPart`` URL.

Keys are checked like every artifact key
(:func:`~runhistory.artifacts.paths.validate_artifact_name`).
Nothing here holds a whole file or part in memory: parts are streamed and hashed in chunks.
"""

from __future__ import annotations

import abc
import contextlib
import hashlib
import hmac
import io
import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol

from runhistory.artifacts.paths import validate_artifact_name
from runhistory.errors import (
    NotFoundError,
    PermissionDeniedError,
    StorageError,
    UnsafePathError,
    ValidationError,
)

__all__ = [
    "MAX_PARTS",
    "SECRET_HEADER",
    "STALE_SECONDS",
    "STAGING_FOLDER",
    "AssembledFile",
    "LocalMultipartUploads",
    "MultipartUploads",
    "PartTarget",
    "Readable",
    "S3MultipartUploads",
    "StartedUpload",
    "UploadedPart",
]

MAX_PARTS = 10_000
"""The most parts one upload may have (S3's limit, kept for every store)."""

SECRET_HEADER = "X-Runhistory-Upload-Secret"
"""The header that carries a local upload's secret with each part."""

STAGING_FOLDER = ".rh-multipart"
"""The hidden folder under a local store's root where parts wait for ``complete``."""

STALE_SECONDS = 7 * 24 * 3600
"""A local upload that received nothing for this long is dropped when the next one starts."""

PRESIGNED_SECONDS = 24 * 3600
"""How long a presigned S3 part URL stays valid."""

_CHUNK = 1024 * 1024
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
_ETAG = re.compile(r"^[0-9a-f]{64}$")
_META = "upload.json"


class Readable(Protocol):
    """Anything with a binary ``read(size)``: a file, a request body."""

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes; ``b""`` at the end."""
        ...


@dataclass(frozen=True)
class PartTarget:
    """Where the client sends one part: an HTTP ``PUT`` of the part's bytes to ``url`` with
    ``headers``."""

    part_number: int
    url: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StartedUpload:
    """A new multipart upload: its id and one :class:`PartTarget` per part."""

    upload_id: str
    parts: list[PartTarget]


@dataclass(frozen=True)
class UploadedPart:
    """A part the client sent: its number and the ETag it was answered."""

    part_number: int
    etag: str


@dataclass(frozen=True)
class AssembledFile:
    """The joined file now under the upload's key: its size and SHA-256 (hex)."""

    size: int
    sha256: str


class MultipartUploads(abc.ABC):
    """Multipart uploads into one artifact store."""

    @abc.abstractmethod
    def start(self, key: str, num_parts: int, part_url_base: str) -> StartedUpload:
        """Begin an upload of ``num_parts`` parts to ``key``.

        Args:
            key: the artifact key the joined file will have.
            num_parts: how many parts the client will send (1 to :data:`MAX_PARTS`).
            part_url_base: the URL under which a store that takes parts itself serves them
                (``<base>/<upload id>/<part number>``); stores with URLs of their own ignore it.

        Raises:
            UnsafePathError: the key is unsafe.
            ValidationError: ``num_parts`` is out of range.
        """

    @abc.abstractmethod
    def complete(self, key: str, upload_id: str, parts: Sequence[UploadedPart]) -> AssembledFile:
        """Join the parts into the file under ``key`` (replacing what was there) and end the
        upload.

        Raises:
            NotFoundError: no upload ``upload_id`` for ``key`` is in progress.
            ValidationError: a part is missing, listed twice or out of order, or its ETag is
                not the one it was answered.
        """

    @abc.abstractmethod
    def abort(self, key: str, upload_id: str) -> None:
        """Drop the upload and every part sent so far.

        Raises:
            NotFoundError: no upload ``upload_id`` for ``key`` is in progress.
        """

    def put_part(self, upload_id: str, part_number: int, secret: str, source: Readable) -> str:
        """Store one part sent to this server; returns its ETag. Only stores whose parts go
        through the server take them (the others hand out URLs of their own).

        Raises:
            NotFoundError: no such upload.
        """
        raise NotFoundError(
            f"no multipart upload {upload_id!r} takes parts here: this store's part URLs "
            "point at the store itself",
            upload_id=upload_id,
        )

    def check_part(self, upload_id: str, part_number: int, secret: str) -> None:
        """Refuse a part before its bytes are read: unknown upload, wrong secret, bad number.

        Raises:
            NotFoundError: no such upload.
            PermissionDeniedError: the secret is not the upload's.
            ValidationError: the part number is out of range.
        """
        raise NotFoundError(f"no multipart upload {upload_id!r} takes parts here")


def check_num_parts(num_parts: object) -> int:
    """``num_parts`` as an int from 1 to :data:`MAX_PARTS`.

    Raises:
        ValidationError: it is not an integer in that range.
    """
    if isinstance(num_parts, bool) or not isinstance(num_parts, int):
        raise ValidationError(f"num_parts must be an integer, not {num_parts!r}")
    if not 1 <= num_parts <= MAX_PARTS:
        raise ValidationError(f"num_parts must be from 1 to {MAX_PARTS}, not {num_parts}")
    return num_parts


def check_parts(parts: Sequence[UploadedPart]) -> None:
    """Refuse an empty list, or part numbers out of range, repeated or not ascending.

    Raises:
        ValidationError: the list breaks one of these rules.
    """
    if not parts:
        raise ValidationError("a multipart upload is completed with at least one part")
    previous = 0
    for part in parts:
        if not 1 <= part.part_number <= MAX_PARTS:
            raise ValidationError(f"part numbers run from 1 to {MAX_PARTS}, not {part.part_number}")
        if part.part_number <= previous:
            raise ValidationError(
                "parts must be listed once each in ascending order of part number "
                f"(part {part.part_number} after part {previous})"
            )
        previous = part.part_number


def _check_key(key: str) -> str:
    clean = validate_artifact_name(key)
    if clean.split("/", 1)[0] == STAGING_FOLDER:
        raise UnsafePathError(
            f"artifact key {key!r} lies in the staging folder of multipart uploads",
            name=key,
            rule="reserved",
        )
    return clean


class _HashingParts:
    """Reads a sequence of local files as one stream, hashing what passes."""

    def __init__(self, paths: Sequence[str]) -> None:
        self._paths = list(paths)
        self._current: BinaryIO | None = None
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        while True:
            if self._current is None:
                if not self._paths:
                    return b""
                self._current = open(self._paths.pop(0), "rb")  # noqa: SIM115 - closed below
            chunk = self._current.read(_CHUNK if size < 0 else min(size, _CHUNK))
            if chunk:
                self.digest.update(chunk)
                self.size += len(chunk)
                return chunk
            self._current.close()
            self._current = None

    def close(self) -> None:
        if self._current is not None:
            self._current.close()
            self._current = None


class LocalMultipartUploads(MultipartUploads):
    """Multipart uploads into a local folder, the parts taken by the server itself.

    Args:
        root: the artifact store's root folder.
        write_atomically: ``(path, stream) -> size``: streams into ``path`` through a temporary
            file in the same folder, renamed over it (the store's own writer).
        stale_seconds: an upload whose staging folder has not changed for this long (no part
            received) is removed when another upload starts.
    """

    def __init__(
        self,
        root: str,
        write_atomically: Callable[[str, Any], int],
        stale_seconds: float = STALE_SECONDS,
    ) -> None:
        self._root = root
        self._staging = os.path.join(root, STAGING_FOLDER)
        self._write = write_atomically
        self._stale_seconds = stale_seconds

    def start(self, key: str, num_parts: int, part_url_base: str) -> StartedUpload:
        """Stage a new upload; each part URL is ``<part_url_base>/<upload id>/<n>``. Uploads
        left stale by clients that never completed nor aborted them are removed first."""
        key = _check_key(key)
        num_parts = check_num_parts(num_parts)
        self._sweep()
        upload_id = secrets.token_hex(16)
        secret = secrets.token_urlsafe(32)
        meta = {"key": key, "num_parts": num_parts, "created": time.time(),
                "secret_sha256": _sha256_text(secret)}  # fmt: skip
        folder = os.path.join(self._staging, upload_id)
        os.makedirs(folder)
        self._write(os.path.join(folder, _META), io.BytesIO(json.dumps(meta).encode()))
        base = part_url_base.rstrip("/")
        headers = {SECRET_HEADER: secret}
        parts = [
            PartTarget(number, f"{base}/{upload_id}/{number}", dict(headers))
            for number in range(1, num_parts + 1)
        ]
        return StartedUpload(upload_id, parts)

    def check_part(self, upload_id: str, part_number: int, secret: str) -> None:
        """Refuse a part of an unknown upload, with a wrong secret or an out-of-range number."""
        meta = self._meta(upload_id)
        if not hmac.compare_digest(_sha256_text(secret), str(meta["secret_sha256"])):
            raise PermissionDeniedError(
                f"the secret sent with this part is not the one of upload {upload_id!r} "
                f"(send the {SECRET_HEADER} header the upload's credentials give)",
                upload_id=upload_id,
            )
        num_parts = int(meta["num_parts"])
        if not 1 <= part_number <= num_parts:
            raise ValidationError(
                f"upload {upload_id!r} has parts 1 to {num_parts}, not {part_number}",
                upload_id=upload_id,
            )

    def put_part(self, upload_id: str, part_number: int, secret: str, source: Readable) -> str:
        """Stage one part (a resent part replaces the earlier one); its ETag is its SHA-256."""
        self.check_part(upload_id, part_number, secret)
        folder = os.path.join(self._staging, upload_id)
        reader = _HashingReader(source)
        tmp = os.path.join(folder, f".{_part_stem(part_number)}.{secrets.token_hex(8)}.tmp")
        try:
            with open(tmp, "xb") as out:
                while chunk := reader.read(_CHUNK):
                    out.write(chunk)
            etag = reader.digest.hexdigest()
            os.replace(tmp, os.path.join(folder, f"{_part_stem(part_number)}.{etag}"))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        for stale in self._part_files(folder, part_number):
            if not stale.endswith(etag):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(folder, stale))
        return etag

    def complete(self, key: str, upload_id: str, parts: Sequence[UploadedPart]) -> AssembledFile:
        """Join every part, in order, into ``key`` (temporary file, then rename); the staging
        folder is removed."""
        key = _check_key(key)
        meta = self._meta(upload_id, key)
        check_parts(parts)
        folder = os.path.join(self._staging, upload_id)
        num_parts = int(meta["num_parts"])
        listed = [part.part_number for part in parts]
        missing = sorted(set(range(1, num_parts + 1)) - set(listed))
        if missing or listed[-1] > num_parts:
            shown = ", ".join(str(n) for n in missing[:10]) or f"none over {num_parts}"
            raise ValidationError(
                f"upload {upload_id!r} has {num_parts} parts; complete it with every one of "
                f"them listed (missing: {shown})",
                upload_id=upload_id,
            )
        paths = [self._part_path(folder, upload_id, part) for part in parts]
        reader = _HashingParts(paths)
        try:
            self._write(os.path.join(self._root, *key.split("/")), reader)
        finally:
            reader.close()
        shutil.rmtree(folder, ignore_errors=True)
        return AssembledFile(reader.size, reader.digest.hexdigest())

    def abort(self, key: str, upload_id: str) -> None:
        """Remove the upload's staging folder and every part in it."""
        self._meta(upload_id, _check_key(key))
        shutil.rmtree(os.path.join(self._staging, upload_id), ignore_errors=True)

    def _sweep(self) -> None:
        """Remove the staging folders of uploads that received nothing for too long."""
        cutoff = time.time() - self._stale_seconds
        try:
            names = os.listdir(self._staging)
        except FileNotFoundError:
            return
        for name in names:
            folder = os.path.join(self._staging, name)
            try:
                stale = _UPLOAD_ID.match(name) is not None and os.stat(folder).st_mtime < cutoff
            except OSError:
                continue
            if stale:
                shutil.rmtree(folder, ignore_errors=True)

    def _meta(self, upload_id: str, key: str | None = None) -> dict[str, Any]:
        if not isinstance(upload_id, str) or not _UPLOAD_ID.match(upload_id):
            raise NotFoundError(f"no multipart upload {str(upload_id)[:80]!r} is in progress",
                                upload_id=str(upload_id)[:80])  # fmt: skip
        path = os.path.join(self._staging, upload_id, _META)
        try:
            with open(path, "rb") as handle:
                meta: dict[str, Any] = json.loads(handle.read())
        except FileNotFoundError:
            raise NotFoundError(
                f"no multipart upload {upload_id!r} is in progress (never started, or already "
                "completed or aborted)",
                upload_id=upload_id,
            ) from None
        except (OSError, ValueError) as exc:
            raise StorageError(f"cannot read multipart upload {upload_id!r}: {exc}") from exc
        if key is not None and meta.get("key") != key:
            raise NotFoundError(
                f"multipart upload {upload_id!r} is not an upload to {key!r}",
                upload_id=upload_id,
            )
        return meta

    def _part_path(self, folder: str, upload_id: str, part: UploadedPart) -> str:
        etag = part.etag.strip().strip('"')
        path = os.path.join(folder, f"{_part_stem(part.part_number)}.{etag}")
        if not _ETAG.match(etag) or not os.path.isfile(path):
            sent = bool(self._part_files(folder, part.part_number))
            reason = "its ETag is not the one it was answered" if sent else "it was never sent"
            raise ValidationError(
                f"part {part.part_number} of upload {upload_id!r} cannot be joined: {reason}",
                upload_id=upload_id,
                part_number=part.part_number,
            )
        return path

    @staticmethod
    def _part_files(folder: str, part_number: int) -> list[str]:
        stem = _part_stem(part_number) + "."
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            return []
        return [name for name in names if name.startswith(stem)]


class S3MultipartUploads(MultipartUploads):
    """Multipart uploads into an S3 bucket through S3's own multipart API.

    Args:
        bucket: the bucket.
        prefix: the store's root inside the bucket (``""`` for the bucket's root).
        client: a botocore S3 client (``create_multipart_upload``, ``generate_presigned_url``,
            ``complete_multipart_upload``, ``abort_multipart_upload``, ``get_object``).
        expires: seconds each presigned part URL stays valid.
    """

    def __init__(
        self, bucket: str, prefix: str, client: Any, expires: int = PRESIGNED_SECONDS
    ) -> None:
        self._bucket = bucket
        self._prefix = prefix.strip("/")
        self._client = client
        self._expires = expires

    def start(self, key: str, num_parts: int, part_url_base: str) -> StartedUpload:
        """Create the S3 upload and presign one ``UploadPart`` URL per part."""
        name = self._name(key)
        num_parts = check_num_parts(num_parts)
        with _s3_errors(key):
            upload_id = str(
                self._client.create_multipart_upload(Bucket=self._bucket, Key=name)["UploadId"]
            )
            parts = [
                PartTarget(number, self._presign(name, upload_id, number))
                for number in range(1, num_parts + 1)
            ]
        return StartedUpload(upload_id, parts)

    def _presign(self, name: str, upload_id: str, number: int) -> str:
        params = {"Bucket": self._bucket, "Key": name, "UploadId": upload_id, "PartNumber": number}
        url: str = self._client.generate_presigned_url(
            "upload_part", Params=params, ExpiresIn=self._expires
        )
        return url

    def complete(self, key: str, upload_id: str, parts: Sequence[UploadedPart]) -> AssembledFile:
        """Complete the S3 upload, then stream the object back once for its size and hash."""
        name = self._name(key)
        check_parts(parts)
        listed = [{"PartNumber": part.part_number, "ETag": part.etag} for part in parts]
        with _s3_errors(key, upload_id):
            self._client.complete_multipart_upload(
                Bucket=self._bucket, Key=name, UploadId=upload_id,
                MultipartUpload={"Parts": listed},
            )  # fmt: skip
            body = self._client.get_object(Bucket=self._bucket, Key=name)["Body"]
            digest, size = hashlib.sha256(), 0
            try:
                for chunk in body.iter_chunks(_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
            finally:
                body.close()
        return AssembledFile(size, digest.hexdigest())

    def abort(self, key: str, upload_id: str) -> None:
        """Abort the S3 upload; S3 drops the parts."""
        name = self._name(key)
        with _s3_errors(key, upload_id):
            self._client.abort_multipart_upload(Bucket=self._bucket, Key=name, UploadId=upload_id)

    def _name(self, key: str) -> str:
        clean = _check_key(key)
        return f"{self._prefix}/{clean}" if self._prefix else clean


# S3 error codes, and what each means to the client
_S3_NOT_FOUND = frozenset({"NoSuchUpload", "NoSuchKey", "404"})
_S3_BAD_PARTS = frozenset({"InvalidPart", "InvalidPartOrder", "EntityTooSmall", "InvalidArgument",
                           "MalformedXML"})  # fmt: skip


@contextlib.contextmanager
def _s3_errors(key: str, upload_id: str | None = None) -> Iterator[None]:
    """Turn S3's answers into runhistory errors naming the key and upload."""
    try:
        yield
    except Exception as exc:
        response = getattr(exc, "response", None)
        if not isinstance(response, dict):
            if type(exc).__module__.split(".", 1)[0] in ("botocore", "urllib3"):
                raise StorageError(f"multipart upload to {key!r} failed: {exc}") from exc
            raise
        code = str(response.get("Error", {}).get("Code", ""))
        message = str(response.get("Error", {}).get("Message", exc))
        if code in _S3_NOT_FOUND:
            raise NotFoundError(
                f"no multipart upload {upload_id!r} to {key!r} is in progress (never started, "
                "or already completed or aborted)",
                upload_id=upload_id,
            ) from None
        if code in _S3_BAD_PARTS:
            raise ValidationError(
                f"S3 refused the parts of upload {upload_id!r} to {key!r}: {code}: {message}",
                upload_id=upload_id,
            ) from None
        raise StorageError(f"multipart upload to {key!r} failed: {code}: {message}") from exc


class _HashingReader:
    def __init__(self, stream: Readable) -> None:
        self._stream = stream
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self.digest.update(data)
        return data


def _part_stem(part_number: int) -> str:
    return f"part-{part_number:05d}"


def _sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
