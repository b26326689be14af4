"""The offline spool: metric batches and run changes on disk until the server has stored them.

A remote client's sender keeps each batch (metric values, or run changes: creations, tags,
properties, status changes with the metric values logged among them) as a file in its spool
folder, named by a sequence number, from the moment anything waits to be sent: the server is
away or behind. A batch sent while nothing else waits is only *reserved* (named, in memory)
until the server answers: a flush returns once the server stored it, so the file would
only be written and deleted again (see ``SpoolSender._spool_batch``). A waiting batch is
written with every batch before it, so whenever more than one batch waits they are all on disk,
in order, and deleted once the server acknowledged them.
So nothing flushed is lost, and nothing waiting either when the server is down or the process
dies: a living process keeps resending in order, and ``runhistory sync`` sends what a dead
process left behind. Each batch carries an id and the server stores a batch id only once, so
resending is always safe.

Layout: ``$RUNHISTORY_HOME/spool/<server digest>/<pid>-<random>/`` holding ``meta.json`` (the
tracking URI), ``lock`` (held by the living process) and ``<seq>.batch`` files (JSON).

A process makes its folder, then takes its lock, then writes ``meta.json``: a folder with a
``meta.json`` is locked for as long as its process lives. A folder without one is being made
by a process that has not taken its lock yet, so the clean-up of other processes leaves it
alone until it is clearly abandoned (:data:`ABANDONED_SECONDS` old, its process gone).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from filelock import FileLock, Timeout

from runhistory.errors import ConfigurationError

BATCH_SUFFIX = ".batch"
META_FILE = "meta.json"
ABANDONED_SECONDS = 300.0  # a folder this old without meta.json was left by a dead process


def spool_root() -> str:
    """``$RUNHISTORY_HOME/spool``."""
    from runhistory.client.backend import home_folder

    return os.path.join(home_folder(), "spool")


@dataclass(slots=True)
class SpooledBatch:
    """One batch waiting to be sent: its file, size in points, (maybe) its JSON bytes, and
    the run it belongs to (``None`` when read back from a dead process's spool, or for a
    batch of run changes: ``changes`` is then true and ``run_ids`` names its runs)."""

    path: str
    points: int
    data: bytes | None
    run_id: str | None = None
    changes: bool = False
    run_ids: tuple[str, ...] = ()
    on_disk: bool = True  # False: named, but held in memory only until :meth:`SpoolDir.write`
    # The batch with its runs' environments named by id alone (``short``, in memory only:
    # the file holds the batch whole) and those ids (see runhistory.client.change_wire).
    short: bytes | None = None
    environments: frozenset[str] = frozenset()
    # Makes the JSON bytes of a batch held as ``short`` alone (``data`` is None), when it is
    # sent whole or written; not kept (``held`` counts what is).
    encode: Callable[[], bytes] | None = None
    size: int = 1 << 20  # the JSON's bytes, as far as known (a megabyte when not)
    held: int = 0  # bytes of this batch counted as held in memory (see SpoolSender)

    def load(self) -> bytes:
        """The batch's JSON bytes (made from its record, or read back from disk, if they
        were not kept in memory)."""
        data, encode = self.data, self.encode  # read once: another thread may spool it
        if data is not None:
            return data
        if encode is not None:
            return encode()
        with open(self.path, "rb") as handle:
            return handle.read()


class SpoolDir:
    """The spool folder of one process (or of a dead one, opened by ``runhistory sync``)."""

    def __init__(self, path: str, lock: FileLock | None = None) -> None:
        self.path = path
        self._lock = lock
        self._seq = 0

    @classmethod
    def create(cls, tracking_uri: str) -> SpoolDir:
        """A new spool folder for this process, locked while it lives (the lock is taken
        before ``meta.json`` is written: see the module docstring)."""
        path = os.path.join(
            spool_root(), _digest(tracking_uri), f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        )
        os.makedirs(path, exist_ok=True)
        lock = _lock_of(path)
        lock.acquire()
        meta = {"tracking_uri": tracking_uri, "pid": os.getpid(), "created_time": time.time()}
        _write_atomic(os.path.join(path, META_FILE), orjson.dumps(meta))
        return cls(path, lock)

    @classmethod
    def claim(cls, path: str) -> SpoolDir | None:
        """Open a spool folder whose process is gone (None while its owner still lives)."""
        lock = _lock_of(path)
        try:
            lock.acquire(timeout=0)
        except (Timeout, OSError):
            return None
        return cls(path, lock)

    def tracking_uri(self) -> str:
        """The server this spool's batches are for."""
        try:
            with open(os.path.join(self.path, META_FILE), "rb") as handle:
                return str(orjson.loads(handle.read())["tracking_uri"])
        except (OSError, ValueError, KeyError) as exc:
            raise ConfigurationError(
                f"spool folder {self.path} has no readable meta.json: {exc}"
            ) from None

    def append(
        self, record: dict[str, Any], points: int, keep_in_memory: bool, data: bytes | None = None
    ) -> SpooledBatch:
        """Write one batch to disk (atomically) and return its handle (``data``: the record
        already encoded)."""
        batch = self.reserve(record, points, data)
        self.write(batch)
        if not keep_in_memory:
            batch.data = None
        return batch

    def reserve(
        self,
        record: dict[str, Any],
        points: int,
        data: bytes | None = None,
        encode: Callable[[], bytes] | None = None,
        size: int | None = None,
    ) -> SpooledBatch:
        """A handle for the next batch, named in order but held in memory only: :meth:`write`
        puts it on disk (``data``: the record already encoded; or ``encode`` makes it when
        needed, and ``size`` says about how long it is)."""
        self._seq += 1
        if data is None and encode is None:
            data = orjson.dumps(record)
        size = len(data) if data is not None else (1 << 20 if size is None else size)
        path = f"{self.path}{os.sep}{self._seq:012d}{BATCH_SUFFIX}"  # os.path.join's, cheaper
        if "changes" in record:
            run_ids = tuple(record.get("run_ids", ()))
            return SpooledBatch(path, points, data, None, True, run_ids, on_disk=False,
                                encode=encode, size=size)  # fmt: skip
        return SpooledBatch(path, points, data, record.get("run_id"), on_disk=False, size=size)

    def write(self, batch: SpooledBatch) -> None:
        """Put a reserved batch on disk (atomically); nothing if it is there already."""
        if not batch.on_disk:
            assert batch.data is not None or batch.encode is not None, (
                "a batch held in memory only has its bytes, or makes them"
            )
            _write_atomic(batch.path, batch.load())
            batch.on_disk = True
            batch.encode = None  # read back from disk if it is sent whole

    def pending(self) -> list[SpooledBatch]:
        """The batches on disk, oldest first (for a spool left by a dead process)."""
        names = sorted(n for n in os.listdir(self.path) if n.endswith(BATCH_SUFFIX))
        batches = []
        for name in names:
            path = os.path.join(self.path, name)
            points, changes = _count_points(path)
            batches.append(SpooledBatch(path, points, None, changes=changes))
        return batches

    def remove(self, batch: SpooledBatch) -> None:
        """Forget a batch the server has acknowledged."""
        if not batch.on_disk:
            return
        try:
            os.unlink(batch.path)
        except FileNotFoundError:
            pass

    def close(self) -> bool:
        """Release the lock; delete the folder if it holds no batch. True if deleted."""
        empty = not any(n.endswith(BATCH_SUFFIX) for n in os.listdir(self.path))
        if empty:
            shutil.rmtree(self.path, ignore_errors=True)
        if self._lock is not None:
            self._lock.release(force=True)
            self._lock = None
        return empty


def _lock_of(folder: str) -> FileLock:
    """The lock a living process holds on its spool folder (portable: no ``fcntl``)."""
    return FileLock(os.path.join(folder, "lock"), mode=0o600, thread_local=False)


def _digest(tracking_uri: str) -> str:
    return hashlib.sha256(tracking_uri.encode()).hexdigest()[:16]


def _write_atomic(path: str, data: bytes) -> None:
    partial = path + ".tmp"
    with open(partial, "wb") as handle:
        handle.write(data)
    os.replace(partial, path)


def _count_points(path: str) -> tuple[int, bool]:
    """The metric values of a spooled batch, and whether it is a batch of run changes."""
    from runhistory.client.change_wire import count_changes

    try:
        with open(path, "rb") as handle:
            record = orjson.loads(handle.read())
        if "changes" in record:
            return count_changes(record["changes"])[1], True
        return sum(len(w["columns"][1]) for w in record.get("writes", ())), False
    except (OSError, ValueError, AttributeError, KeyError, IndexError, TypeError):
        return 0, False


def orphaned_spools(root: str | None = None) -> Iterator[SpoolDir]:
    """Spool folders with batches whose process is gone (each returned locked; close it).

    Empty folders of ended processes (every batch was delivered) are deleted on the way; a
    folder still being made by another process is left alone (see the module docstring).
    """
    base = root or spool_root()
    if not os.path.isdir(base):
        return
    for server in sorted(os.listdir(base)):
        folder = os.path.join(base, server)
        if os.path.isdir(folder):
            yield from _orphans_in(folder)


def _orphans_in(folder: str) -> Iterator[SpoolDir]:
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if not _may_claim(path, name):
            continue
        claimed = SpoolDir.claim(path)
        if claimed is None:
            continue
        try:
            has_batches = any(n.endswith(BATCH_SUFFIX) for n in os.listdir(claimed.path))
        except OSError:
            has_batches = False
        if has_batches:
            yield claimed
        else:
            claimed.close()


def _may_claim(path: str, name: str) -> bool:
    """Whether the folder may be an orphan: its owner wrote ``meta.json`` (and so holds its
    lock while it lives), or it was abandoned before that (old, and its process gone)."""
    if os.path.exists(os.path.join(path, META_FILE)):
        return True
    try:
        age = time.time() - os.stat(path).st_mtime
    except OSError:  # removed meanwhile, or not a folder we can read
        return False
    return age > ABANDONED_SECONDS and not _owner_alive(name)


def _owner_alive(name: str) -> bool:
    """Whether the process named by a spool folder (``<pid>-<random>``) still runs here."""
    pid_text = name.split("-", 1)[0]
    if os.name != "posix" or not pid_text.isdigit() or int(pid_text) <= 0:
        return False  # no safe probe: the age alone decides
    pid = int(pid_text)
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except OSError:  # exists, owned by another account
        return True
    return True


def remove_empty_orphans(tracking_uri: str) -> None:
    """Delete the empty spool folders that ended processes left for this server."""
    folder = os.path.join(spool_root(), _digest(tracking_uri))
    if os.path.isdir(folder):
        for spool in _orphans_in(folder):
            spool.close()  # keeps it: it has batches, for ``runhistory sync``
