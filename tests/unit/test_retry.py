"""The one retry helper: backoff grows and is capped, limits stop it, hints lengthen pauses."""

from __future__ import annotations

import pytest

from runhistory.retry import Backoff, on, retry


class Flaky(Exception):
    retry_after: float | None = None


def _failing(times: int, error: Exception) -> tuple[list[int], object]:
    calls: list[int] = []

    def call() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise error
        return "done"

    return calls, call


def test_pauses_grow_and_are_capped() -> None:
    backoff = Backoff(first=0.1, factor=2.0, cap=0.5, jitter=0.0)
    assert [backoff.delay(n) for n in range(1, 6)] == [0.1, 0.2, 0.4, 0.5, 0.5]


def test_jitter_only_lengthens() -> None:
    backoff = Backoff(first=1.0, jitter=0.5)
    assert all(1.0 <= backoff.delay(1) <= 1.5 for _ in range(100))


def test_retries_until_success() -> None:
    pauses: list[float] = []
    calls, call = _failing(3, Flaky())
    assert retry(call, on(Flaky), Backoff(jitter=0.0), sleep=pauses.append) == "done"  # type: ignore[arg-type]
    assert len(calls) == 4 and pauses == [0.1, 0.2, 0.4]


def test_gives_up_after_the_attempts() -> None:
    pauses: list[float] = []
    calls, call = _failing(10, Flaky())
    with pytest.raises(Flaky):
        retry(call, on(Flaky), Backoff(attempts=3), sleep=pauses.append)  # type: ignore[arg-type]
    assert len(calls) == 3 and len(pauses) == 2


def test_gives_up_when_the_time_budget_would_be_exceeded() -> None:
    calls, call = _failing(10, Flaky())
    with pytest.raises(Flaky):
        retry(call, on(Flaky), Backoff(first=1.0, seconds=0.5), sleep=lambda s: None)  # type: ignore[arg-type]
    assert len(calls) == 1


def test_other_errors_are_not_retried() -> None:
    calls, call = _failing(1, KeyError("x"))
    with pytest.raises(KeyError):
        retry(call, on(Flaky), Backoff(), sleep=lambda s: None)  # type: ignore[arg-type]
    assert len(calls) == 1


def test_a_retry_after_hint_lengthens_the_pause_up_to_the_cap() -> None:
    error = Flaky()
    error.retry_after = 3.0
    pauses: list[float] = []
    _, call = _failing(1, error)
    retry(call, on(Flaky), Backoff(jitter=0.0, cap=2.0), sleep=pauses.append)  # type: ignore[arg-type]
    assert pauses == [2.0]


def test_only_transient_storage_faults_are_waited_out() -> None:
    import errno

    from runhistory.errors import StorageError, ValidationError
    from runhistory.faults import is_transient, os_fault

    read_only = os_fault(OSError(errno.EROFS, "Read-only file system"), "writing x", "/ws")
    full = os_fault(OSError(errno.ENOSPC, "No space left on device"), "writing x", "/ws")
    io_error = os_fault(OSError(errno.EIO, "Input/output error"), "writing x", "/ws")
    assert not is_transient(read_only)
    assert not is_transient(full)
    assert is_transient(io_error)
    assert is_transient(StorageError("the database is locked"))
    assert not is_transient(ValidationError("bad value"))


def test_a_queue_reports_a_read_only_store_without_retrying() -> None:
    import errno

    from runhistory.client.queue import MetricQueue
    from runhistory.errors import StorageError
    from runhistory.faults import os_fault

    calls: list[str] = []

    def sink(run_id: str, writes: object) -> None:
        calls.append(run_id)
        raise os_fault(OSError(errno.EROFS, "Read-only file system"), "writing", "/ws")

    queue = MetricQueue(sink)
    queue.put((queue.key("run-1", "loss", "scalar"), None, 0, 1.0, None, 0.0))
    with pytest.raises(StorageError, match="read-only") as caught:
        queue.flush()
    assert caught.value.fields["reason"] == "read-only"
    assert calls == ["run-1"]  # told at once, not after ten seconds of retries
