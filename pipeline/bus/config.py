"""kafka-python client settings built from ours: one place says how every client is configured."""

from __future__ import annotations

import socket
from typing import Any

from pipeline.config import Settings

MAX_MESSAGE_BYTES = 8 * 1024 * 1024  # what our producers may send and our consumers must be able to fetch
COMPRESSION = {"none": None, "gzip": "gzip", "lz4": "lz4", "zstd": "zstd"}


def common_kwargs(settings: Settings) -> dict[str, Any]:
    return {
        "bootstrap_servers": settings.bootstrap_servers.split(","),
        "client_id": "newsstream",
        "reconnect_backoff_max_ms": 2_000,  # a restarted broker is found again within 2 s
        "bootstrap_timeout_ms": 5_000,  # an unreachable broker is reported within seconds, not half a minute
        **settings.kafka_security(),
    }


def topic_partitions_of(consumer: Any, topic: str, timeout: float) -> list[Any]:
    """The TopicPartitions of ``topic`` as a client sees them, waiting up to ``timeout`` for a new
    topic's metadata (empty when it has none by then)."""
    import time

    from kafka import TopicPartition

    deadline = time.monotonic() + timeout
    parts = consumer.partitions_for_topic(topic)
    while not parts and time.monotonic() < deadline:
        time.sleep(0.2)
        parts = consumer.partitions_for_topic(topic)
    return [TopicPartition(topic, p) for p in sorted(parts or [])]


def producer_kwargs(settings: Settings, **overrides: Any) -> dict[str, Any]:
    """Delivery settings: acks=all, idempotence, retries until the delivery timeout, compression, linger."""
    conf: dict[str, Any] = {
        **common_kwargs(settings),
        "acks": "all",
        "enable_idempotence": True,
        "compression_type": COMPRESSION[settings.compression],
        "linger_ms": 20,
        "batch_size": 256 * 1024,
        "max_request_size": MAX_MESSAGE_BYTES,
        "retry_backoff_ms": 200,
        "delivery_timeout_ms": 120_000,
        "request_timeout_ms": 30_000,
        "max_block_ms": int(settings.producer_max_block_seconds * 1000),
    }
    conf.update(overrides)
    return conf


def default_instance_id(index: int = 0) -> str:
    """Static membership id: the same after a restart on the same host, so the group waits for it."""
    return f"{socket.gethostname()}-{index}"


def consumer_kwargs(settings: Settings, *, group: str, from_beginning: bool = True,
                    instance_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    """A consumer that never commits by itself: offsets are committed after the database commit."""
    from kafka.coordinator.assignors.cooperative_sticky import CooperativeStickyAssignor

    conf: dict[str, Any] = {
        **common_kwargs(settings),
        "group_id": group,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest" if from_beginning else "latest",
        "partition_assignment_strategy": [CooperativeStickyAssignor],
        "session_timeout_ms": settings.session_timeout_ms,
        "heartbeat_interval_ms": max(500, settings.session_timeout_ms // 4),
        "max_poll_interval_ms": settings.max_poll_interval_ms,
        "max_partition_fetch_bytes": MAX_MESSAGE_BYTES,
        "fetch_max_bytes": 4 * MAX_MESSAGE_BYTES,
        "request_timeout_ms": max(30_000, settings.session_timeout_ms + 5_000),
    }
    if instance_id:
        conf["group_instance_id"] = instance_id
    conf.update(overrides)
    return conf
