"""A batch between its extraction and its offset commit, and its database write in a thread.

(By default the write runs in a process of its own instead, consumers.writer_process; the thread
is what ``write_process=false`` keeps.)

The worker writes batch N in a thread while its own thread polls and parses batch N+1: spaCy
runs while the write waits on the database, though the Python parts of both still take turns at
the GIL (docs/benchmarks.md, eighth session: one worker 7-23 % faster). Only the write moves
to the thread. Everything that touches the Kafka consumer (pausing, polling during a retry,
committing) stays on the poll thread, so a write that fails in the thread is retried there.
At most one batch is in flight, and batches are written and committed in the order they were read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from pipeline.records import ConsumedRecord

T = TypeVar("T")


@dataclass(frozen=True)
class Done(Generic[T]):
    """A finished write: what it returned, how long it took, and when it committed (epoch seconds)."""

    value: T
    seconds: float
    finished_at: float


def timed(fn: Callable[[], T]) -> Done[T]:
    t0 = time.monotonic()
    value = fn()
    return Done(value, time.monotonic() - t0, time.time())


class PendingWrite(Protocol):
    """A write under way: in a thread here, or in the writer process (consumers.writer_process)."""

    def wait(self) -> Done[Any]: ...

    def succeeded(self) -> bool: ...

    def settle(self, timeout: float | None = None) -> None: ...


class BackgroundWrite(Generic[T]):
    """``fn`` running in a daemon thread; ``wait`` gives its result or raises its error."""

    def __init__(self, fn: Callable[[], T], *, name: str = "db-write") -> None:
        self._done: Done[T] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fn,), name=name, daemon=True)
        self._thread.start()

    def _run(self, fn: Callable[[], T]) -> None:
        try:
            self._done = timed(fn)
        except BaseException as exc:  # handed to the poll thread, which decides
            self._error = exc

    def wait(self) -> Done[T]:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._done is not None
        return self._done

    def succeeded(self) -> bool:
        """Finished without an error (never waits)."""
        return not self._thread.is_alive() and self._done is not None

    def settle(self, timeout: float | None = None) -> None:
        """Wait for the thread to end, whatever it gives: nothing may write after the worker stopped."""
        self._thread.join(timeout)


@dataclass
class Batch:
    """One polled batch: its records, its extracted articles, and its write once started."""

    records: list[ConsumedRecord]
    results: list[Any]  # (record, article, extraction) of the articles to store
    started: float = field(default_factory=time.monotonic)
    write: PendingWrite | None = None  # running in a thread or in the writer process
    written: Done[Any] | None = None  # the write's outcome, once known (None: nothing to write)
