"""Reading a topic from the beginning without a group: the DLQ listing, replay and tests."""

from __future__ import annotations

import time
from typing import Any

from pipeline.bus.config import MAX_MESSAGE_BYTES, common_kwargs, topic_partitions_of
from pipeline.config import Settings
from pipeline.records import ConsumedRecord


def read_topic(settings: Settings, topic: str, *, expect: int | None = None, timeout: float = 30.0,
               limit: int | None = None) -> list[ConsumedRecord]:
    """Every record on ``topic`` up to its end offsets when called (or ``expect`` records, waiting
    up to ``timeout`` for them to arrive)."""
    from kafka import KafkaConsumer

    consumer: Any = KafkaConsumer(**common_kwargs(settings), enable_auto_commit=False,
                                  max_partition_fetch_bytes=MAX_MESSAGE_BYTES, fetch_max_bytes=4 * MAX_MESSAGE_BYTES)
    out: list[ConsumedRecord] = []
    try:
        deadline = time.monotonic() + timeout
        tps = topic_partitions_of(consumer, topic, timeout)
        if not tps:
            return out
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        while time.monotonic() < deadline:
            for tp, records in consumer.poll(timeout_ms=300, max_records=1000).items():
                for r in records:
                    ts = r.timestamp if r.timestamp_type == 0 and r.timestamp and r.timestamp > 0 else None
                    out.append(ConsumedRecord(tp.topic, tp.partition, r.offset, r.key, r.value,
                                              list(r.headers or []), ts))
            if limit is not None and len(out) >= limit:
                break
            if expect is not None:
                if len(out) >= expect:
                    break
                continue
            if all(consumer.position(tp) >= ends[tp] for tp in tps):
                break
    finally:
        consumer.close()
    out.sort(key=lambda r: (r.partition, r.offset))
    return out[:limit] if limit is not None else out
