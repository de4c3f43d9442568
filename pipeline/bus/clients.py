"""The bus's front door: what the rest of newsstream imports to talk to Kafka (kafka-python).

Producers and consumers get our own small interface (``BusProducer``, ``BusConsumer``) and plain
records (``pipeline.records.ConsumedRecord``); no other package imports ``kafka``.
"""

from __future__ import annotations

from typing import Any

from pipeline.bus.admin import (
    dlq_topic,
    end_offsets,
    ensure_topic,
    group_lag,
    topic_is_empty,
    topic_max_message_bytes,
    topic_partitions,
)
from pipeline.bus.config import default_instance_id
from pipeline.bus.consumer import BusConsumer, CommitFailed, InstanceFenced
from pipeline.bus.producer import BusProducer, ProducerStalled, send_all
from pipeline.bus.reader import read_topic
from pipeline.config import Settings

__all__ = ["BusConsumer", "BusProducer", "CommitFailed", "InstanceFenced", "ProducerStalled", "default_instance_id",
           "dlq_topic", "end_offsets", "ensure_topic", "group_lag", "make_consumer", "make_producer", "read_topic",
           "send_all", "topic_is_empty", "topic_max_message_bytes", "topic_partitions"]


def make_producer(settings: Settings, **overrides: Any) -> BusProducer:
    return BusProducer(settings, **overrides)


def make_consumer(settings: Settings, *, group: str | None = None, from_beginning: bool = True,
                  instance_id: str | None = None, **overrides: Any) -> BusConsumer:
    return BusConsumer(settings, group=group or settings.group, from_beginning=from_beginning,
                       instance_id=instance_id, **overrides)
