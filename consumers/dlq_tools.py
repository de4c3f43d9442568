"""Reading and replaying the dead-letter topic (`newsstream dlq list|replay`).

A dead letter is the original message (key, value, headers) plus ``dlq.*`` headers saying why
the worker gave up on it (see consumers/worker.py). Each one is named by its position on the
dead-letter topic, ``partition:offset``. Replay sends the original key, value and non-``dlq.*``
headers back to the main topic with a ``dlq.replayed.from`` header naming that position.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from pipeline.bus.clients import BusProducer, dlq_topic, read_topic, topic_partitions
from pipeline.config import Settings
from pipeline.errors import NewsstreamError
from pipeline.records import ConsumedRecord

REPLAYED_FROM = "dlq.replayed.from"
NO_ACK = "no acknowledgement"


class UnknownDeadLetter(NewsstreamError):
    """An id given to `dlq replay --id` is not on the dead-letter topic."""


class NoDeadLetterTopic(NewsstreamError):
    """The topic has no dead-letter topic (yet)."""


@dataclass(frozen=True)
class DeadLetter:
    record: ConsumedRecord

    @property
    def id(self) -> str:
        return f"{self.record.partition}:{self.record.offset}"

    def header(self, name: str) -> str | None:
        """The last value of header ``name``, decoded (None when absent)."""
        values = [v for k, v in self.record.headers if k == name]
        return values[-1].decode("utf-8", "replace") if values and values[-1] is not None else None

    @property
    def reason(self) -> str:
        return self.header("dlq.reason") or "unknown"

    @property
    def source(self) -> str:
        topic, part, off = (self.header(f"dlq.source.{f}") for f in ("topic", "partition", "offset"))
        return f"{topic or '?'}[{part or '?'}]@{off or '?'}"

    @property
    def time(self) -> str | None:
        if (stamp := self.header("dlq.time")) is not None:
            return stamp
        ms = self.record.timestamp_ms
        return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if ms else None

    @property
    def key(self) -> str | None:
        return None if self.record.key is None else self.record.key.decode("utf-8", "replace")

    def original_headers(self) -> list[tuple[str, bytes]]:
        return [(k, v) for k, v in self.record.headers if not k.startswith("dlq.")]

    def row(self) -> dict[str, Any]:
        return {"id": self.id, "source": self.source, "reason": self.reason,
                "error_class": self.header("dlq.error.class"), "message": self.header("dlq.error.message"),
                "attempts": self.header("dlq.attempts"), "time": self.time, "key": self.key}


def read_dead_letters(settings: Settings, topic: str, *, reason: str | None = None,
                      limit: int | None = None, timeout: float = 30.0) -> list[DeadLetter]:
    """The dead letters of ``topic`` in (partition, offset) order, only ``reason`` ones when given."""
    name = dlq_topic(topic)
    if name not in topic_partitions(settings):
        raise NoDeadLetterTopic(f"there is no topic {name} at {settings.bootstrap_servers}: nothing was "
                                "dead-lettered yet, or --topic names another topic")
    letters = [DeadLetter(r) for r in read_topic(settings, name, timeout=timeout)]
    if reason is not None:
        letters = [d for d in letters if d.reason == reason]
    return letters[:limit] if limit is not None else letters


def parse_id(text: str) -> str:
    """``P:O`` with two non-negative integers, normalised (``"01:7"`` -> ``"1:7"``)."""
    part, sep, off = text.strip().partition(":")
    if not sep or not part.isdigit() or not off.isdigit():
        raise ValueError(f"{text!r} is not a dead-letter id PARTITION:OFFSET (see `newsstream dlq list`)")
    return f"{int(part)}:{int(off)}"


def choose(letters: Sequence[DeadLetter], *, ids: Iterable[str] = (), reason: str | None = None,
           everything: bool = False) -> list[DeadLetter]:
    """The dead letters picked by id (every id must exist), by reason, or all of them."""
    if everything:
        return list(letters)
    if reason is not None:
        return [d for d in letters if d.reason == reason]
    by_id = {d.id: d for d in letters}
    wanted = list(dict.fromkeys(parse_id(i) for i in ids))
    if missing := [i for i in wanted if i not in by_id]:
        raise UnknownDeadLetter(f"no dead letter {', '.join(missing)} on the dead-letter topic")
    return [by_id[i] for i in wanted]


@dataclass
class Replayed:
    letter: DeadLetter
    error: str | None = NO_ACK

    @property
    def ok(self) -> bool:
        return self.error is None


def replay(settings: Settings, topic: str, letters: Sequence[DeadLetter], *,
           timeout: float = 60.0) -> list[Replayed]:
    """Send each dead letter's original message to ``topic`` and wait for every acknowledgement."""
    results = [Replayed(d) for d in letters]
    if not results:
        return results
    producer = BusProducer(settings)
    try:
        for res in results:
            headers = [*res.letter.original_headers(), (REPLAYED_FROM, _position(res.letter).encode())]
            producer.send(topic, res.letter.record.value, key=res.letter.record.key, headers=headers,
                          on_ack=_settle(res))
        _flush(producer, results, timeout)
    finally:
        producer.close()
    return results


def _flush(producer: BusProducer, results: list[Replayed], timeout: float) -> None:
    """Wait for every answer; when the client gives up on the whole lot, the unanswered ones failed with it."""
    try:
        producer.flush(timeout)
    except Exception as exc:  # kafka-python raises from flush() once it aborted the batches
        producer.poll(0)
        for res in results:
            if res.error == NO_ACK:
                res.error = f"{type(exc).__name__}: {exc}"


def _settle(res: Replayed) -> Any:
    def on_ack(error: str | None, _latency: float) -> None:
        res.error = error
    return on_ack


def _position(letter: DeadLetter) -> str:
    return f"{letter.record.topic}[{letter.record.partition}]@{letter.record.offset}"
