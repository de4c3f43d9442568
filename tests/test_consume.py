"""Articles flow from files through the real broker into SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry

from consumers.worker import Worker
from pipeline.article import Article, encode
from pipeline.bus.admin import committed_offsets
from pipeline.config import Settings
from pipeline.extract import load_nlp
from pipeline.metrics import Metrics
from pipeline.store.db import make_engine
from tests.conftest import SAMPLES
from tests.fixtures_kafka import read_topic
from tests.pipeline_helpers import send_raw

pytestmark = pytest.mark.kafka
ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "newsstream_cli", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        out = {t: conn.execute(sa.text(f"select count(*) from {t}")).scalar_one()
               for t in ("articles", "entities", "mentions", "events")}
    engine.dispose()
    return out


def consume(s: Settings, url: str, *extra: str, group: str | None = None) -> subprocess.CompletedProcess:
    res = cli("consume", "--bootstrap-servers", s.bootstrap_servers, "--topic", s.topic, "--database-url", url,
              "--group", group or s.group, "--metrics-port", "-1", *extra)
    assert res.returncode == 0, res.stderr[-3000:]
    return res


def n_samples() -> int:
    jsonl = (SAMPLES / "articles.jsonl").read_text().splitlines()
    return len(list(SAMPLES.glob("*.txt"))) + sum(1 for line in jsonl if line.strip())


def test_samples_flow_into_the_database_and_a_second_pass_changes_nothing(kafka_settings: Settings,
                                                                          db_url: str) -> None:
    s = kafka_settings
    res = cli("produce", "--bootstrap-servers", s.bootstrap_servers, "--topic", s.topic, "--metrics-port", "-1",
              str(SAMPLES))
    assert res.returncode == 0, res.stderr
    n = n_samples()

    out = consume(s, db_url, "--until-idle", "5")
    assert out.stdout.strip().splitlines()[-1].startswith(f"consumed {n}, stored {n}, dead-lettered 0,")
    first = counts(db_url)
    assert first["articles"] == n
    assert first["entities"] >= 2 * n and first["mentions"] >= first["entities"]
    assert first["events"] >= n // 2

    # a new group re-reads every message: writes are idempotent, nothing is doubled
    consume(s, db_url, "--until-idle", "5", group=f"again.{uuid.uuid4().hex[:6]}")
    assert counts(db_url) == first


def test_offsets_are_committed_only_for_what_the_database_holds(kafka_settings: Settings, db_url: str) -> None:
    s = kafka_settings
    arts = [Article.build(body=f"Mayor Ana Ruiz visited Lisbon on day {i}.", title=f"visit {i}") for i in range(7)]
    send_raw(s.bootstrap_servers, s.topic, [(a.id.encode(), encode(a)) for a in arts])

    consume(s, db_url, "--max-articles", "3", "--batch-size", "1")
    assert counts(db_url)["articles"] == 3
    assert committed_total(s) == 3

    consume(s, db_url, "--until-idle", "4")
    assert counts(db_url)["articles"] == 7
    assert committed_total(s) == 7


def committed_total(s: Settings) -> int:
    return sum(committed_offsets(s, s.group, s.topic).values())


def test_poison_messages_go_to_the_dead_letter_topic_and_good_ones_are_stored(kafka_settings: Settings,
                                                                              db_url: str) -> None:
    s = kafka_settings
    good = [Article.build(body=f"Officials in Quito reported case {i}.", title=f"case {i}") for i in range(4)]
    bad = {
        "bad_json": b"{not json",
        "bad_schema_version": json.dumps({"schema_version": 7, "id": "x", "body": "b"}).encode(),
        "bad_encoding": b"\xff\xfe\xfa binary",
        "missing_body": json.dumps({"schema_version": 1, "id": "y"}).encode(),
    }
    values = [encode(good[0]), *bad.values(), *(encode(a) for a in good[1:])]
    send_raw(s.bootstrap_servers, s.topic, [(b"k", v) for v in values])  # one key: one partition, poison inside

    metrics = Metrics(registry=CollectorRegistry())
    worker = Worker(s, engine=make_engine(db_url), nlp=load_nlp(), metrics=metrics)
    stats = worker.run(until_idle=4)
    assert (stats.consumed, stats.processed, stats.dead_lettered) == (8, 4, 4)
    assert counts(db_url)["articles"] == 4

    dead = read_topic(s.bootstrap_servers, f"{s.topic}.dlq", expect=4)
    assert sorted(m.value for m in dead) == sorted(bad.values())
    for m in dead:
        headers = {k: v.decode() for k, v in m.headers}
        assert headers["dlq.error.class"] == "InvalidArticle"
        assert headers["dlq.reason"] in bad
        assert headers["dlq.source.topic"] == s.topic
        assert int(headers["dlq.source.offset"]) in range(1, 5)
        assert headers["dlq.error.message"]
    for reason in bad:
        assert metrics.registry.get_sample_value("newsstream_dlq_messages_total", {"reason": reason}) == 1
    assert metrics.registry.get_sample_value("newsstream_articles_processed_total") == 4


def test_a_running_consumer_serves_its_metrics(kafka_settings: Settings, db_url: str) -> None:
    import time
    import urllib.request

    from pipeline.bus.broker import free_port

    s = kafka_settings
    art = Article.build(body="The council of Ghent approved the budget.", title="budget")
    send_raw(s.bootstrap_servers, s.topic, [(art.id.encode(), encode(art))])
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "newsstream_cli", "consume", "--bootstrap-servers",
                             s.bootstrap_servers, "--topic", s.topic, "--database-url", db_url, "--group", s.group,
                             "--metrics-port", str(port), "--until-idle", "8"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        page = ""
        while time.monotonic() < deadline and "newsstream_articles_processed_total 1.0" not in page:
            time.sleep(0.3)
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
            except OSError:
                continue
        assert "newsstream_articles_processed_total 1.0" in page
        assert "newsstream_messages_consumed_total 1.0" in page
        assert 'newsstream_build_info{spacy_model="en_core_web_sm"' in page
    finally:
        _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-2000:]
