"""Guarantees under real failures: SIGKILL mid-batch, PostgreSQL down, broker restart, rebalance.

Real broker, real PostgreSQL. Each run's database must hold exactly what a clean run of the
same 300 articles holds, table by table: nothing lost, nothing doubled.
"""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from pipeline.article import Article
from pipeline.bus.broker import LocalBroker
from pipeline.bus.clients import ensure_topic
from pipeline.config import Settings, load_settings
from pipeline.store.db import upgrade
from tests.pipeline_helpers import count, dump, produce_articles, start_consumer, synthetic_articles, wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]
N = 300


def comparable(d: dict[str, list[tuple]]) -> dict[str, Any]:
    """Which alias names which entity depends on arrival order ("first writer wins"); the alias set does not."""
    out: dict[str, Any] = dict(d)
    out["aliases"] = sorted({row[:2] for row in d["aliases"]})
    return out


def fresh_pg(pg_server: Any) -> str:
    url = pg_server.create_database(f"f_{uuid.uuid4().hex[:10]}")
    upgrade(url)
    return url


def settings_for(broker: LocalBroker, topic: str) -> Settings:
    return load_settings(bootstrap_servers=broker.bootstrap, topic=topic, group=f"g.{uuid.uuid4().hex[:8]}")


@pytest.fixture(scope="module")
def articles() -> list[Article]:
    return synthetic_articles(N, paragraphs=5)


@pytest.fixture(scope="module")
def reference(kafka_broker: LocalBroker, pg_server: Any, articles: list[Article]) -> Iterator[dict[str, Any]]:
    """A clean run: the 300 articles through one undisturbed worker."""
    s = settings_for(kafka_broker, f"ref.{uuid.uuid4().hex[:8]}")
    ensure_topic(s, partitions=3)
    produce_articles(s.bootstrap_servers, s.topic, articles)
    url = fresh_pg(pg_server)
    proc = start_consumer(s, url, "--no-migrate", "--batch-size", "16")
    wait_until(lambda: count(url) == N, 300, "the clean run to store every article")
    proc.finish()
    ref = comparable(dump(url))
    assert len(ref["articles"]) == N and len(ref["mentions"]) > 3 * N and len(ref["events"]) > N // 2
    yield ref


def start_run(kafka_settings: Settings, pg_server: Any, articles: list[Article]) -> str:
    produce_articles(kafka_settings.bootstrap_servers, kafka_settings.topic, articles)
    return fresh_pg(pg_server)


def test_sigkill_three_times_mid_batch_loses_and_doubles_nothing(reference: dict, kafka_settings: Settings,
                                                                 pg_server: Any, articles: list[Article]) -> None:
    url = start_run(kafka_settings, pg_server, articles)
    for kill in range(3):
        before = count(url)
        proc = start_consumer(kafka_settings, url, "--no-migrate", "--batch-size", "16")
        wait_until(lambda b=before: count(url) >= b + 40, 120, f"progress before kill {kill + 1}", step=0.05)
        assert proc.kill() == -signal.SIGKILL
    assert count(url) < N
    proc = start_consumer(kafka_settings, url, "--no-migrate", "--batch-size", "16")
    wait_until(lambda: count(url) == N, 300, "the restarted worker to store every article")
    proc.finish()
    assert comparable(dump(url)) == reference


def test_postgres_down_for_20_seconds_mid_run(reference: dict, kafka_settings: Settings, pg_server: Any,
                                              articles: list[Article]) -> None:
    url = start_run(kafka_settings, pg_server, articles)
    proc = start_consumer(kafka_settings, url, "--no-migrate", "--batch-size", "16", "--retry-seconds", "180")
    try:
        wait_until(lambda: count(url) >= 50, 120, "progress before the outage")
        pg_server.stop()
        time.sleep(20)
        assert proc.poll() is None, "the worker exited while the database was down"
    finally:
        pg_server.start()
    wait_until(lambda: count(url) == N, 300, "the worker to finish after the database came back")
    log = proc.finish()
    assert "database unavailable: partitions paused, retrying" in log
    assert "database is back: partitions resumed" in log
    assert comparable(dump(url)) == reference


def test_broker_restart_mid_run(reference: dict, kafka_settings: Settings, kafka_broker: LocalBroker,
                                pg_server: Any, articles: list[Article]) -> None:
    url = start_run(kafka_settings, pg_server, articles)
    proc = start_consumer(kafka_settings, url, "--no-migrate", "--batch-size", "16")
    wait_until(lambda: count(url) >= 50, 120, "progress before the broker restart")
    kafka_broker.stop()
    time.sleep(3)
    kafka_broker.start(timeout=120)
    assert proc.poll() is None, "the worker exited while the broker was down"
    wait_until(lambda: count(url) == N, 300, "the worker to finish after the broker came back")
    proc.finish()
    assert comparable(dump(url)) == reference


def test_a_second_worker_joins_and_leaves_mid_run(reference: dict, kafka_settings: Settings, pg_server: Any,
                                                  articles: list[Article]) -> None:
    url = start_run(kafka_settings, pg_server, articles)
    first = start_consumer(kafka_settings, url, "--no-migrate", "--batch-size", "8")
    wait_until(lambda: count(url) >= 40, 120, "the first worker's progress")
    second = start_consumer(kafka_settings, url, "--no-migrate", "--batch-size", "8")
    wait_until(lambda: "batch committed" in second.log, 120, "the second worker to get partitions and commit")
    assert count(url) < N, "the first worker finished before the second joined: nothing was rebalanced"
    second_log = second.finish()
    wait_until(lambda: count(url) == N, 300, "the first worker to finish alone")
    first_log = first.finish()
    assert "partitions assigned" in second_log
    assert first_log.count("partitions revoked") >= 1 and first_log.count("partitions assigned") >= 2
    assert comparable(dump(url)) == reference
