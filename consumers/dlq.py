"""Dead-letter topic: the original bytes and headers saying why, so nothing bad blocks a partition."""

from __future__ import annotations

import time
from typing import Any, cast

from confluent_kafka import Message

from pipeline.bus.clients import dlq_topic, make_producer
from pipeline.config import Settings


class DeadLetters:
    def __init__(self, settings: Settings, topic: str) -> None:
        self.topic = dlq_topic(topic)
        self._producer = make_producer(settings, **{"linger.ms": 5})
        self._failed: list[str] = []

    def send(self, msg: Message, *, error_class: str, reason: str, attempts: int = 1) -> None:
        headers: list[tuple[str, Any]] = list(cast(list[tuple[str, Any]], msg.headers() or []))
        headers += [
            ("dlq.error.class", error_class.encode()),
            ("dlq.error.message", reason.encode("utf-8", "replace")[:4000]),
            ("dlq.source.topic", (msg.topic() or "").encode()),
            ("dlq.source.partition", str(msg.partition()).encode()),
            ("dlq.source.offset", str(msg.offset()).encode()),
            ("dlq.attempts", str(attempts).encode()),
            ("dlq.time", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()).encode()),
        ]

        def on_delivery(err: Any, _msg: Message) -> None:
            if err is not None:
                self._failed.append(str(err))

        self._producer.produce(self.topic, key=msg.key(), value=msg.value(), headers=headers,
                               on_delivery=on_delivery)
        self._producer.poll(0)

    def flush(self, timeout: float = 30.0) -> None:
        """Make sure dead letters are acknowledged before the offsets of their batch are committed."""
        from pipeline.errors import BrokerUnavailable

        remaining = self._producer.flush(timeout)
        if remaining or self._failed:
            failed, self._failed = self._failed, []
            raise BrokerUnavailable(f"dead-letter delivery incomplete ({remaining} queued, errors {failed[:3]})")
