"""The producer loop: validated articles onto the topic, keyed by article id, delivery tracked.

Knows nothing of consumers or SQL. Every message is either acknowledged by the broker
or reported as a delivery failure: never silently dropped.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message

from pipeline.article import Article, encode
from pipeline.bus.clients import make_producer
from pipeline.config import Settings
from pipeline.logs import get_logger
from pipeline.metrics import Metrics
from producers.seen import SeenStore

OnDone = Callable[[str | None], None]


@dataclass
class ProduceStats:
    sent: int = 0
    duplicates: int = 0
    failed: int = 0
    rejected: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        rej = sum(self.rejected.values())
        reasons = ", ".join(f"{k}: {v}" for k, v in sorted(self.rejected.items()))
        return (f"sent {self.sent}, duplicates {self.duplicates}, rejected {rej}"
                + (f" ({reasons})" if reasons else "") + f", delivery failures {self.failed}")


def topic_message_limit(settings: Settings, topic: str | None = None, timeout: float = 15.0) -> dict[str, Any]:
    """Producer overrides that fit the topic's ``max.message.bytes``: a message over it is refused
    when queued (a delivery failure naming it) rather than failing, at the broker, the whole batch
    of good messages it was sent with. Empty when the limit cannot be read."""
    from confluent_kafka.admin import ConfigResource, ResourceType

    from pipeline.bus.clients import make_admin, producer_config

    name = topic or settings.topic
    try:
        admin = make_admin(settings)  # kept referenced until the answer came: a collected client cancels it
        futures = admin.describe_configs([ConfigResource(ResourceType.TOPIC, name)], request_timeout=timeout)
        entries = next(iter(futures.values())).result(timeout=timeout)
        limit = int(entries["max.message.bytes"].value)
    except Exception:  # an old broker, no permission to describe: keep the defaults
        return {}
    ours = int(producer_config(settings)["message.max.bytes"])
    return {"message.max.bytes": max(1000, min(ours, limit))}


def topic_is_empty(settings: Settings, topic: str | None = None, timeout: float = 15.0) -> bool:
    """True when no message was ever written to the topic (new, or deleted and created again):
    then what the state dir remembers about it is stale. False when unsure."""
    from confluent_kafka import TopicPartition

    from pipeline.bus.clients import make_consumer

    name = topic or settings.topic
    consumer = make_consumer(settings, group="newsstream-producer-watermarks")
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                partitions = consumer.list_topics(name, timeout=timeout).topics[name].partitions
                return bool(partitions) and all(
                    consumer.get_watermark_offsets(TopicPartition(name, p), timeout=timeout)[1] == 0
                    for p in partitions)
            except KafkaException:  # e.g. a topic this new has no partition leader yet
                if time.monotonic() > deadline:
                    return False  # cannot tell: keep the state
                time.sleep(0.2)
    finally:
        consumer.close()


class ArticleProducer:
    """Sends articles with acks=all and idempotence; ``close()`` flushes everything still queued.

    Duplicates are skipped and counted: ids queued in this run, and ids in the persisted
    ``seen`` store (ids are added to it only once the broker acknowledged them).
    """

    def __init__(self, settings: Settings, *, metrics: Metrics | None = None, topic: str | None = None,
                 seen: SeenStore | None = None, resend: bool = False, **overrides: Any) -> None:
        self.settings = settings
        self.topic = topic or settings.topic
        self.metrics = metrics or Metrics()
        self.stats = ProduceStats()
        self.log = get_logger(topic=self.topic)
        self._producer = make_producer(settings, **overrides)
        self._seen: set[str] = set()
        self._store = seen
        self._check_store = not resend  # --resend: record deliveries, but do not skip what was sent before
        self._pending = 0

    def is_duplicate(self, article_id: str) -> bool:
        if article_id in self._seen:
            return True
        return self._store is not None and self._check_store and article_id in self._store

    def send(self, article: Article, *, source: str = "file", on_done: OnDone | None = None) -> bool:
        """Queue one article; False (and counted) when its id was already sent, in this run or before.

        ``on_done`` is called once the broker answered: with None when acknowledged, else the error.
        """
        if self.is_duplicate(article.id):
            self.stats.duplicates += 1
            self.metrics.duplicates_skipped.inc()
            self.log.info("duplicate skipped", article_id=article.id)
            return False
        self._seen.add(article.id)
        value = encode(article)
        started = time.monotonic()

        def on_delivery(err: KafkaError | None, msg: Message) -> None:
            self._pending -= 1
            if err is not None:
                self._failed(article.id, str(err), on_done)
                return
            self.stats.sent += 1
            self.metrics.articles_produced.labels(source).inc()
            latency = msg.latency()  # measured by librdkafka: right even when this callback is served late
            self.metrics.produce_latency.observe(latency if latency is not None else time.monotonic() - started)
            if self._store is not None:
                self._store.add(article.id)
            if on_done is not None:
                on_done(None)

        while True:
            try:
                self._producer.produce(self.topic, key=article.id.encode(), value=value, on_delivery=on_delivery)
                break
            except BufferError:  # local queue full: let deliveries drain
                self._producer.poll(0.5)
            except KafkaException as exc:  # refused before queueing, e.g. over message.max.bytes
                self._failed(article.id, str(exc.args[0] if exc.args else exc), on_done)
                return True
        self._pending += 1
        self._producer.poll(0)
        return True

    def _failed(self, article_id: str, error: str, on_done: OnDone | None) -> None:
        self.stats.failed += 1
        self.metrics.delivery_failures.inc()
        self.log.error("delivery failed", article_id=article_id, error=error)
        self._seen.discard(article_id)  # not delivered: a later attempt may send it
        if on_done is not None:
            on_done(error)

    def reject(self, code: str) -> None:
        self.stats.rejected[code] += 1
        self.metrics.articles_rejected.labels(code).inc()

    def poll(self, timeout: float = 0.0) -> None:
        """Serve delivery callbacks (and write the ids they delivered to the seen-set)."""
        self._producer.poll(timeout)
        if self._store is not None:
            self._store.commit()

    def flush(self, timeout: float = 60.0) -> int:
        """Wait for acknowledgements; returns how many messages are still undelivered."""
        remaining = int(self._producer.flush(timeout))
        if self._store is not None:
            self._store.commit()
        return remaining

    def close(self, timeout: float = 60.0) -> ProduceStats:
        remaining = self.flush(timeout)
        if remaining:
            self.stats.failed += remaining
            self.metrics.delivery_failures.inc(remaining)
            self.log.error("messages not delivered before the flush timeout", count=remaining)
        if self._store is not None:
            self._store.close()
        return self.stats
