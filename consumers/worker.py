"""The consumer worker: poll a batch -> decode -> extract (nlp.pipe) -> one DB transaction -> commit offsets.

Offsets are committed only after the database commit and after every dead letter of the batch
was acknowledged, so a crash at any point means the batch is redelivered and rewritten
idempotently: nothing lost, nothing doubled. Anything a message contains that makes decoding,
validation or extraction fail sends that message to the dead-letter topic and the batch goes on;
only the infrastructure (database, broker) is retried, with the partitions paused and the group
still polled, so that a long outage does not cost the worker its membership.
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
from pipeline.retry import retry
from pipeline.store.stories import config_from_settings as story_config
from pipeline.store.stories import configure as configure_stories
from pipeline.store.writer import write_batch

T = TypeVar("T")
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
        self.instance_id = instance_id or settings.instance_id or default_instance_id(index)
        self.stats = WorkerStats()
        self.log = get_logger(topic=settings.topic, group=self.group, instance_id=self.instance_id)
        self.stop_event = threading.Event()
        self._consumer: BusConsumer = make_consumer(settings, group=self.group, from_beginning=from_beginning,
                                                    instance_id=self.instance_id)
        self._dlq = DeadLetters(settings, settings.topic)
        self._last_lag = 0.0
        configure_stories(story_config(settings))  # the story settings of this worker's command line

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
        self.metrics.rebalances.labels("revoke").inc()
        for topic, partition in partitions:  # the new owner reports these partitions' lag from now on
            self.metrics.forget_partition(self.group, topic, partition)
        self.log.info("partitions revoked", partitions=[p for _t, p in partitions])

    def run(self, *, until_idle: float | None = None, max_articles: int | None = None,
            on_batch: Callable[[WorkerStats], None] | None = None) -> WorkerStats:
        """Consume until stopped, caught up for ``until_idle`` seconds, or ``max_articles`` messages handled."""
        self._consumer.subscribe([self.settings.topic], on_assign=self._on_assign, on_revoke=self._on_revoke)
        idle = IdleWatch(self._consumer, self.settings.topic, until_idle,
                         join_timeout=self.settings.session_timeout_ms / 1000)
        clean = False
        try:
            while not self.stop_event.is_set():
                want = self.settings.batch_size
                if max_articles is not None:
                    want = min(want, max_articles - self.stats.consumed)
                    if want <= 0:
                        break
                records = self._poll(want)
                if records:
                    self.process_batch(records)
                    idle.busy()
                    if on_batch:
                        on_batch(self.stats)
                    continue
                verdict = idle.check()
                if verdict is not None:
                    self.stats.failure = verdict.failure
                    self.log.info("stopping", reason=verdict.reason, idle_seconds=until_idle)
                    break
                self._update_lag()
            clean = True
        finally:
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
        self._consumer.close(leave=leave)

    # -- one batch, stage by stage ----------------------------------------------
    def process_batch(self, records: list[ConsumedRecord]) -> None:
        m = self.metrics
        self.stats.batches += 1
        self.stats.consumed += len(records)
        m.messages_consumed.inc(len(records))
        m.batch_size.observe(len(records))
        t0 = time.monotonic()
        with m.stage_duration.labels("decode").time():
            good = self._decode(records)
        # nlp and rules are timed by hand, not with .time(): they interleave inside one extract_articles call
        clock = {"nlp": 0.0, "rules": 0.0}
        t1 = time.monotonic()
        results = self._extract(good, clock)
        m.stage_duration.labels("nlp").observe(max(0.0, time.monotonic() - t1 - clock["rules"]))
        m.stage_duration.labels("rules").observe(clock["rules"])
        with m.stage_duration.labels("db_write").time():
            results = self._store(results)
        stored_at = time.time()  # the database commit: where end-to-end latency ends
        with m.stage_duration.labels("commit").time():
            self._with_retry("dead-letter topic", self._dlq.flush)
            self._commit(records)
        self._count(results, stored_at)
        self.log.info("batch committed", messages=len(records), articles=len(results),
                      seconds=round(time.monotonic() - t0, 3))

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
        kw: dict[str, Any] = {"keep_all_events": self.keep_all_events, "named_only": self.named_only, "clock": clock}
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
        try:
            pairs = list(extract_articles(self.nlp, [a for _r, a in english], **kw))
            return others + [(rec, art, ext) for (rec, _a), (art, ext) in zip(english, pairs, strict=True)]
        except Exception:  # one article broke the batch: find it by going one at a time
            out: list[Extracted] = list(others)
            for record, article in english:
                try:
                    out.extend((record, a, e) for a, e in extract_articles(self.nlp, [article], **kw))
                except Exception as exc:
                    self._dead_letter(record, exc, reasons.EXTRACTION_ERROR)
            return out

    def _store(self, results: list[Extracted]) -> list[Extracted]:
        """One transaction for the batch (retried while the database is away); refused items are dead-lettered."""
        if not results:
            return results
        items = [(art, ext, rec.position) for rec, art, ext in results]
        written = self._with_retry("database", lambda: write_batch(self.engine, items,
                                                                   extractor_version=EXTRACTOR_VERSION))
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
        offsets: dict[tuple[str, int], int] = {}
        for r in records:
            key = (r.topic, r.partition)
            offsets[key] = max(offsets.get(key, 0), r.offset + 1)
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
