"""The producer loop: validated articles onto the topic, keyed by article id, delivery tracked.

Knows nothing of consumers or SQL. Every message is either acknowledged by the broker
or reported as a delivery failure: never silently dropped. An id counts as sent (in memory
and in the persisted seen-set) only once the broker acknowledged it; a second send of an
id still in flight is not sent again but told the first one's outcome.
"""

from __future__ import annotations

import functools
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipeline import reasons
from pipeline.article import Article, encode
from pipeline.bus.clients import make_producer, topic_is_empty, topic_max_message_bytes
from pipeline.bus.config import producer_kwargs
from pipeline.config import Settings
from pipeline.errors import BrokerError, InvalidArticle
from pipeline.logs import get_logger
from pipeline.metrics import Metrics
from producers.seen import SeenStore

OnDone = Callable[[str | None], None]  # None once the broker acknowledged the article, else why not

# topic_is_empty lives in the bus; re-exported for the commands
__all__ = ["ArticleProducer", "OnDone", "ProduceStats", "topic_is_empty", "topic_message_limit"]


@dataclass
class ProduceStats:
    sent: int = 0
    duplicates: int = 0
    failed: int = 0
    rejected: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {"sent": self.sent, "duplicates": self.duplicates, "rejected": sum(self.rejected.values()),
                "rejected_by_reason": dict(sorted(self.rejected.items())), "delivery_failures": self.failed}

    def summary(self) -> str:
        rej = sum(self.rejected.values())
        reasons = ", ".join(f"{k}: {v}" for k, v in sorted(self.rejected.items()))
        return (f"sent {self.sent}, duplicates {self.duplicates}, rejected {rej}"
                + (f" ({reasons})" if reasons else "") + f", delivery failures {self.failed}")


def topic_message_limit(settings: Settings, topic: str | None = None) -> dict[str, Any]:
    """Producer overrides that fit the topic's ``max.message.bytes``: a message over it is refused
    when queued (a delivery failure naming it), and no batch grows over it, so the broker never
    fails a whole batch of good messages for one big one. Empty when the limit cannot be read."""
    limit = topic_max_message_bytes(settings, topic or settings.topic)
    if limit is None:
        return {}
    defaults = producer_kwargs(settings)
    size = max(1000, min(int(defaults["max_request_size"]), limit))
    return {"max_request_size": size, "batch_size": min(int(defaults["batch_size"]), size)}


def _encoded(article: Article) -> tuple[bytes, bytes]:
    """Key and value of an article; InvalidArticle when it cannot be encoded (a lone surrogate...)."""
    try:
        return article.id.encode("utf-8"), encode(article)
    except UnicodeEncodeError:
        raise InvalidArticle(f"{_bad_text_field(article)}: not valid Unicode text (a lone surrogate?)",
                             code=reasons.INVALID_FIELD) from None
    except Exception as exc:  # whatever it is, it is this article's fault: reject it, go on
        raise InvalidArticle(f"cannot be encoded: {type(exc).__name__}: {exc}", code=reasons.INVALID_FIELD) from None


def _bad_text_field(article: Article) -> str:
    for name, value in article.model_dump().items():
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and not text.isascii():
                try:
                    text.encode("utf-8")
                except UnicodeEncodeError:
                    return name
    return "article"


class ArticleProducer:
    """Sends articles with acks=all and idempotence; ``close()`` flushes everything still queued.

    Duplicates are skipped and counted: ids delivered or in flight in this run, and ids in the
    persisted ``seen`` store. Thread-safe: ``serve-ingest`` sends from many threads.
    """

    def __init__(self, settings: Settings, *, metrics: Metrics | None = None, topic: str | None = None,
                 seen: SeenStore | None = None, resend: bool = False, **overrides: Any) -> None:
        self.settings = settings
        self.topic = topic or settings.topic
        self.metrics = metrics or Metrics()
        self.stats = ProduceStats()
        self.log = get_logger(topic=self.topic)
        self._producer = make_producer(settings, **overrides)
        self._lock = threading.Lock()  # the id sets, the waiters and the stats
        self._polling = threading.Lock()  # one thread at a time serves the broker's answers
        self._delivered: dict[str, None] = {}  # acknowledged in this run, oldest first; bounded like the seen-set
        self._delivered_max = settings.seen_max
        self._in_flight: dict[str, list[OnDone]] = {}  # sent, not answered yet -> who waits for the answer
        self._store = seen
        self._check_store = not resend  # --resend: record deliveries, but do not skip what was sent before
        self._closing = False
        self._closed = False
        self._unanswered_at_close = 0

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def is_duplicate(self, article_id: str) -> bool:
        with self._lock:
            return self._known(article_id) is not None

    def _known(self, article_id: str) -> str | None:
        if article_id in self._in_flight:
            return "in_flight"
        if article_id in self._delivered:
            return "delivered"
        if self._store is not None and self._check_store and article_id in self._store:
            return "delivered"
        return None

    def send(self, article: Article, *, source: str = "file", on_done: OnDone | None = None) -> bool:
        """Queue one article; False (and counted) when its id was already sent, or is being sent.

        ``on_done`` is called exactly once: with None once the article is on the topic (sent now,
        before, or by the send in flight), else with the error. Raises InvalidArticle when the
        article cannot be encoded, and ProducerStalled (a BrokerUnavailable) when the broker has
        not made room for it in time.
        """
        key, value = _encoded(article)
        with self._lock:
            known = self._known(article.id)
            if known is None:
                self._in_flight[article.id] = [on_done] if on_done else []
            else:
                self.stats.duplicates += 1
                if known == "in_flight" and on_done is not None:
                    self._in_flight[article.id].append(on_done)  # told the first send's outcome
        if known is not None:
            self.metrics.duplicates_skipped.inc()
            self.log.info("duplicate skipped", article_id=article.id, in_flight=known == "in_flight")
            if known == "delivered" and on_done is not None:
                on_done(None)
            return False
        try:
            self._producer.send(self.topic, value, key=key,
                                on_ack=functools.partial(self._answered, article.id, source))
        except BrokerError as exc:
            self._answered(article.id, source, str(exc), 0.0)
            raise
        self._serve()
        return True

    def _answered(self, article_id: str, source: str, error: str | None, latency: float) -> None:
        with self._lock:
            waiters = self._in_flight.pop(article_id, None)
            if waiters is None:  # settled already (the producer closed without its answer)
                return
            if error is None:
                self._delivered.pop(article_id, None)
                self._delivered[article_id] = None
                if len(self._delivered) > self._delivered_max:  # forget the oldest, as the seen-set does
                    del self._delivered[next(iter(self._delivered))]
                self.stats.sent += 1
            else:
                self.stats.failed += 1
        if error is None:
            self.metrics.articles_produced.labels(source).inc()
            self.metrics.produce_latency.observe(latency)
            if self._store is not None:
                self._store.add(article_id)
        else:
            self.metrics.delivery_failures.inc()
            if self._closing:
                self._unanswered_at_close += 1
            else:
                self.log.error("delivery failed", article_id=article_id, error=error)
        for waiter in waiters:
            waiter(error)

    def reject(self, code: str) -> None:
        with self._lock:
            self.stats.rejected[code] += 1
        self.metrics.articles_rejected.labels(code).inc()

    def _serve(self) -> None:
        """Serve the answers already in, unless another thread is doing so."""
        if self._polling.acquire(blocking=False):
            try:
                self._producer.poll(0)
            finally:
                self._polling.release()

    def poll(self, timeout: float = 0.0) -> None:
        """Serve the broker's answers (and write the ids they delivered to the seen-set)."""
        with self._polling:
            self._producer.poll(timeout)
        if self._store is not None:
            self._store.commit()

    def flush(self, timeout: float = 60.0) -> int:
        """Wait for acknowledgements; returns how many articles are still unanswered."""
        with self._polling:
            self._producer.flush(timeout)
        if self._store is not None:
            self._store.commit()
        return len(self._in_flight)

    def drain(self) -> int:
        """Wait for every acknowledgement while the broker answers; raises ProducerStalled (a
        BrokerUnavailable) when it answered none for the block time. Returns how many are unanswered."""
        try:
            with self._polling:
                self._producer.drain()
        finally:
            if self._store is not None:
                self._store.commit()
        return len(self._in_flight)

    def close(self, timeout: float = 60.0) -> ProduceStats:
        """Flush (up to ``timeout``), then close; what is still unanswered counts as a delivery failure.
        Closing again does nothing."""
        if self._closed:
            return self.stats
        remaining = self.flush(timeout)
        self._closing = True
        with self._polling:
            self._producer.close(timeout=0 if remaining else 10)
        for article_id in list(self._in_flight):  # no answer came even from the closing client
            self._answered(article_id, "file", "the producer closed before the broker answered", 0.0)
        if self._unanswered_at_close:
            self.log.error("messages not delivered before the producer closed", count=self._unanswered_at_close)
        self._closed = True
        if self._store is not None:
            self._store.close()
        return self.stats
