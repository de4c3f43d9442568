"""The producer loop: validated articles onto the topic, keyed by article id, delivery tracked.

Knows nothing of consumers or SQL. Every message is either acknowledged by the broker
or reported as a delivery failure: never silently dropped.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaError, Message

from pipeline.article import Article, encode
from pipeline.bus.clients import make_producer
from pipeline.config import Settings
from pipeline.logs import get_logger
from pipeline.metrics import Metrics


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


class ArticleProducer:
    """Sends articles with acks=all and idempotence; ``close()`` flushes everything still queued."""

    def __init__(self, settings: Settings, *, metrics: Metrics | None = None, topic: str | None = None,
                 **overrides: Any) -> None:
        self.settings = settings
        self.topic = topic or settings.topic
        self.metrics = metrics or Metrics()
        self.stats = ProduceStats()
        self.log = get_logger(topic=self.topic)
        self._producer = make_producer(settings, **overrides)
        self._seen: set[str] = set()
        self._pending = 0

    def send(self, article: Article, *, source: str = "file") -> bool:
        """Queue one article; False (and counted) when its id was already sent in this run."""
        if article.id in self._seen:
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
                self.stats.failed += 1
                self.metrics.delivery_failures.inc()
                self.log.error("delivery failed", article_id=article.id, error=str(err))
                return
            self.stats.sent += 1
            self.metrics.articles_produced.labels(source).inc()
            self.metrics.produce_latency.observe(time.monotonic() - started)

        while True:
            try:
                self._producer.produce(self.topic, key=article.id.encode(), value=value, on_delivery=on_delivery)
                break
            except BufferError:  # local queue full: let deliveries drain
                self._producer.poll(0.5)
        self._pending += 1
        self._producer.poll(0)
        return True

    def reject(self, code: str) -> None:
        self.stats.rejected[code] += 1
        self.metrics.articles_rejected.labels(code).inc()

    def flush(self, timeout: float = 60.0) -> int:
        """Wait for acknowledgements; returns how many messages are still undelivered."""
        remaining = int(self._producer.flush(timeout))
        return remaining

    def close(self, timeout: float = 60.0) -> ProduceStats:
        remaining = self.flush(timeout)
        if remaining:
            self.stats.failed += remaining
            self.metrics.delivery_failures.inc(remaining)
            self.log.error("messages not delivered before the flush timeout", count=remaining)
        return self.stats
