"""The consumer worker: poll a batch -> decode -> extract (nlp.pipe) -> one DB transaction -> commit offsets.

Offsets are committed only after the database commit, so a crash at any point means the
batch is redelivered and rewritten idempotently: nothing lost, nothing doubled. Messages
that cannot be decoded or extracted go to the dead-letter topic and the batch goes on.
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

from confluent_kafka import TIMESTAMP_NOT_AVAILABLE, KafkaError, KafkaException, Message, TopicPartition

from consumers.dlq import DeadLetters
from pipeline.article import Article, decode
from pipeline.bus.clients import make_consumer
from pipeline.config import Settings
from pipeline.errors import InvalidArticle
from pipeline.extract import EXTRACTOR_VERSION, extract_articles
from pipeline.extract.records import Extraction
from pipeline.logs import get_logger
from pipeline.metrics import Metrics
from pipeline.parsing.language import detect_language
from pipeline.retry import retry
from pipeline.store.writer import Position, write_batch

T = TypeVar("T")


@dataclass
class WorkerStats:
    consumed: int = 0
    processed: int = 0
    dead_lettered: int = 0
    batches: int = 0


_HTML = re.compile(r"<(html|head|body|div|p|span|script|table|br)\b[^>]*>", re.I)


def check_body(article: Article, *, origin: str) -> None:
    """Refuse a body that is an HTML page: the NLP would read markup as news."""
    head = article.body.lstrip()[:200].lower()
    if head.startswith(("<!doctype html", "<html")) or len(_HTML.findall(article.body[:20000])) >= 5:
        raise InvalidArticle("body is HTML markup, not article text (convert it to text before producing)",
                             code="html_body", origin=origin)


def is_english(article: Article) -> bool:
    """Declared language wins; otherwise detect it (the default model reads English)."""
    if article.language is None:
        article.language = detect_language(article.body)
    return article.language in (None, "en")


def _position(msg: Message) -> Position:
    """Where a consumed message came from (a consumed message always has all three)."""
    return Position(str(msg.topic()), int(msg.partition() or 0), int(msg.offset() or 0))


def _origin(msg: Message) -> str:
    return f"{msg.topic()}[{msg.partition()}]@{msg.offset()}"


class Worker:
    def __init__(self, settings: Settings, *, engine: Any, nlp: Any, metrics: Metrics | None = None,
                 group: str | None = None, from_beginning: bool = True, db_retry_seconds: float = 300.0,
                 keep_all_events: bool = False) -> None:
        self.settings = settings
        self.engine = engine
        self.nlp = nlp
        self.metrics = metrics or Metrics()
        self.group = group or settings.group
        self.db_retry_seconds = db_retry_seconds
        self.keep_all_events = keep_all_events
        self.stats = WorkerStats()
        self.log = get_logger(topic=settings.topic, group=self.group)
        self.stop_event = threading.Event()
        self._consumer = make_consumer(settings, group=self.group, from_beginning=from_beginning)
        self._dlq = DeadLetters(settings, settings.topic)
        self._assigned: set[tuple[str, int]] = set()
        self._last_lag = 0.0

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

    def _on_assign(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        self._assigned |= {(p.topic, p.partition) for p in partitions}
        self.metrics.rebalances.labels("assign").inc()
        self.log.info("partitions assigned", partitions=sorted(p.partition for p in partitions))

    def _on_revoke(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        self._assigned -= {(p.topic, p.partition) for p in partitions}
        self.metrics.rebalances.labels("revoke").inc()
        for p in partitions:  # the new owner reports these partitions' lag from now on
            self.metrics.forget_partition(self.group, p.topic, p.partition)
        self.log.info("partitions revoked", partitions=sorted(p.partition for p in partitions))

    def run(self, *, until_idle: float | None = None, max_articles: int | None = None,
            on_batch: Callable[[WorkerStats], None] | None = None) -> WorkerStats:
        """Consume until stopped, idle for ``until_idle`` seconds, or ``max_articles`` messages handled."""
        self._consumer.subscribe([self.settings.topic], on_assign=self._on_assign, on_revoke=self._on_revoke)
        last_message = time.monotonic()
        try:
            while not self.stop_event.is_set():
                want = self.settings.batch_size
                if max_articles is not None:
                    want = min(want, max_articles - self.stats.consumed)
                    if want <= 0:
                        break
                msgs = [m for m in self._poll(want) if not self._is_error(m)]
                if msgs:
                    self.process_batch(msgs)
                    last_message = time.monotonic()
                    if on_batch:
                        on_batch(self.stats)
                    continue
                if until_idle is not None and time.monotonic() - last_message > until_idle:
                    self.log.info("idle, stopping", idle_seconds=until_idle)
                    break
                self._update_lag()  # idle only: it asks the broker (busy workers update lag after each commit)
        finally:
            self.close()
        return self.stats

    def _poll(self, want: int) -> list[Message]:
        """Wait up to 0.5 s for the first message, then take what is already fetched: at low rates a
        message never waits for its batch to fill."""
        first = self._consumer.consume(num_messages=1, timeout=0.5)
        if not first or want <= 1:
            return list(first)
        return [*first, *self._consumer.consume(num_messages=want - 1, timeout=0.005)]

    def close(self) -> None:
        with contextlib.suppress(RuntimeError):  # already closed
            self._consumer.close()

    def _is_error(self, msg: Message) -> bool:
        err = msg.error()
        if err is None:
            return False
        if err.code() != KafkaError._PARTITION_EOF:
            self.log.warning("consumer error", error=str(err), retriable=err.retriable())
        return True

    # -- one batch ------------------------------------------------------------
    def process_batch(self, msgs: list[Message]) -> None:
        m = self.metrics
        self.stats.batches += 1
        self.stats.consumed += len(msgs)
        m.messages_consumed.inc(len(msgs))
        m.batch_size.observe(len(msgs))

        t0 = time.monotonic()
        good: list[tuple[Message, Article]] = []
        for msg in msgs:
            try:
                article = decode(msg.value(), origin=_origin(msg), max_body_bytes=self.settings.max_body_bytes)
                check_body(article, origin=_origin(msg))
                good.append((msg, article))
            except InvalidArticle as exc:
                self._dead_letter(msg, exc, exc.code)
        t1 = time.monotonic()
        m.stage_duration.labels("decode").observe(t1 - t0)

        clock = {"nlp": 0.0, "rules": 0.0}
        results = self._extract(good, clock)
        t2 = time.monotonic()
        m.stage_duration.labels("nlp").observe(max(0.0, t2 - t1 - clock["rules"]))
        m.stage_duration.labels("rules").observe(clock["rules"])

        items = [(art, ext, _position(msg)) for msg, art, ext in results]
        if items:
            written = self._with_retry("database", lambda: write_batch(self.engine, items,
                                                                       extractor_version=EXTRACTOR_VERSION))
            refused = {r.index for r in written.rejected}
            for r in written.rejected:
                self._dead_letter(results[r.index][0], ValueError(r.reason), "store_rejected")
            results = [res for i, res in enumerate(results) if i not in refused]
        t3 = time.monotonic()
        stored_at = time.time()  # the database commit: where end-to-end latency ends
        m.stage_duration.labels("db_write").observe(t3 - t2)

        self._with_retry("dead-letter topic", self._dlq.flush)
        self._commit(msgs)
        t4 = time.monotonic()
        m.stage_duration.labels("commit").observe(t4 - t3)

        for msg, _art, ext in results:
            ts_type, ts = msg.timestamp()  # CreateTime: when the producer sent the article
            if ts_type != TIMESTAMP_NOT_AVAILABLE and ts > 0:
                m.end_to_end_latency.observe(max(0.0, stored_at - ts / 1000))
            for ent in ext.entities:
                m.entities_extracted.labels(ent.label).inc()
            for ev in ext.events:
                m.events_extracted.labels(ev.type).inc()
        m.articles_processed.inc(len(results))
        self.stats.processed += len(results)
        self.log.info("batch committed", messages=len(msgs), articles=len(results),
                      seconds=round(t4 - t0, 3))

    def _extract(self, good: list[tuple[Message, Article]],
                 clock: dict[str, float]) -> list[tuple[Message, Article, Extraction]]:
        """Extraction for English articles; others are stored with their language and no entities.

        ``clock`` gets the seconds in spaCy (``"nlp"``) and in the rules (``"rules"``)."""
        kw: dict[str, Any] = {"keep_all_events": self.keep_all_events, "clock": clock}
        english: list[tuple[Message, Article]] = []
        others: list[tuple[Message, Article, Extraction]] = []
        for m, a in good:  # one language check per article (detection can be undecided: None)
            if is_english(a):
                english.append((m, a))
            else:
                others.append((m, a, Extraction()))
        for msg, art, _x in others:
            self.log.info("not English: stored without extraction", article_id=art.id, language=art.language,
                          partition=msg.partition(), offset=msg.offset())
        try:
            pairs = list(extract_articles(self.nlp, [a for _m, a in english], **kw))
            return others + [(msg, art, ext) for (msg, _a), (art, ext) in zip(english, pairs, strict=True)]
        except Exception:  # one article broke the batch: find it by going one at a time
            out: list[tuple[Message, Article, Extraction]] = list(others)
            for msg, art in english:
                try:
                    out.extend((msg, a, e) for a, e in extract_articles(self.nlp, [art], **kw))
                except Exception as exc:
                    self._dead_letter(msg, exc, "extraction_error")
            return out

    def _dead_letter(self, msg: Message, exc: BaseException, code: str) -> None:
        self.stats.dead_lettered += 1
        self.metrics.articles_failed.labels(code).inc()
        self.metrics.dlq_messages.labels(code).inc()
        self.log.warning("message sent to the dead-letter topic", partition=msg.partition(), offset=msg.offset(),
                         reason=code, error=str(exc), dlq=self._dlq.topic)
        self._dlq.send(msg, error_class=type(exc).__name__, reason=str(exc))

    def _with_retry(self, what: str, fn: Callable[[], T]) -> T:
        """Retry a retriable failure with backoff until ``db_retry_seconds`` pass.

        While it fails the assigned partitions are paused (the offsets of the batch in hand stay
        uncommitted) and resumed once it works again; each change of state is logged once.
        """
        paused: list[TopicPartition] = []

        def on_retry(exc: BaseException, delay: float, attempt: int) -> None:
            if what == "database":
                self.metrics.db_retries.inc()
            if not paused:
                paused.extend(self._consumer.assignment())
                if paused:
                    self._consumer.pause(paused)
                self.log.warning(f"{what} unavailable: partitions paused, retrying",
                                 error=str(exc).splitlines()[0][:300], retry_for_seconds=self.db_retry_seconds)
            self.log.info(f"{what} retry", attempt=attempt, delay=round(delay, 2))

        try:
            result = retry(fn, deadline=self.db_retry_seconds, on_retry=on_retry)
        except Exception as exc:
            if paused:
                self.log.error(f"{what} still unavailable after {self.db_retry_seconds:.0f}s: giving up; "
                               "the batch stays uncommitted and will be redelivered", error=str(exc)[:300])
            raise
        if paused:
            self._consumer.resume(paused)
            self.log.warning(f"{what} is back: partitions resumed")
        return result

    def _commit(self, msgs: list[Message]) -> None:
        last: dict[tuple[str, int], int] = {}
        for msg in msgs:
            pos = _position(msg)
            key = (pos.topic, pos.partition)
            last[key] = max(last.get(key, -1), pos.offset)
        offsets = [TopicPartition(t, p, o + 1) for (t, p), o in last.items()]
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
            self._lag_after_commit(offsets)
        except KafkaException as exc:
            # e.g. the partitions moved to another worker meanwhile: it re-reads them, and the
            # database writes are idempotent, so this costs time, never correctness
            self.log.warning("offset commit failed; the batch will be redelivered", error=str(exc))

    def _lag_after_commit(self, committed: list[TopicPartition]) -> None:
        """Lag of the partitions just committed, from the high watermark the fetcher last saw (no broker call)."""
        for tp in committed:
            try:
                _low, high = self._consumer.get_watermark_offsets(tp, cached=True)
            except Exception:  # lag is informative only
                continue
            if high >= 0:
                self.metrics.set_lag(self.group, tp.topic, tp.partition, high - tp.offset)

    def _update_lag(self, every: float = 5.0) -> None:
        if time.monotonic() - self._last_lag < every or not self._assigned:
            return
        self._last_lag = time.monotonic()
        tps = [TopicPartition(t, p) for t, p in sorted(self._assigned)]
        try:
            committed = self._consumer.committed(tps, timeout=2)
            for tp in committed:
                _low, high = self._consumer.get_watermark_offsets(tp, timeout=2, cached=False)
                done = tp.offset if tp.offset >= 0 else _low
                self.metrics.set_lag(self.group, tp.topic, tp.partition, high - done)
        except Exception as exc:  # lag is informative only; never stop consuming for it
            self.log.debug("lag update failed", error=str(exc))
