"""Plain record types that travel between the rooms, with no behaviour of their own.

Knows nothing of Kafka, SQL or spaCy: the bus turns client messages into ``ConsumedRecord``
and the store reads ``Position``, so neither needs the other's library.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Position:
    """Where a message came from: what an article row records of its delivery."""

    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class ConsumedRecord:
    """One message read from Kafka, as the consumer loop sees it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]] = field(default_factory=list)
    timestamp_ms: int | None = None  # CreateTime when the producer set it, else None

    @property
    def position(self) -> Position:
        return Position(self.topic, self.partition, self.offset)

    @property
    def origin(self) -> str:
        """How error messages name this record: ``topic[partition]@offset``."""
        return f"{self.topic}[{self.partition}]@{self.offset}"
