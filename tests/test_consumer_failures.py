"""Guarantees under real failures: SIGKILL mid-batch and restart, PostgreSQL down (also for longer than
the max poll interval), broker restart, a worker joining and leaving, the dead-letter topic unwritable.

Real broker, real PostgreSQL. Each run's database must hold exactly what a clean run of the
same 300 articles holds, table by table: nothing lost, nothing doubled. Recovery times are printed.
"""

from __future__ import annotations

import re
import signal
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from pipeline.article import Article, encode
from pipeline.bus.admin import committed_offsets, set_topic_config
from pipeline.bus.broker import LocalBroker
from pipeline.bus.clients import dlq_topic, ensure_topic, read_topic
from pipeline.config import Settings, load_settings
from pipeline.store.db import upgrade
from tests.pipeline_helpers import (
    count,
    dump,
    produce_articles,
    send_raw,
    start_consumer,
    synthetic_articles,
    wait_until,
)

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
    # then what an operator runs to finish the job: it must not stop before every message is stored
    started = time.monotonic()
    proc = start_consumer(kafka_settings, url, "--no-migrate", "--batch-size", "16", "--until-idle", "3")
    assert proc.wait(timeout=300) == 0, proc.log[-3000:]
    print(f"recovery: the rest stored and caught up in {time.monotonic() - started:.1f}s")
    assert "lag left 0" in proc.log
    assert comparable(dump(url)) == reference


def first_commit_after(proc: Any, since: float, timeout: float = 120) -> float:
    wait_until(lambda: "batch committed" in proc.log, timeout, "the first commit")
    return time.monotonic() - since


def test_a_worker_restarted_after_sigkill_gets_its_partitions_back_at_once(reference: dict,
                                                                          kafka_settings: Settings, pg_server: Any,
                                                                          articles: list[Article]) -> None:
    """Static membership: the group waits for the member to come back instead of for its session to expire
    (30 s here, so that waiting for it could not be mistaken for a quick restart)."""
    url = start_run(kafka_settings, pg_server, articles)
    env = {"NEWSSTREAM_SESSION_TIMEOUT_MS": "30000"}
    cold_start = time.monotonic()
    proc = start_consumer(kafka_settings, url, "--no-migrate", "--batch-size", "16", env=env)
    cold = first_commit_after(proc, cold_start)
    proc.kill()
    restart = time.monotonic()
    proc = start_consumer(kafka_settings, url, "--no-migrate", "--batch-size", "16", env=env)
    warm = first_commit_after(proc, restart)
    print(f"first commit: cold start {cold:.1f}s, restart after SIGKILL {warm:.1f}s")
    assert warm < 20, f"the restarted worker waited {warm:.1f}s: it waited for the dead member's session"
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


def test_postgres_down_longer_than_the_max_poll_interval(reference: dict, kafka_settings: Settings,
                                                        pg_server: Any, articles: list[Article]) -> None:
    """While paused for the database the worker keeps polling the group: it is not evicted."""
    url = start_run(kafka_settings, pg_server, articles)
    env = {"NEWSSTREAM_MAX_POLL_INTERVAL_MS": "6000"}
    proc = start_consumer(kafka_settings, url, "--no-migrate", "--batch-size", "16", "--retry-seconds", "180",
                          env=env)
    try:
        wait_until(lambda: count(url) >= 50, 120, "progress before the outage")
        pg_server.stop()
        time.sleep(25)  # four max poll intervals
        assert proc.poll() is None, "the worker exited while the database was down"
    finally:
        pg_server.start()
    back = time.monotonic()
    wait_until(lambda: count(url) > 50 + 16, 120, "a batch after the database came back")
    print(f"recovery: first batch stored {time.monotonic() - back:.1f}s after PostgreSQL came back")
    wait_until(lambda: count(url) == N, 300, "the worker to finish after the database came back")
    log = proc.finish()
    assert "database unavailable: partitions paused, retrying" in log
    assert log.count("partitions assigned") == 1 and "partitions revoked" not in log.split("stopping")[0], \
        "the worker lost its membership during the outage"
    assert comparable(dump(url)) == reference


def test_an_unwritable_dead_letter_topic_is_waited_out_and_nothing_is_dropped(kafka_settings: Settings,
                                                                              pg_server: Any) -> None:
    s = kafka_settings
    url = fresh_pg(pg_server)
    dlq = dlq_topic(s.topic)
    ensure_topic(s, dlq, partitions=1)
    set_topic_config(s, dlq, {"max.message.bytes": "64"})  # every dead letter is refused by the broker
    good = synthetic_articles(6, seed=5)
    poison = [(b"poison-1", b"{not json" + b" " * 200), (b"poison-2", b"[" * 300)]
    send_raw(s.bootstrap_servers, s.topic, [(good[0].id.encode(), encode(good[0])), *poison,
                                            *((a.id.encode(), encode(a)) for a in good[1:])], partition=0)
    proc = start_consumer(s, url, "--no-migrate", "--retry-seconds", "120")
    try:
        wait_until(lambda: "dead-letter topic unavailable: partitions paused" in proc.log, 120, "the DLQ outage")
        time.sleep(3)
        assert proc.poll() is None, "the worker gave up although its deadline had not passed"
        assert committed_offsets(s, s.group, s.topic).get(0, 0) == 0, "offsets committed before the DLQ took it"
    finally:
        set_topic_config(s, dlq, {"max.message.bytes": "1048588"})
    fixed = time.monotonic()
    wait_until(lambda: committed_offsets(s, s.group, s.topic).get(0, 0) == len(good) + 2, 120, "the commit")
    print(f"recovery: batch committed {time.monotonic() - fixed:.1f}s after the DLQ was writable again")
    log = proc.finish()
    assert "dead-letter topic is back: partitions resumed" in log
    assert sorted(r.key for r in read_topic(s, dlq, expect=2)) == [b"poison-1", b"poison-2"]
    assert count(url) == len(good)


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
    half = len(articles) // 2
    url = start_run(kafka_settings, pg_server, articles[:half])
    env = {"NEWSSTREAM_SESSION_TIMEOUT_MS": "30000"}  # a handover faster than this is the clean leave's
    first = start_consumer(kafka_settings, url, "--no-migrate", "--batch-size", "8", "--instance-id", "w-a", env=env)
    wait_until(lambda: count(url) >= 16, 120, "the first worker's progress")
    second = start_consumer(kafka_settings, url, "--no-migrate", "--batch-size", "8", "--instance-id", "w-b", env=env)
    # the rest once the second owns partitions: the first may have read its partitions to the end meanwhile
    wait_until(lambda: "partitions assigned" in second.log, 120, "the second worker to get partitions")
    produce_articles(kafka_settings.bootstrap_servers, kafka_settings.topic, articles[half:])
    wait_until(lambda: "batch committed" in second.log, 120, "the second worker to commit")
    assert count(url) < N, "the first worker finished before the second joined: nothing was rebalanced"
    assigned_before = first.log.count("partitions assigned")
    second_log = second.finish()
    left = time.monotonic()
    wait_until(lambda: first.log.count("partitions assigned") > assigned_before, 60, "the partitions handed back")
    handover = time.monotonic() - left
    print(f"handover after SIGTERM: {handover:.1f}s")
    assert handover < 15, "the leaving worker's partitions waited for its session to expire"
    wait_until(lambda: count(url) == N, 300, "the first worker to finish alone")
    first_log = first.finish()
    assert "partitions assigned" in second_log
    assert first_log.count("partitions revoked") >= 1 and first_log.count("partitions assigned") >= 2
    assert comparable(dump(url)) == reference
    # and no article was processed twice: a batch being written when its partitions moved was handed
    # over at its end, not read again by the new owner
    assert processed(first_log) + processed(second_log) == N, (processed(first_log), processed(second_log))


def processed(log: str) -> int:
    """The articles a worker's "batch committed" lines count."""
    return sum(int(m) for m in re.findall(r'"articles": (\d+), "seconds": [\d.]+, "event": "batch committed"', log))
