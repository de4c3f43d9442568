"""Real Kafka broker fixtures: the same code as `newsstream broker start`, on free ports.

No mock or fake of Kafka: one real KRaft broker per test session, a unique topic and
consumer group per test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.bus.broker import LocalBroker, free_port
from pipeline.bus.clients import ensure_topic
from pipeline.bus.reader import read_topic as _read_topic
from pipeline.config import Settings, load_settings
from pipeline.errors import ToolMissing
from pipeline.records import ConsumedRecord

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    home = tmp_path_factory.mktemp("kafka")
    broker = LocalBroker(home, port=free_port(), controller_port=free_port(), jars_dir=ROOT / ".kafka" / "jars")
    try:
        broker.start(timeout=120)
    except ToolMissing as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the Kafka tests must run in CI: {exc}")
        pytest.skip(str(exc))
    yield broker
    broker.stop()


@pytest.fixture
def kafka_topic(kafka_broker: LocalBroker) -> str:
    """A fresh topic (3 partitions) for one test."""
    name = f"test.{uuid.uuid4().hex[:10]}"
    ensure_topic(load_settings(bootstrap_servers=kafka_broker.bootstrap), name, partitions=3)
    return name


@pytest.fixture
def kafka_settings(kafka_broker: LocalBroker, kafka_topic: str) -> Settings:
    return load_settings(bootstrap_servers=kafka_broker.bootstrap, topic=kafka_topic,
                         group=f"g.{uuid.uuid4().hex[:10]}", metrics_port=0)


def read_topic(bootstrap: str, topic: str, *, expect: int | None = None, timeout: float = 30.0) -> list[ConsumedRecord]:
    """Every message on ``topic`` from the beginning (waits for ``expect`` messages when given)."""
    return _read_topic(load_settings(bootstrap_servers=bootstrap), topic, expect=expect, timeout=timeout)
