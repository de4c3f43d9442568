"""The consumer worker: poll a batch -> decode -> extract (nlp.pipe) -> one DB transaction -> commit offsets.

Offsets are committed only after the database commit and after every dead letter of the batch
was acknowledged, so a crash at any point means the batch is redelivered and rewritten
idempotently: nothing lost, nothing doubled. A batch's database write runs in a thread while the
next batch is polled and parsed (``consumers.inflight``; setting ``overlap_writes``); at most one
batch is in flight, and it is finished (written, dead letters flushed, offsets committed) as soon
as its write is done (checked between the next batch's articles), before the next write starts,
when a poll brings nothing, and before the worker stops; a revocation waits for its write.

Anything a message contains that makes decoding, validation or extraction fail sends that message
to the dead-letter topic and the batch goes on; only the infrastructure (database, broker) is
retried, with the partitions paused and the group still polled, so that a long outage does not
cost the worker its membership.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from consumers.dlq import DeadLetters
from consumers.idle import IdleWatch
from consumers.inflight import BackgroundWrite, Batch, Done, timed
from consumers.writer_process import WriterConfig, WriterProcess
from pipeline import reasons
from pipeline.article import Article, decode
from pipeline.bus.clients import BusConsumer, CommitFailed, default_instance_id, make_consumer
from pipeline.config import Settings
from pipeline.errors import InvalidArticle
from pipeline.extract import EXTRACTOR_VERSION, extract_articles
from pipeline.logs import get_logger
from pipeline.metrics import Metrics
from pipeline.parsing.language import detect_language
from pipeline.records import ConsumedRecord, Extraction
from pipeline.retry import is_retriable, retry
from pipeline.store.stories import config_from_settings as story_config
from pipeline.store.stories import configure as configure_stories
from pipeline.store.writer import write_batch

T = TypeVar("T")
REVOKE_WAIT_SECONDS = 5.0  # how long a revocation waits for the batch being written
Extracted = tuple[ConsumedRecord, Article, Extraction]


@dataclass
class WorkerStats:
    consumed: int = 0
    processed: int = 0
    dead_lettered: int = 0
    batches: int = 0
    lag_left: int | None = None  # the group's unread messages when the worker stopped (None: unknown)
    failure: str | None = None  # why the worker could not do its job (it then exits non-zero)


_HTML = re.compile(r"<(html|head|body|div|p|span|script|table|br)\b[^>]*>", re.I)


def check_body(article: Article, *, origin: str) -> None:
    """Refuse a body that is an HTML page: the NLP would read markup as news."""
    head = article.body.lstrip()[:200].lower()
    if head.startswith(("<!doctype html", "<html")) or len(_HTML.findall(article.body[:20000])) >= 5:
        raise InvalidArticle("body is HTML markup, not article text (convert it to text before producing)",
                             code=reasons.HTML_BODY, origin=origin)


def is_english(article: Article) -> bool:
    """Declared language wins; otherwise detect it (the default model reads English)."""
    if article.language is None:
        article.language = detect_language(article.body)
    return article.language in (None, "en")


class Worker:
    def __init__(self, settings: Settings, *, engine: Any, nlp: Any, metrics: Metrics | None = None,
                 group: str | None = None, from_beginning: bool = True, db_retry_seconds: float = 300.0,
                 keep_all_events: bool = False, named_only: bool = False, instance_id: str | None = None,
                 index: int = 0) -> None:
        self.settings = settings
        self.engine = engine
        self.nlp = nlp
        self.metrics = metrics or Metrics()
        self.group = group or settings.group
        self.db_retry_seconds = db_retry_seconds
        self.keep_all_events = keep_all_events
        self.named_only = named_only
        self.index = index
        self.instance_id = instance_id or settings.instance_id or default_instance_id(index)
        self.stats = WorkerStats()
        self.log = get_logger(topic=settings.topic, group=self.group, instance_id=self.instance_id)
        self.stop_event = threading.Event()
        self._consumer: BusConsumer = make_consumer(settings, group=self.group, from_beginning=from_beginning,
                                                    instance_id=self.instance_id)
        self._dlq = DeadLetters(settings, settings.topic)
        self._last_lag = 0.0
        self._read = 0  # messages polled, in flight or not (``consumed`` counts the finished batches)
        self._inflight: Batch | None = None
        self._on_batch: Callable[[WorkerStats], None] | None = None
        self.overlap = settings.overlap_writes and not _per_thread_database(engine)
        configure_stories(story_config(settings))  # the story settings of this worker's command line
        self._writer = self._writer_process() if self.overlap and settings.write_process else None

    def _writer_process(self) -> WriterProcess:
        """The child that writes the batches (consumers.writer_process), on this worker's database."""
        s = self.settings
        config = WriterConfig(database_url=self.engine.url.render_as_string(hide_password=False),
                              story_config=story_config(s), extractor_version=EXTRACTOR_VERSION,
                              log_format=s.log_format, log_level=s.log_level,
                              log_context=(("instance_id", self.instance_id),))
        return WriterProcess(config, log=self.log.bind(worker=self.index))

    # -- lifecycle ------------------------------------------------------------
    def install_signal_handlers(self, shutdown_timeout: float = 30.0) -> None:
        """First SIGTERM/SIGINT: finish the batch, commit, close (at most ``shutdown_timeout`` seconds).

        A second signal, or the timeout, exits at once: the uncommitted batch is simply redelivered.
        """
        def force_exit(code: int, why: str) -> None:
            self.log.warning(f"{why}: exiting now; the uncommitted batch will be redelivered")
            os._exit(code)

        def handler(signum: int, _frame: Any) -> None:
            if self.stop_event.is_set():
                force_exit(128 + signum, "second signal")
            self.log.info("stopping after the current batch", signal=signal.Signals(signum).name,
                          timeout_seconds=shutdown_timeout)
            self.stop_event.set()
            timer = threading.Timer(shutdown_timeout, force_exit, (1, f"not stopped within {shutdown_timeout}s"))
            timer.daemon = True
            timer.start()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def _on_assign(self, partitions: list[tuple[str, int]]) -> None:
        self.metrics.rebalances.labels("assign").inc()
        self.log.info("partitions assigned", partitions=[p for _t, p in partitions])

    def _on_revoke(self, partitions: list[tuple[str, int]]) -> None:
        # Runs on the client's IO thread, where no blocking Kafka call may be made. The write in flight
        # is waited for, so that the new owner does not write the same articles alongside it; the
        # revoked partitions are then handed over at the batch's end when that is safe (_hand_over),
        # else the new owner reads them again from their committed offsets. The batch's own commit
        # later covers only the partitions this worker still owns.
        inflight = self._inflight
        if inflight is not None and inflight.write is not None:
            inflight.write.settle(timeout=REVOKE_WAIT_SECONDS)
            self._hand_over(inflight, set(partitions))
        self.metrics.rebalances.labels("revoke").inc()
        for topic, partition in partitions:  # the new owner reports these partitions' lag from now on
            self.metrics.forget_partition(self.group, topic, partition)
        self.log.info("partitions revoked", partitions=[p for _t, p in partitions])

    def _hand_over(self, batch: Batch, revoked: set[tuple[str, int]]) -> None:
        """Commit the revoked partitions' part of a batch whose write is done, without waiting, when nothing
        of it was refused and no dead letter is unacknowledged: the new owner then starts after it instead
        of processing it a second time (a worker joining the group used to redo up to a batch). A commit
        that fails costs only that redelivery, as before."""
        write = batch.write
        if write is None or not write.succeeded() or write.wait().value.rejected or self._dlq.pending:
            return
        offsets: dict[tuple[str, int], int] = {}
        for r in batch.records:
            key = (r.topic, r.partition)
            if key in revoked:
                offsets[key] = max(offsets.get(key, 0), r.offset + 1)
        if offsets:
            def answered(error: str | None) -> None:
                if error:
                    self.log.warning("hand-over commit failed; the new owner reads the batch again", error=error)

            self._consumer.commit_soon(offsets, answered)
            self.log.info("partitions handed over", partitions=sorted(p for _t, p in offsets))

    def run(self, *, until_idle: float | None = None, max_articles: int | None = None,
            on_batch: Callable[[WorkerStats], None] | None = None) -> WorkerStats:
        """Consume until stopped, caught up for ``until_idle`` seconds, or ``max_articles`` messages handled.

        ``on_batch`` is called after each batch's offset commit."""
        if self._writer is not None:
            self._writer.start()  # it loads its modules while the group forms
        self._consumer.subscribe([self.settings.topic], on_assign=self._on_assign, on_revoke=self._on_revoke)
        idle = IdleWatch(self._consumer, self.settings.topic, until_idle,
                         join_timeout=self.settings.session_timeout_ms / 1000)
        self._on_batch = on_batch
        clean = False
        try:
            while not self.stop_event.is_set():
                want = self.settings.batch_size
                if max_articles is not None:
                    want = min(want, max_articles - self._read)
                    if want <= 0:
                        break
                records = self._poll(want)
                if records:
                    batch = self._prepare(records)
                    self._finish()  # the batch before this one
                    self._start_write(batch)
                    idle.busy()
                    continue
                self._finish()  # nothing new: the batch in flight is not held back waiting for one
                verdict = idle.check()
                if verdict is not None:
                    self.stats.failure = verdict.failure
                    self.log.info("stopping", reason=verdict.reason, idle_seconds=until_idle)
                    break
                self._update_lag()
            self._finish()
            clean = True
        finally:
            if not clean and self._inflight is not None and self._inflight.write is not None:
                self._inflight.write.settle(timeout=60)  # uncommitted: redelivered; but no write after we stop
            self.close(leave=clean)
        return self.stats

    def _poll(self, want: int) -> list[ConsumedRecord]:
        from pipeline.errors import BrokerUnavailable

        try:
            return self._consumer.poll(want, timeout=0.5)
        except BrokerUnavailable as exc:  # the client reconnects by itself; nothing was read
            self.log.warning("poll failed", error=str(exc)[:300])
            time.sleep(0.5)
            return []

    def close(self, *, leave: bool = True) -> None:
        """Close the clients; ``leave`` hands the partitions over at once (a crash keeps them for a restart)."""
        if leave:
            with contextlib.suppress(Exception):
                self.stats.lag_left = sum(self._consumer.group_lag(self.settings.topic).values())
        with contextlib.suppress(Exception):
            self._dlq.close()
        if self._writer is not None:
            self._writer.close()
        self._consumer.close(leave=leave)

    # -- one batch, stage by stage ----------------------------------------------
    def process_batch(self, records: list[ConsumedRecord]) -> None:
        """One batch from decoding to its offset commit, with nothing left in flight."""
        self._finish()
        self._inflight = self._prepare(records)
        self._finish()

    def _prepare(self, records: list[ConsumedRecord]) -> Batch:
        """Decode and extract a polled batch (dead-lettering what cannot be read)."""
        m = self.metrics
        self._read += len(records)
        m.messages_consumed.inc(len(records))
        m.batch_size.observe(len(records))
        batch = Batch(records, [])
        with m.stage_duration.labels("decode").time():
            good = self._decode(records)
        # nlp and rules are timed by hand, not with .time(): they interleave inside one extract_articles call
        clock = {"nlp": 0.0, "rules": 0.0}
        t1 = time.monotonic()
        batch.results = self._extract(good, clock)
        m.stage_duration.labels("nlp").observe(max(0.0, time.monotonic() - t1 - clock["rules"]))
        m.stage_duration.labels("rules").observe(clock["rules"])
        return batch

    def _start_write(self, batch: Batch) -> None:
        """Write the batch in the writer process or a thread while the next one is read (or at once,
        without overlap)."""
        self._inflight = batch
        if not self.overlap:
            self._finish()
        elif batch.results and self._writer is not None:
            batch.write = self._writer.submit(_items(batch.results))
        elif batch.results:
            results = batch.results
            batch.write = BackgroundWrite(lambda: self._write(results))

    def _finish(self) -> None:
        """The batch in flight: its write, then its dead letters acknowledged, then its offsets committed."""
        batch, self._inflight = self._inflight, None
        if batch is None:
            return
        self._settle_write(batch)
        t0 = time.monotonic()
        self._with_retry("dead-letter topic", self._dlq.flush)
        self._commit(batch.records)
        self.metrics.stage_duration.labels("commit").observe(time.monotonic() - t0)
        self._count(batch.results, batch.written.finished_at if batch.written else time.time())
        self.stats.batches += 1
        self.stats.consumed += len(batch.records)
        self.log.info("batch committed", messages=len(batch.records), articles=len(batch.results),
                      seconds=round(time.monotonic() - batch.started, 3))
        if self._on_batch:
            self._on_batch(self.stats)

    def _settle_write(self, batch: Batch) -> None:
        """The batch's database write, waited for (or done here); refused items are dead-lettered.

        A write that failed in the thread or the writer process is retried here, on the poll thread,
        which pauses the partitions and keeps polling while it waits."""
        if not batch.results:
            return
        t0 = time.monotonic()
        done: Done[Any] | None = None
        if batch.write is not None:
            pending, batch.write = batch.write, None
            try:
                done = pending.wait()
            except Exception as exc:
                if not is_retriable(exc):
                    raise
                self.log.warning("database write failed; retrying", error=str(exc).splitlines()[0][:300])
        if done is None:
            results = batch.results
            done = self._with_retry("database", lambda: timed(lambda: self._write(results)))
            self.metrics.stage_duration.labels("db_write").observe(time.monotonic() - t0)
        else:
            self.metrics.stage_duration.labels("db_write").observe(done.seconds)
        batch.written = done
        batch.results = self._stored(batch.results, done.value)

    def _decode(self, records: list[ConsumedRecord]) -> list[tuple[ConsumedRecord, Article]]:
        """Decode and validate each message; anything it makes raise sends it to the dead-letter topic."""
        good = []
        for record in records:
            try:
                article = decode(record.value, origin=record.origin, max_body_bytes=self.settings.max_body_bytes)
                check_body(article, origin=record.origin)
                good.append((record, article))
            except InvalidArticle as exc:
                self._dead_letter(record, exc, exc.code)
            except Exception as exc:  # whatever the bytes are, they must not stop the partition
                self._dead_letter(record, exc, reasons.UNDECODABLE)
        return good

    def _extract(self, good: list[tuple[ConsumedRecord, Article]], clock: dict[str, float]) -> list[Extracted]:
        """Extraction for English articles; others are stored with their language and no entities.

        ``clock`` gets the seconds in spaCy (``"nlp"``) and in the rules (``"rules"``)."""
        kw: dict[str, Any] = {"keep_all_events": self.keep_all_events, "named_only": self.named_only, "clock": clock,
                              "batch_size": self.settings.nlp_batch_size}
        english: list[tuple[ConsumedRecord, Article]] = []
        others: list[Extracted] = []
        for record, article in good:  # one language check per article (detection can be undecided: None)
            try:
                reads_english = is_english(article)
            except Exception as exc:
                self._dead_letter(record, exc, reasons.EXTRACTION_ERROR)
                continue
            if reads_english:
                english.append((record, article))
            else:
                others.append((record, article, Extraction()))
        for record, art, _x in others:
            self.log.info("not English: stored without extraction", article_id=art.id, language=art.language,
                          partition=record.partition, offset=record.offset)
        pairs: list[tuple[Article, Extraction]] = []
        parsed = extract_articles(self.nlp, [a for _r, a in english], **kw)
        while True:
            try:
                pair = next(parsed, None)
            except Exception:  # one article broke the batch: find it by going one at a time
                return others + self._one_by_one(english, kw)
            if pair is None:
                break
            pairs.append(pair)
            # the batch before this one is committed as soon as its write is done, not after this whole
            # parse (outside the try: what this raises is the database's or the broker's, not the article's)
            self._finish_if_written()
        return others + [(rec, art, ext) for (rec, _a), (art, ext) in zip(english, pairs, strict=True)]

    def _one_by_one(self, english: list[tuple[ConsumedRecord, Article]], kw: dict[str, Any]) -> list[Extracted]:
        out: list[Extracted] = []
        for record, article in english:
            try:
                out.extend((record, a, e) for a, e in extract_articles(self.nlp, [article], **kw))
            except Exception as exc:
                self._dead_letter(record, exc, reasons.EXTRACTION_ERROR)
        return out

    def _finish_if_written(self) -> None:
        batch = self._inflight
        if batch is not None and batch.write is not None and batch.write.succeeded():
            self._finish()

    def _write(self, results: list[Extracted]) -> Any:
        """One transaction for the batch (run in the writer thread, or retried on the poll thread)."""
        return write_batch(self.engine, _items(results), extractor_version=EXTRACTOR_VERSION)

    def _stored(self, results: list[Extracted], written: Any) -> list[Extracted]:
        """What the store kept; what it refused is dead-lettered."""
        self.metrics.stories_created.inc(written.stories.new)
        self.metrics.story_merges.inc(written.stories.merges)
        self.metrics.story_seconds.inc(written.stories.seconds)
        self.metrics.largest_stories(written.stories.sizes)
        refused = {r.index: r for r in written.rejected if r.index is not None}  # the writer sets index
        for i, r in refused.items():
            self._dead_letter(results[i][0], ValueError(r.reason), r.code)
        return [res for i, res in enumerate(results) if i not in refused]

    def _count(self, results: list[Extracted], stored_at: float) -> None:
        m = self.metrics
        for record, _art, ext in results:
            if record.timestamp_ms:  # CreateTime: when the producer sent the article
                m.end_to_end_latency.observe(max(0.0, stored_at - record.timestamp_ms / 1000))
            for ent in ext.entities:
                m.entities_extracted.labels(ent.label).inc()
            for ev in ext.events:
                m.events_extracted.labels(ev.family, ev.type).inc()
                m.events_by_country.labels(ev.country or "none").inc()
        m.articles_processed.inc(len(results))
        self.stats.processed += len(results)

    def _dead_letter(self, record: ConsumedRecord, exc: BaseException, code: str) -> None:
        self.stats.dead_lettered += 1
        self.metrics.articles_failed.labels(code).inc()
        self.metrics.dlq_messages.labels(code).inc()
        self.log.warning("message sent to the dead-letter topic", partition=record.partition, offset=record.offset,
                         reason=code, error_class=type(exc).__name__, error=str(exc)[:500], dlq=self._dlq.topic)
        self._dlq.send(record, code=code, error_class=type(exc).__name__, reason=str(exc) or type(exc).__name__)

    def _with_retry(self, what: str, fn: Callable[[], T]) -> T:
        """Retry a retriable failure with backoff until ``db_retry_seconds`` pass.

        While it fails, the partitions are paused (the batch in hand stays uncommitted) and the group
        is still polled between attempts, so a long outage does not evict this member; they are
        resumed once it works again. Each change of state is logged once.
        """
        paused_at: list[float] = []

        def on_retry(exc: BaseException, delay: float, attempt: int) -> None:
            if what == "database":
                self.metrics.db_retries.inc()
            if not paused_at:
                paused_at.append(time.monotonic())
                self._consumer.hold()
                self.log.warning(f"{what} unavailable: partitions paused, retrying",
                                 error=str(exc).splitlines()[0][:300], retry_for_seconds=self.db_retry_seconds)
            self.log.info(f"{what} retry", attempt=attempt, delay=round(delay, 2))

        try:
            result = retry(fn, deadline=self.db_retry_seconds, on_retry=on_retry, sleep=self._consumer.keep_alive)
        except Exception as exc:
            if paused_at:
                self.log.error(f"{what} still unavailable after {self.db_retry_seconds:.0f}s: giving up; "
                               "the batch stays uncommitted and will be redelivered", error=str(exc)[:300])
            raise
        finally:
            if paused_at:
                self.metrics.outage_seconds.labels(what).inc(time.monotonic() - paused_at[0])
        if paused_at:
            self._consumer.release()
            self.log.warning(f"{what} is back: partitions resumed")
        return result

    def _commit(self, records: list[ConsumedRecord]) -> None:
        """Commit the batch's offsets on the partitions this worker still owns (a revoked one is read
        again by its new owner, and rewritten idempotently: committing it here could move its
        committed offset back behind the new owner's)."""
        owned = self._consumer.assignment()
        offsets: dict[tuple[str, int], int] = {}
        for r in records:
            key = (r.topic, r.partition)
            if key in owned:
                offsets[key] = max(offsets.get(key, 0), r.offset + 1)
        if not offsets:
            return
        try:
            self._consumer.commit(offsets)
        except CommitFailed as exc:
            # e.g. the partitions moved to another worker meanwhile: it re-reads them, and the
            # database writes are idempotent, so this costs time, never correctness
            self.log.warning("offset commit failed; the batch will be redelivered", error=str(exc))
            return
        with contextlib.suppress(Exception):  # lag is informative only
            for (topic, partition), lag in self._consumer.cached_lag(offsets).items():
                self.metrics.set_lag(self.group, topic, partition, lag)

    def _update_lag(self, every: float = 5.0) -> None:
        if time.monotonic() - self._last_lag < every or not self._consumer.assignment():
            return
        self._last_lag = time.monotonic()
        try:
            for (topic, partition), lag in self._consumer.lag().items():
                self.metrics.set_lag(self.group, topic, partition, lag)
        except Exception as exc:  # lag is informative only; never stop consuming for it
            self.log.debug("lag update failed", error=str(exc))


def _items(results: list[Extracted]) -> list[tuple[Article, Extraction, Any]]:
    """What the store writes of a batch: each article, its extraction and its Kafka position."""
    return [(art, ext, rec.position) for rec, art, ext in results]


def _per_thread_database(engine: Any) -> bool:
    """An in-memory SQLite database is one per thread (SingletonThreadPool): a writer thread would miss it."""
    from sqlalchemy.pool import SingletonThreadPool

    return isinstance(getattr(engine, "pool", None), SingletonThreadPool)
