"""A worker's database writes in a process of their own, so that they never take the GIL from spaCy.

The default (``NEWSSTREAM_WRITE_PROCESS``; ``false`` keeps the write in a thread): one worker 4-9 %
faster in two sets of four alternating bench runs, for ~135 MB more resident memory (the child's own
interpreter, SQLAlchemy, the gazetteer the store reads, ~65 MB, and story state). A worker and its
writer stay under the 600 MB of issue 12 since spaCy parses 16 texts per batch instead of 32
(docs/benchmarks.md, tenth and eleventh sessions).

With ``overlap_writes`` a batch is written while the next one is parsed. In a thread (the eighth
session's overlap) the write's Python half (SQLAlchemy, story assignment) still takes turns with spaCy
at the GIL: on one worker that was 7-14 % of its time on SQLite and 15-23 % on PostgreSQL
(docs/benchmarks.md). Here the worker hands each batch's extracted records to a child process
(``python -m consumers.writer_process``) that holds its own engine on the same database and answers
with the write's outcome. Nothing else changes:

* the worker still commits the batch's offsets only after the child's database commit is reported;
* a write that fails in the child, for any reason (the database down, the child killed, a
  ``kill -9``, a pickling error), is done again on the worker's poll thread with the usual retry, so
  an outage pauses the partitions exactly as before, and a genuine error is raised there;
* the child dies with the worker (``PR_SET_PDEATHSIG``; a ``kill -9`` of the worker kills it, and
  its open transaction is rolled back), and a child that died is started again for the next batch.

Why not ``multiprocessing``: its pools and queues bring feeder threads and fork-or-spawn rules of
their own; what is needed is one child, one pipe each way and one message per batch, which
``multiprocessing.connection.Connection`` over two ``os.pipe`` pairs gives.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from functools import partial
from multiprocessing.connection import Connection
from typing import Any

from consumers.inflight import Done, timed
from pipeline.errors import NewsstreamError

STOP_WAIT_SECONDS = 10.0  # how long a stopping worker waits for its child's last write


class WriterFailed(NewsstreamError):
    """The writer process did not write the batch; the worker writes it itself (retriable)."""

    retriable = True


class ProcessWrite:
    """One batch sent to the writer process: ``wait`` gives its ``Done`` or raises ``WriterFailed``."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._done: Done[Any] | None = None
        self._error: str | None = None

    def resolve(self, done: Done[Any] | None, error: str | None) -> None:
        self._done, self._error = done, error
        self._event.set()

    def wait(self) -> Done[Any]:
        self._event.wait()
        if self._done is None:
            raise WriterFailed(self._error or "the writer process gave no answer")
        return self._done

    def succeeded(self) -> bool:
        """Reported written (never waits)."""
        return self._event.is_set() and self._done is not None

    def settle(self, timeout: float | None = None) -> None:
        """Wait for the child's answer, whatever it is (at most ``timeout`` seconds)."""
        self._event.wait(timeout)


@dataclass(frozen=True)
class WriterConfig:
    """What the child needs: the database, the story settings, the extractor version, the log set-up."""

    database_url: str
    story_config: Any  # pipeline.stories.StoryConfig
    extractor_version: str
    log_format: str = "auto"
    log_level: str = "INFO"
    log_context: tuple[tuple[str, str], ...] = ()


class WriterProcess:
    """The worker's side: start the child, send it batches one at a time, read its answers in a thread."""

    def __init__(self, config: WriterConfig, *, log: Any) -> None:
        self.config = config
        self.log = log
        self._proc: subprocess.Popen[bytes] | None = None
        self._send: Connection | None = None
        self._pending: tuple[int, subprocess.Popen[bytes], ProcessWrite] | None = None  # sent, unanswered
        self._sent = 0
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the child unless it runs (it loads its modules while the worker loads its model)."""
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                return
            self._spawn()

    def _spawn(self) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "consumers.writer_process", str(to_child_r), str(from_child_w),
                 str(os.getpid())],
                pass_fds=(to_child_r, from_child_w), stdin=subprocess.DEVNULL, stdout=2, close_fds=True)
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        self._send = Connection(to_child_w, readable=False)
        receive = Connection(from_child_r, writable=False)
        self._send.send(self.config)
        threading.Thread(target=self._read, args=(receive, self._proc), name="writer-answers", daemon=True).start()
        self.log.info("writer process started", pid=self._proc.pid)

    def submit(self, items: list[Any]) -> ProcessWrite:
        """Send one batch's ``(article, extraction, position)`` items; at most one batch is in flight."""
        write = ProcessWrite()
        try:
            self.start()
            with self._lock:
                assert self._send is not None and self._proc is not None
                self._sent += 1
                self._pending = (self._sent, self._proc, write)
                self._send.send((self._sent, items))
        except Exception as exc:  # a dead child or an unpicklable item: the worker writes the batch itself
            write.resolve(None, f"could not hand the batch to the writer process: {type(exc).__name__}: {exc}")
        return write

    def _read(self, receive: Connection, proc: subprocess.Popen[bytes]) -> None:
        while True:
            try:
                answer = receive.recv()
            except (EOFError, OSError):
                code = proc.wait()
                self._fail(f"the writer process exited (code {code})", proc)
                with contextlib.suppress(OSError):
                    receive.close()
                return
            seq, ok, payload = answer
            write = self._take(lambda s, _p, seq=seq: s == seq)
            if write is not None:
                write.resolve(payload if ok else None, None if ok else payload)

    def _take(self, matches: Any) -> ProcessWrite | None:
        """The unanswered write, if ``matches(seq, proc)``, no longer pending."""
        with self._lock:
            if self._pending is None or not matches(*self._pending[:2]):
                return None
            write = self._pending[2]
            self._pending = None
            return write

    def _fail(self, why: str, proc: subprocess.Popen[bytes] | None = None) -> None:
        """Fail the unanswered write (only one sent to ``proc``, when given: an old child's end is not a new one's)."""
        write = self._take(lambda _s, p: proc is None or p is proc)
        if write is not None:
            write.resolve(None, why)

    def busy(self) -> bool:
        """A batch was handed to the child and is not answered yet."""
        return self._pending is not None

    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def close(self) -> None:
        """Stop the child after its write in flight (killed if it has not ended in ``STOP_WAIT_SECONDS``)."""
        with self._lock:
            proc, send, self._proc, self._send = self._proc, self._send, None, None
        if proc is None:
            return
        with contextlib.suppress(OSError):
            assert send is not None
            send.close()  # the child reads end-of-file after its last batch and exits
        try:
            proc.wait(STOP_WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        self._fail("the writer process was stopped")


# -- the child ------------------------------------------------------------------------------------------
def _die_with_parent(parent: int) -> None:
    """SIGKILL this process when the worker dies (Linux), and exit at once if it already has."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(0)


def serve(receive: Connection, answer: Connection) -> None:
    """Write each batch received, answering ``(seq, True, Done)`` or ``(seq, False, why)``, until end of file."""
    from pipeline.logs import configure, get_logger
    from pipeline.store.db import make_engine
    from pipeline.store.stories import configure as configure_stories
    from pipeline.store.writer import prepare, write_batch

    config: WriterConfig = receive.recv()
    configure(config.log_format, config.log_level)
    configure_stories(config.story_config)
    engine = make_engine(config.database_url)
    log = get_logger(room="writer", **dict(config.log_context))
    prepare()  # while the worker loads its model, not in the first batch's write (the p99 at half load)
    try:
        while True:
            try:
                seq, items = receive.recv()
            except EOFError:
                return
            try:
                done = timed(partial(write_batch, engine, items, extractor_version=config.extractor_version))
                reply: tuple[int, bool, Any] = (seq, True, done)
            except Exception as exc:
                first = (str(exc).splitlines() or [""])[0][:300]
                log.warning("write failed in the writer process", error_class=type(exc).__name__, error=first)
                reply = (seq, False, f"{type(exc).__name__}: {first}")
            answer.send(reply)
    finally:
        engine.dispose()


def main(argv: list[str]) -> None:
    to_child, from_child, parent = (int(a) for a in argv)
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the worker decides
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the worker closes the pipe once its batch is done
    serve(Connection(to_child, writable=False), Connection(from_child, readable=False))


if __name__ == "__main__":
    main(sys.argv[1:])
