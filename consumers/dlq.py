"""Dead-letter topic: the original bytes, and headers saying why, so nothing bad blocks a partition.

A dead letter is a store, not a best effort: the letters of a batch stay pending until the broker
acknowledged each one, ``flush`` sends again those that failed and raises ``DeadLetterUnavailable``
(retriable) while any is unacknowledged, so the worker keeps its batch uncommitted and retries.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from pipeline.bus.clients import BusProducer, dlq_topic
from pipeline.config import Settings
from pipeline.errors import BrokerUnavailable
from pipeline.records import ConsumedRecord

HEADER_PREFIX = "dlq."


class DeadLetterUnavailable(BrokerUnavailable):
    """The dead-letter topic did not acknowledge every letter of the batch."""


@dataclass
class _Letter:
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]
    state: str = "new"  # new -> sent -> acked | failed -> sent ...
    error: str | None = None


def dead_letter_headers(record: ConsumedRecord, *, code: str, error_class: str, reason: str,
                        attempts: int = 1) -> list[tuple[str, bytes]]:
    """The record's own headers (earlier ``dlq.*`` ones dropped) plus why it is here."""
    own = [(k, v) for k, v in record.headers if not k.startswith(HEADER_PREFIX)]
    return [
        *own,
        ("dlq.reason", code.encode()),
        ("dlq.error.class", error_class.encode()),
        ("dlq.error.message", reason.encode("utf-8", "replace")[:4000]),
        ("dlq.source.topic", record.topic.encode()),
        ("dlq.source.partition", str(record.partition).encode()),
        ("dlq.source.offset", str(record.offset).encode()),
        ("dlq.attempts", str(attempts).encode()),
        ("dlq.time", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()).encode()),
    ]


class DeadLetters:
    def __init__(self, settings: Settings, topic: str) -> None:
        self.topic = dlq_topic(topic)
        self._producer = BusProducer(settings, linger_ms=5)  # renews itself after a refusal left it fatal
        self._pending: list[_Letter] = []

    @property
    def pending(self) -> int:
        return sum(1 for letter in self._pending if letter.state != "acked")

    def send(self, record: ConsumedRecord, *, code: str, error_class: str, reason: str) -> None:
        """Queue a dead letter for ``record``; it is sent at once and confirmed by ``flush``."""
        headers = dead_letter_headers(record, code=code, error_class=error_class, reason=reason)
        letter = _Letter(record.key, record.value, headers)
        self._pending.append(letter)
        self._send(letter)

    def _send(self, letter: _Letter) -> None:
        def on_ack(error: str | None, _latency: float) -> None:
            letter.state, letter.error = ("failed", error) if error else ("acked", None)

        letter.state = "sent"
        self._producer.send(self.topic, letter.value, key=letter.key, headers=letter.headers, on_ack=on_ack)

    def flush(self, timeout: float = 30.0) -> None:
        """Return once every pending letter is acknowledged; else send the failed ones again and raise."""
        for letter in self._pending:
            if letter.state in ("new", "failed"):
                self._send(letter)
        unanswered = self._producer.flush(timeout)
        waiting = [letter for letter in self._pending if letter.state != "acked"]
        if not waiting:
            self._pending.clear()
            return
        errors = sorted({letter.error or "no answer" for letter in waiting})
        raise DeadLetterUnavailable(f"{len(waiting)} of {len(self._pending)} dead letters not acknowledged by "
                                    f"{self.topic} ({unanswered} unanswered): {'; '.join(errors)[:300]}")

    def close(self) -> None:
        self._producer.close()
